/**
 * The shape of a workflow and its validation. Everything is checked before anything runs: the JSON shape
 * (strict: unknown keys are refused), duplicate ids, dangling edges, unknown node types, each node's data
 * against its type's schema, and cycles. All problems are reported at once, each naming the node and field.
 */
import { z } from 'zod';
import { WorkflowValidationError, type WorkflowIssue } from './errors.js';
import { describeReceived } from '../errors/flowpool-error.js';
import { valueAt } from '../errors/validation.js';
import { findCycle } from './graph.js';
import { inferNodeType, INFERENCE_HINT } from './infer-type.js';
import { findReferences } from './templates.js';
import type { EdgePort, NodeRegistry, NodeType } from './registry.js';

/** Bounds that keep a hostile workflow from costing more than a large legitimate one. */
export const MAX_NODES = 10_000;
export const MAX_EDGES = 100_000;

export const edgePortSchema = z.enum(['success', 'error']);

export const workflowNodeSchema = z.strictObject({
  id: z.string().min(1).max(256),
  /** Missing: inferred from `data` by the Go engine's rules (infer-type.ts). */
  type: z.string().min(1).max(64).optional(),
  /** The node's configuration, validated by its type's schema. Missing is the same as `{}`. */
  data: z.unknown().optional(),
});

export const workflowEdgeSchema = z.strictObject({
  /** Carried by the Go format; not used. */
  id: z.string().max(256).optional(),
  /** A name for people; not used. */
  label: z.string().max(1_000).optional(),
  source: z.string(),
  target: z.string(),
  /** Which outcome of `source` the edge carries. @default 'success' */
  port: edgePortSchema.optional(),
});

export const workflowSchema = z.strictObject({
  /** The Go format's workflow identifier: the run's `workflowId` unless the caller gives one. */
  workflow_id: z.string().max(256).optional(),
  /** May be empty: the run then succeeds at once with no results (as Go runs `{"nodes":[],"edges":[]}`). */
  nodes: z.array(workflowNodeSchema).max(MAX_NODES),
  /** @default [] */
  edges: z.array(workflowEdgeSchema).max(MAX_EDGES).optional(),
});

/** A workflow as written (JSON). */
export type WorkflowDefinition = z.input<typeof workflowSchema>;
export type WorkflowNodeDefinition = z.input<typeof workflowNodeSchema>;
export type WorkflowEdgeDefinition = z.input<typeof workflowEdgeSchema>;

export interface ValidatedEdge {
  /** Position in the workflow's `edges`: the order inputs arrive in. */
  readonly index: number;
  readonly source: string;
  readonly target: string;
  readonly port: EdgePort;
}

export interface ValidatedNode {
  readonly id: string;
  /** As written, or inferred from `data` when the node had none. */
  readonly type: string;
  /** Position in the workflow's `nodes`. */
  readonly index: number;
  /** `data` as parsed by the type's schema (defaults applied). */
  readonly data: unknown;
  readonly nodeType: NodeType;
  /** Edges into the node, in `edges` order. */
  readonly incoming: readonly ValidatedEdge[];
  readonly outgoing: readonly ValidatedEdge[];
}

/** A workflow that passed validation; it can run any number of times, concurrently. */
export interface ValidatedWorkflow {
  /** The workflow's `workflow_id`, when it has one. */
  readonly workflowId: string | undefined;
  readonly nodes: readonly ValidatedNode[];
  readonly edges: readonly ValidatedEdge[];
}

const validated = new WeakSet<object>();

/** True for an object returned by {@link validateWorkflow} (not for a look-alike). */
export function isValidatedWorkflow(value: unknown): value is ValidatedWorkflow {
  return typeof value === 'object' && value !== null && validated.has(value);
}

/** Validates a workflow against a registry; throws {@link WorkflowValidationError} listing every problem. */
export function validateWorkflow(input: unknown, registry: NodeRegistry): ValidatedWorkflow {
  const shape = workflowSchema.safeParse(input);
  if (!shape.success) {
    throw new WorkflowValidationError(
      shape.error.issues.map((issue) => {
        const nodeId = nodeIdAt(input, issue.path);
        const found = fromZodIssue(issue, input, 'workflow', [], nodeId);
        return nodeId === undefined ? found : { ...found, message: `${found.message} (node ${quote(nodeId)})` };
      }),
    );
  }
  const { nodes } = shape.data;
  const edges = shape.data.edges ?? [];
  const issues: WorkflowIssue[] = [];

  const firstIndex = new Map<string, number>();
  nodes.forEach((node, index) => {
    const first = firstIndex.get(node.id);
    if (first === undefined) firstIndex.set(node.id, index);
    else
      issues.push({
        path: `nodes[${index}].id`,
        nodeId: node.id,
        message: `nodes[${index}].id: duplicate node id ${quote(node.id)} (also nodes[${first}])`,
      });
  });

  const goodEdges: ValidatedEdge[] = [];
  edges.forEach((edge, index) => {
    let ok = true;
    for (const end of ['source', 'target'] as const) {
      if (!firstIndex.has(edge[end])) {
        ok = false;
        issues.push({
          path: `edges[${index}].${end}`,
          message: `edges[${index}].${end}: no node with id ${quote(edge[end])} (dangling edge ${quote(edge.source)} -> ${quote(edge.target)})`,
        });
      }
    }
    if (ok) goodEdges.push({ index, source: edge.source, target: edge.target, port: edge.port ?? 'success' });
  });

  const parsed: { readonly nodeType: NodeType; readonly data: unknown }[] = [];
  nodes.forEach((node, index) => {
    const type = node.type ?? inferNodeType(node.data);
    if (type === undefined) {
      issues.push({
        path: `nodes[${index}].type`,
        nodeId: node.id,
        message: `node ${quote(node.id)}: type: missing, and none can be inferred from data (${INFERENCE_HINT}, ...)`,
      });
      return;
    }
    const nodeType = registry.get(type);
    if (nodeType === undefined) {
      const how = node.type === undefined ? ", inferred from data by the Go engine's rules" : '';
      issues.push({
        path: `nodes[${index}].type`,
        nodeId: node.id,
        message: `node ${quote(node.id)}: type: unknown node type ${quote(type)}${how} (known: ${registry.types().join(', ')})`,
      });
      return;
    }
    const data = node.data ?? {};
    const result = nodeType.schema.safeParse(data);
    if (result.success) parsed[index] = { nodeType, data: result.data };
    else
      for (const issue of result.error.issues)
        issues.push(fromZodIssue(issue, data, `node ${quote(node.id)}: data`, ['nodes', index, 'data'], node.id));
  });

  const cycle = findCycle(
    nodes.map((node) => node.id),
    goodEdges,
  );
  if (cycle !== undefined) {
    const [first] = cycle;
    issues.push({
      path: 'edges',
      ...(first === undefined ? {} : { nodeId: first }),
      message: `cycle: ${cycle.map(quote).join(' -> ')}`,
    });
  }

  if (issues.length === 0) issues.push(...checkTemplates(nodes, parsed, goodEdges));
  if (issues.length > 0) throw new WorkflowValidationError(issues);

  const incoming = new Map<string, ValidatedEdge[]>();
  const outgoing = new Map<string, ValidatedEdge[]>();
  for (const edge of goodEdges) {
    push(incoming, edge.target, edge);
    push(outgoing, edge.source, edge);
  }
  const workflow: ValidatedWorkflow = Object.freeze({
    workflowId: shape.data.workflow_id,
    nodes: Object.freeze(
      nodes.map((node, index): ValidatedNode => {
        const { nodeType, data } = parsed[index] as { readonly nodeType: NodeType; readonly data: unknown };
        return Object.freeze({
          id: node.id,
          type: nodeType.type,
          index,
          data,
          nodeType,
          incoming: Object.freeze(incoming.get(node.id) ?? []),
          outgoing: Object.freeze(outgoing.get(node.id) ?? []),
        });
      }),
    ),
    edges: Object.freeze(goodEdges),
  });
  validated.add(workflow);
  return workflow;
}

/**
 * Template references must resolve by the time their node runs (checked in the parsed data, so a node
 * type's defaults count): `{{ input }}` needs an incoming edge,
 * `{{ nodes.<id>.output }}` an existing node upstream (an ancestor along edges), which has always
 * finished before. Anything else could race.
 */
function checkTemplates(
  nodes: readonly { readonly id: string; readonly data?: unknown }[],
  parsed: readonly ({ readonly nodeType: NodeType; readonly data: unknown } | undefined)[],
  edges: readonly ValidatedEdge[],
): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  let sources: Map<string, string[]> | undefined;
  nodes.forEach((node, index) => {
    // Context nodes' data is never rendered (as in Go), and neither is a label: text there is just text.
    if (parsed[index]?.nodeType.runsFirst === true) return;
    const data = parsed[index]?.data;
    const rendered =
      typeof data === 'object' && data !== null && !Array.isArray(data)
        ? Object.entries(data).filter(([key]) => key !== 'label')
        : data;
    const { references, problems } = findReferences(rendered);
    const at = `nodes[${index}].data`;
    for (const problem of problems)
      issues.push({ path: at, nodeId: node.id, message: `node ${quote(node.id)}: data: ${problem}` });
    if (references.length === 0) return;
    if (sources === undefined) {
      sources = new Map();
      for (const edge of edges) push(sources, edge.target, edge.source);
    }
    const ancestors = ancestorsOf(node.id, sources);
    for (const reference of references) {
      if (reference.kind === 'input' && !(sources.get(node.id)?.length ?? 0))
        issues.push({
          path: at,
          nodeId: node.id,
          message: `node ${quote(node.id)}: data: template ${reference.text}: the node has no incoming edge`,
        });
      if (reference.kind === 'node' && !ancestors.has(reference.id))
        issues.push({
          path: at,
          nodeId: node.id,
          message: `node ${quote(node.id)}: data: template ${reference.text}: no node ${quote(reference.id)} upstream of this one`,
        });
    }
  });
  return issues;
}

function ancestorsOf(id: string, sources: ReadonlyMap<string, readonly string[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [...(sources.get(id) ?? [])];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(sources.get(next) ?? []));
  }
  return seen;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/**
 * One zod issue as `<root>.<path>: <expected>, received <value>`. zod's own messages end in the type
 * received ("expected string, received number"); the value itself (shortened) says more.
 */
function fromZodIssue(
  issue: z.core.$ZodIssue,
  input: unknown,
  root: string,
  prefix: readonly PropertyKey[],
  nodeId: string | undefined,
): WorkflowIssue {
  const where = formatPath(root, issue.path);
  const path = formatPath('', [...prefix, ...issue.path]).replace(/^\./, '') || root;
  let message: string;
  if (issue.code === 'unrecognized_keys') {
    message = `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map(quote).join(', ')}`;
  } else {
    const expected = expectation(issue);
    message = `${where}: ${expected}, received ${describeReceived(valueAt(input, issue.path))}`;
  }
  return nodeId === undefined ? { path, message } : { path, nodeId, message };
}

/** zod's message without its category prefix and trailing type ("Too small: expected number to be >=1"). */
function expectation(issue: z.core.$ZodIssue): string {
  const options = (issue as { readonly options?: unknown }).options;
  if (issue.code === 'invalid_union' && Array.isArray(options) && options.length > 0) {
    return `expected one of ${options.map((option) => JSON.stringify(option)).join('|')}`;
  }
  return issue.message
    .replace(/^(Invalid input|Invalid option|Too small|Too big): /, '')
    .replace(/, received \w+$/, '');
}

function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return out;
}

/** The id of the node a shape issue is under (`nodes[3]...`), when that node has a string id. */
function nodeIdAt(input: unknown, path: readonly PropertyKey[]): string | undefined {
  if (path[0] !== 'nodes' || typeof path[1] !== 'number') return undefined;
  const id = (valueAt(input, path.slice(0, 2)) as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}

function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}
