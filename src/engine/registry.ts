/**
 * The node-type registry: each type is `{ type, schema, execute }`. Built-in types are registered by
 * `createRegistry()` (builtins.ts); an engine adds its own with `register`. A registry is an ordinary
 * object: there is no global one, so two engines (or two tests) never see each other's types.
 */
import { z } from 'zod';
import type { HttpJob, HttpResult, RunOptions } from '../index.js';
import { NodeTypeError } from './errors.js';
import type { BodyDecoding } from './go-body.js';
import type { TemplateMode } from './templates.js';
import type { TraceSpan } from './tracing.js';

/**
 * What the workflow layer needs of a runtime: its `run`. A runtime fits, and so does anything with the
 * same shape (a queue client, a test double): the untyped signature, the last of run()'s overloads.
 */
export interface JobRunner {
  run(job: HttpJob, options?: RunOptions): Promise<HttpResult>;
}

/** Which outcome of its source an edge carries. */
export type EdgePort = 'success' | 'error';

/** One input of a node, in the order of the workflow's `edges`. */
export interface NodeInput {
  /** The id of the node it came from. */
  readonly source: string;
  /** `error` when it came along an error edge: `value` is then a `NodeErrorInfo` (`{ code, message }`). */
  readonly port: EdgePort;
  readonly value: unknown;
}

/** What a node's `execute` gets besides its inputs and data. */
export interface NodeContext {
  /** Where HTTP work must go through (the runtime, or anything with its `run`). */
  readonly runtime: JobRunner;
  /**
   * How response bodies become text in this run (the executor's `bodyDecoding`).
   * @default 'charset' (when a caller builds a context without it)
   */
  readonly bodyDecoding?: BodyDecoding;
  /** Aborted when the workflow stops (a failure elsewhere, or the caller's signal). */
  readonly signal: AbortSignal;
  readonly nodeId: string;
  /** The caller's id for this run (or the workflow's `workflow_id`), if there is one. */
  readonly workflowId: string | undefined;
  /** This run's id (16 hex characters, as the Go engine makes them). */
  readonly executionId: string;
  /**
   * `text` with its templates filled from this node's inputs, upstream outputs and context values
   * (templates.ts); `mode: 'url'` URL-encodes values that land in a path or query. Throws a `NodeError`
   * for a missing reference.
   */
  render(text: string, mode?: TemplateMode): string;
  /** A JSON value with its templates filled; a string that is exactly one template becomes the value. */
  renderValue(value: unknown): unknown;
  /** Sets a context variable or constant that later nodes' templates read (context nodes). */
  setContextValue(kind: 'variable' | 'const', name: string, value: unknown): void;
  /** This node's trace span (a no-op one when tracing is off); an HTTP job's span is opened under it. */
  readonly span: TraceSpan;
}

/**
 * A node type. `schema` validates `data` before the workflow runs (and is exported as JSON Schema for
 * forms); `execute` receives the parsed data. Throw a `NodeError` (or any error with a string `code`)
 * to fail the node; return any value as its output.
 */
export interface NodeType<S extends z.ZodType = z.ZodType> {
  readonly type: string;
  readonly description?: string;
  readonly schema: S;
  execute(inputs: readonly NodeInput[], data: z.output<S>, context: NodeContext): unknown;
  /**
   * Started before any other node that is ready at the same time (context nodes), so that templates of
   * the nodes started with them already see the values they set.
   */
  readonly runsFirst?: boolean;
}

/** Identity helper that infers `data`'s type from the schema. */
export function defineNodeType<S extends z.ZodType>(nodeType: NodeType<S>): NodeType<S> {
  return nodeType;
}

const TYPE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** A JSON Schema document, as produced by `z.toJSONSchema`. */
export type JSONSchema = Record<string, unknown>;

export class NodeRegistry {
  readonly #types = new Map<string, NodeType>();

  constructor(types: Iterable<NodeType> = []) {
    for (const nodeType of types) this.register(nodeType);
  }

  /** Adds a node type; a type name already taken is refused unless `replace` is set. */
  register<S extends z.ZodType>(nodeType: NodeType<S>, options: { readonly replace?: boolean } = {}): this {
    const name: unknown = nodeType.type;
    if (typeof name !== 'string' || !TYPE_NAME.test(name)) {
      throw new NodeTypeError(
        `node type: type: expected a name of letters, digits, "_", "." or "-" starting with a letter, received ${JSON.stringify(name)}`,
      );
    }
    if (!(nodeType.schema instanceof z.ZodType))
      throw new NodeTypeError(`node type "${name}": schema: expected a zod schema`);
    if (typeof nodeType.execute !== 'function')
      throw new NodeTypeError(`node type "${name}": execute: expected a function`);
    if (this.#types.has(name) && options.replace !== true) {
      throw new NodeTypeError(`node type "${name}" is already registered (pass { replace: true } to override it)`);
    }
    this.#types.set(name, nodeType);
    return this;
  }

  get(type: string): NodeType | undefined {
    return this.#types.get(type);
  }

  has(type: string): boolean {
    return this.#types.has(type);
  }

  /** Registered type names, in registration order. */
  types(): string[] {
    return [...this.#types.keys()];
  }

  /**
   * The JSON Schema of a type's `data` (the input side: fields with defaults are optional), for an
   * engine's UI to draw the node's form. Parts JSON Schema cannot express are left open (`{}`).
   */
  toJSONSchema(type: string): JSONSchema {
    const nodeType = this.#types.get(type);
    if (nodeType === undefined)
      throw new NodeTypeError(`unknown node type ${JSON.stringify(type)} (known: ${this.types().join(', ')})`);
    const schema = z.toJSONSchema(nodeType.schema, { io: 'input', unrepresentable: 'any' }) as JSONSchema;
    return nodeType.description === undefined || 'description' in schema
      ? schema
      : { ...schema, description: nodeType.description };
  }

  /** Every type's JSON Schema, keyed by type name. */
  toJSONSchemas(): Record<string, JSONSchema> {
    return Object.fromEntries(this.types().map((type) => [type, this.toJSONSchema(type)]));
  }
}
