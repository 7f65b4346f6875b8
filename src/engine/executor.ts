/**
 * Runs a validated workflow on a runtime. A node starts as soon as all its inputs are ready, so
 * independent branches run at the same time (their HTTP nodes reach the pool together). All state
 * belongs to one run: any number of workflows may run at once on one runtime.
 *
 * Outcomes. A node that fails sends `{ code, message }` along its `error` edges when it has any (the error
 * is then handled); without error edges the workflow fails, naming the node, and stops: nothing new starts
 * and running nodes are aborted through their signal. An edge that is not taken (a success edge of a
 * failed node, an error edge of a successful one, any edge of a skipped node) skips its target: a node
 * runs only when every one of its inputs arrived.
 */
import type { Runtime } from '../index.js';
import { toNodeErrorInfo, type NodeErrorInfo } from './errors.js';
import { createRegistry } from './builtins.js';
import type { NodeContext, NodeInput, NodeRegistry } from './registry.js';
import {
  isValidatedWorkflow,
  validateWorkflow,
  type ValidatedEdge,
  type ValidatedNode,
  type ValidatedWorkflow,
} from './schema.js';

/** The code of a workflow stopped by the caller's signal. */
export const WORKFLOW_ABORTED = 'WORKFLOW_ABORTED';

export type NodeStatus = 'success' | 'error' | 'skipped';

export interface NodeResult {
  readonly id: string;
  readonly type: string;
  readonly status: NodeStatus;
  /** The node's output, when it succeeded. */
  readonly output?: unknown;
  /** What it failed with, when it failed (handled or not). */
  readonly error?: NodeErrorInfo;
  /** Time from start to finish, for nodes that ran. */
  readonly durationMs?: number;
}

export interface WorkflowResult {
  /** `error` when a node failed without an error edge, or the caller aborted the run. */
  readonly status: 'success' | 'error';
  /** One result per node, in the workflow's `nodes` order. */
  readonly nodes: readonly NodeResult[];
  /** The node whose unhandled error failed the workflow. */
  readonly failedNode?: string;
  /** That node's error, or `WORKFLOW_ABORTED`. */
  readonly error?: NodeErrorInfo;
  readonly durationMs: number;
}

export interface ExecutorOptions {
  /** Node types to use. @default createRegistry() (http and text_operation) */
  readonly registry?: NodeRegistry;
}

export interface RunWorkflowOptions {
  /** Stops the run: nothing new starts, running nodes are aborted; the result has `WORKFLOW_ABORTED`. */
  readonly signal?: AbortSignal;
  /** The caller's id for this run, passed to nodes in their context. */
  readonly workflowId?: string;
}

export interface WorkflowExecutor {
  readonly registry: NodeRegistry;
  /** Validates once; the result can be passed to `run` any number of times. */
  validate(input: unknown): ValidatedWorkflow;
  /**
   * Validates (unless given a validated workflow) and runs. Rejects only with `WorkflowValidationError`
   * (`FLOWPOOL_INVALID_WORKFLOW`); node failures are reported in the result.
   */
  run(workflow: unknown, options?: RunWorkflowOptions): Promise<WorkflowResult>;
}

export function createExecutor(runtime: Runtime, options: ExecutorOptions = {}): WorkflowExecutor {
  const registry = options.registry ?? createRegistry();
  return {
    registry,
    validate: (input) => validateWorkflow(input, registry),
    run: async (workflow, runOptions = {}) => {
      const valid = isValidatedWorkflow(workflow) ? workflow : validateWorkflow(workflow, registry);
      return new WorkflowRun(valid, runtime, runOptions).start();
    },
  };
}

/** One-off form of `createExecutor(runtime, options).run(workflow, options)`. */
export function runWorkflow(
  runtime: Runtime,
  workflow: unknown,
  options: RunWorkflowOptions & ExecutorOptions = {},
): Promise<WorkflowResult> {
  return createExecutor(runtime, options).run(workflow, options);
}

type Outcome =
  | { readonly status: 'success'; readonly output: unknown }
  | { readonly status: 'error'; readonly error: NodeErrorInfo };

class WorkflowRun {
  readonly #workflow: ValidatedWorkflow;
  readonly #runtime: Runtime;
  readonly #options: RunWorkflowOptions;
  readonly #controller = new AbortController();
  readonly #startedAt = performance.now();
  readonly #byId = new Map<string, ValidatedNode>();
  /** Position of each edge among its target's inputs. */
  readonly #slot: Int32Array;
  readonly #inputs: (NodeInput | undefined)[][];
  readonly #waiting: number[];
  readonly #dead: boolean[];
  readonly #results: (NodeResult | undefined)[];
  readonly #ready: ValidatedNode[] = [];
  #settled = 0;
  #failure: { readonly nodeId: string; readonly error: NodeErrorInfo } | undefined;
  #abortReason: string | undefined;
  #finish: ((result: WorkflowResult) => void) | undefined;

  constructor(workflow: ValidatedWorkflow, runtime: Runtime, options: RunWorkflowOptions) {
    this.#workflow = workflow;
    this.#runtime = runtime;
    this.#options = options;
    this.#slot = new Int32Array(workflow.edges.length);
    for (const node of workflow.nodes) {
      this.#byId.set(node.id, node);
      node.incoming.forEach((edge, position) => {
        this.#slot[edge.index] = position;
      });
    }
    this.#inputs = workflow.nodes.map((node) => new Array<NodeInput | undefined>(node.incoming.length));
    this.#waiting = workflow.nodes.map((node) => node.incoming.length);
    this.#dead = workflow.nodes.map(() => false);
    this.#results = workflow.nodes.map(() => undefined);
  }

  start(): Promise<WorkflowResult> {
    const done = new Promise<WorkflowResult>((resolve) => {
      this.#finish = resolve;
    });
    const signal = this.#options.signal;
    const onAbort = (): void => this.#stop(abortMessage(signal?.reason));
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    for (const node of this.#workflow.nodes) if (node.incoming.length === 0) this.#ready.push(node);
    this.#drain();
    this.#checkDone();
    return done.finally(() => signal?.removeEventListener('abort', onAbort));
  }

  /** Starts (or skips) every ready node. A loop, not recursion: skips can cascade down long chains. */
  #drain(): void {
    for (let node = this.#ready.shift(); node !== undefined; node = this.#ready.shift()) {
      if (this.#dead[node.index] === true || this.#failure !== undefined || this.#abortReason !== undefined)
        this.#skip(node);
      else this.#launch(node);
    }
  }

  #launch(node: ValidatedNode): void {
    const started = performance.now();
    const inputs = (this.#inputs[node.index] ?? []).filter((input): input is NodeInput => input !== undefined);
    const context: NodeContext = {
      runtime: this.#runtime,
      signal: this.#controller.signal,
      nodeId: node.id,
      workflowId: this.#options.workflowId,
    };
    let running: Promise<unknown>;
    try {
      running = Promise.resolve(node.nodeType.execute(inputs, node.data, context));
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (output: unknown) => this.#settle(node, { status: 'success', output }, started),
      (error: unknown) => this.#settle(node, { status: 'error', error: toNodeErrorInfo(error) }, started),
    );
  }

  #settle(node: ValidatedNode, outcome: Outcome, started: number): void {
    const durationMs = roundMs(performance.now() - started);
    this.#record(
      node,
      outcome.status === 'success'
        ? { id: node.id, type: node.type, status: 'success', output: outcome.output, durationMs }
        : { id: node.id, type: node.type, status: 'error', error: outcome.error, durationMs },
    );
    if (
      outcome.status === 'error' &&
      !node.outgoing.some((edge) => edge.port === 'error') &&
      this.#failure === undefined &&
      this.#abortReason === undefined
    ) {
      this.#failure = { nodeId: node.id, error: outcome.error };
      this.#controller.abort(new Error(`node "${node.id}" failed`));
    }
    for (const edge of node.outgoing) {
      const taken = (edge.port === 'success') === (outcome.status === 'success');
      const value = outcome.status === 'success' ? outcome.output : outcome.error;
      this.#deliver(edge, taken ? { source: node.id, port: edge.port, value } : undefined);
    }
    this.#drain();
    this.#checkDone();
  }

  #skip(node: ValidatedNode): void {
    this.#record(node, { id: node.id, type: node.type, status: 'skipped' });
    for (const edge of node.outgoing) this.#deliver(edge, undefined);
  }

  /** Hands one edge's value (undefined: the edge was not taken) to its target. */
  #deliver(edge: ValidatedEdge, input: NodeInput | undefined): void {
    const target = this.#byId.get(edge.target);
    if (target === undefined) return;
    const slots = this.#inputs[target.index];
    if (slots !== undefined) slots[this.#slot[edge.index] ?? 0] = input;
    if (input === undefined) this.#dead[target.index] = true;
    const waiting = (this.#waiting[target.index] ?? 0) - 1;
    this.#waiting[target.index] = waiting;
    if (waiting === 0) this.#ready.push(target);
  }

  #record(node: ValidatedNode, result: NodeResult): void {
    this.#results[node.index] = result;
    this.#settled++;
  }

  #stop(reason: string): void {
    if (this.#abortReason !== undefined || this.#failure !== undefined) return;
    this.#abortReason = reason;
    this.#controller.abort(new Error(reason));
  }

  #checkDone(): void {
    if (this.#settled < this.#workflow.nodes.length || this.#finish === undefined) return;
    const finish = this.#finish;
    this.#finish = undefined;
    const nodes = this.#results.map((result, index) => result ?? skipped(this.#workflow.nodes[index]));
    const durationMs = roundMs(performance.now() - this.#startedAt);
    if (this.#failure !== undefined) {
      finish({ status: 'error', nodes, failedNode: this.#failure.nodeId, error: this.#failure.error, durationMs });
    } else if (this.#abortReason !== undefined) {
      finish({ status: 'error', nodes, error: { code: WORKFLOW_ABORTED, message: this.#abortReason }, durationMs });
    } else {
      finish({ status: 'success', nodes, durationMs });
    }
  }
}

function skipped(node: ValidatedNode | undefined): NodeResult {
  return { id: node?.id ?? '', type: node?.type ?? '', status: 'skipped' };
}

function abortMessage(reason: unknown): string {
  if (reason instanceof Error && reason.name !== 'AbortError') return `the workflow was aborted: ${reason.message}`;
  if (typeof reason === 'string') return `the workflow was aborted: ${reason}`;
  return 'the workflow was aborted';
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
