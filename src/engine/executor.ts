/**
 * Runs a validated workflow on a job runner (a runtime, or anything with its `run`). A node starts as
 * soon as all its inputs are ready, so independent branches run at the same time (their HTTP nodes reach
 * the pool together). All state belongs to one run: any number of workflows may run at once.
 *
 * Outcomes. A node that fails sends `{ code, message }` along its `error` edges when it has any (the error
 * is then handled); without error edges the workflow fails, naming the node, and stops: nothing new starts
 * and running nodes are aborted through their signal. An edge that is not taken (a success edge of a
 * failed node, an error edge of a successful one, any edge of a skipped node) skips its target: a node
 * runs only when every one of its inputs arrived. The whole run has a deadline (`timeoutMs`, 5 minutes by
 * default as in Go): past it, running nodes are aborted and the run fails with `WORKFLOW_TIMEOUT`.
 */
import { randomBytes } from 'node:crypto';
import { toNodeErrorInfo, type NodeErrorInfo } from './errors.js';
import { createRegistry } from './builtins.js';
import type { JobRunner, NodeContext, NodeInput, NodeRegistry } from './registry.js';
import {
  isValidatedWorkflow,
  validateWorkflow,
  type ValidatedEdge,
  type ValidatedNode,
  type ValidatedWorkflow,
} from './schema.js';
import { renderTemplate, renderValue, type TemplateScope } from './templates.js';
import { toThaiyyalResult, type ThaiyyalResult } from './thaiyyal-result.js';
import type { NodeResult, WorkflowResult } from './workflow-result.js';
import {
  checkTimeout,
  parseExecutorOptions,
  type ExecutorOptions,
  type ParsedExecutorOptions,
} from './executor-options.js';
import { runLimitedRunner } from './run-runner.js';

export type { NodeResult, NodeStatus, WorkflowResult } from './workflow-result.js';
import { NO_SPAN, startRootSpan, type TraceSpan } from './tracing.js';

/** The code of a workflow stopped by the caller's signal. */
export const WORKFLOW_ABORTED = 'WORKFLOW_ABORTED';
/** The code of a workflow stopped by its deadline (`timeoutMs`). */
export const WORKFLOW_TIMEOUT = 'WORKFLOW_TIMEOUT';

export { DEFAULT_WORKFLOW_TIMEOUT_MS } from './executor-options.js';
export type { BodyDecoding, ExecutorOptions } from './executor-options.js';

export interface RunWorkflowOptions {
  /** Stops the run: nothing new starts, running nodes are aborted; the result has `WORKFLOW_ABORTED`. */
  readonly signal?: AbortSignal;
  /** The caller's id for this run, passed to nodes in their context. @default the workflow's workflow_id */
  readonly workflowId?: string;
  /** This run's deadline in ms. @default the executor's timeoutMs */
  readonly timeoutMs?: number;
}

export interface WorkflowExecutor<R = WorkflowResult> {
  readonly registry: NodeRegistry;
  /** Validates once; the result can be passed to `run` any number of times. */
  validate(input: unknown): ValidatedWorkflow;
  /**
   * Validates (unless given a validated workflow) and runs. Rejects only with `WorkflowValidationError`
   * (`FLOWPOOL_INVALID_WORKFLOW`) or for bad options; node failures are reported in the result.
   */
  run(workflow: unknown, options?: RunWorkflowOptions): Promise<R>;
}

/** `format: 'thaiyyal'`: results in the Go engine's shape (thaiyyal-result.ts). */
export function createExecutor(
  runner: JobRunner,
  options: ExecutorOptions & { readonly format: 'thaiyyal' },
): WorkflowExecutor<ThaiyyalResult>;
export function createExecutor(
  runner: JobRunner,
  options?: ExecutorOptions & { readonly format?: 'flowpool' },
): WorkflowExecutor;
export function createExecutor(
  runner: JobRunner,
  options: ExecutorOptions & { readonly format?: 'flowpool' | 'thaiyyal' } = {},
): WorkflowExecutor | WorkflowExecutor<ThaiyyalResult> {
  const registry = options.registry ?? createRegistry();
  const settings = parseExecutorOptions(options);
  const tracerName = options.tracerName ?? 'flowpool';
  const validate = (input: unknown): ValidatedWorkflow => validateWorkflow(input, registry);
  const execute = async (
    workflow: unknown,
    runOptions: RunWorkflowOptions = {},
  ): Promise<{ readonly result: WorkflowResult; readonly workflow: ValidatedWorkflow }> => {
    const valid = isValidatedWorkflow(workflow) ? workflow : validate(workflow);
    const timeoutMs = checkTimeout(runOptions.timeoutMs, 'run options: timeoutMs') ?? settings.timeoutMs;
    const executionId = randomBytes(8).toString('hex');
    const workflowId = runOptions.workflowId ?? valid.workflowId;
    const span =
      options.tracing === false
        ? NO_SPAN
        : startRootSpan(tracerName, 'workflow.run', {
            'flowpool.execution.id': executionId,
            'flowpool.workflow.nodes': valid.nodes.length,
            ...(workflowId === undefined ? {} : { 'flowpool.workflow.id': workflowId }),
          });
    const result = await new WorkflowRun(
      valid,
      runner,
      { ...runOptions, workflowId },
      executionId,
      { ...settings, timeoutMs },
      span,
    ).start();
    return { result, workflow: valid };
  };
  if (options.format === 'thaiyyal') {
    return {
      registry,
      validate,
      run: async (workflow, runOptions) => {
        const done = await execute(workflow, runOptions);
        return toThaiyyalResult(done.result, done.workflow);
      },
    };
  }
  return { registry, validate, run: async (workflow, runOptions) => (await execute(workflow, runOptions)).result };
}

/** One-off form of `createExecutor(runner, options).run(workflow, options)`. */
export function runWorkflow(
  runner: JobRunner,
  workflow: unknown,
  options: RunWorkflowOptions & ExecutorOptions = {},
): Promise<WorkflowResult> {
  return createExecutor(runner, options).run(workflow, options);
}

type Outcome =
  | { readonly status: 'success'; readonly output: unknown }
  | { readonly status: 'error'; readonly error: NodeErrorInfo };

interface RunSettings extends RunWorkflowOptions {
  readonly workflowId: string | undefined;
}

class WorkflowRun {
  readonly #workflow: ValidatedWorkflow;
  readonly #runner: JobRunner;
  readonly #options: RunSettings;
  readonly #executionId: string;
  readonly #timeoutMs: number;
  readonly #bodyDecoding: ParsedExecutorOptions['bodyDecoding'];
  readonly #span: TraceSpan;
  readonly #startedAt = performance.now();
  readonly #byId = new Map<string, ValidatedNode>();
  /** Position of each edge among its target's inputs. */
  readonly #slot: Int32Array;
  readonly #inputs: (NodeInput | undefined)[][];
  readonly #waiting: number[];
  readonly #dead: boolean[];
  readonly #results: (NodeResult | undefined)[];
  readonly #ready: ValidatedNode[] = [];
  /**
   * One controller per running node, not one signal shared by all: every job adds an abort listener to
   * the signal it gets, and more than 10 on one signal print MaxListenersExceededWarning.
   */
  readonly #running = new Map<ValidatedNode, AbortController>();
  readonly #outputs = new Map<string, unknown>();
  readonly #variables = new Map<string, unknown>();
  readonly #constants = new Map<string, unknown>();
  #settled = 0;
  #failure: { readonly nodeId: string; readonly error: NodeErrorInfo } | undefined;
  #stopped: NodeErrorInfo | undefined;
  #finish: ((result: WorkflowResult) => void) | undefined;

  constructor(
    workflow: ValidatedWorkflow,
    runner: JobRunner,
    options: RunSettings,
    executionId: string,
    settings: ParsedExecutorOptions,
    span: TraceSpan,
  ) {
    this.#workflow = workflow;
    // One per run: the HTTP call count and the redirect default belong to this run only.
    this.#runner = runLimitedRunner(runner, settings);
    this.#bodyDecoding = settings.bodyDecoding;
    this.#options = options;
    this.#executionId = executionId;
    this.#timeoutMs = settings.timeoutMs;
    this.#span = span;
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
    const onAbort = (): void => {
      this.#stop({ code: WORKFLOW_ABORTED, message: abortMessage(signal?.reason) });
    };
    const deadline = setTimeout(() => {
      this.#stop({
        code: WORKFLOW_TIMEOUT,
        message: `workflow execution timeout: exceeded ${this.#timeoutMs} ms`,
      });
    }, this.#timeoutMs);
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    for (const node of this.#workflow.nodes) if (node.incoming.length === 0) this.#ready.push(node);
    this.#drain();
    this.#checkDone();
    return done.finally(() => {
      clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
    });
  }

  /**
   * Starts (or skips) every ready node, those that set context values first. A loop, not recursion:
   * skips can cascade down long chains.
   */
  #drain(): void {
    if (this.#ready.some((node) => node.nodeType.runsFirst === true)) {
      this.#ready.sort((a, b) => Number(b.nodeType.runsFirst === true) - Number(a.nodeType.runsFirst === true));
    }
    for (let node = this.#ready.shift(); node !== undefined; node = this.#ready.shift()) {
      if (this.#dead[node.index] === true || this.#failure !== undefined || this.#stopped !== undefined)
        this.#skip(node);
      else this.#launch(node);
    }
  }

  #launch(node: ValidatedNode): void {
    const started = performance.now();
    const inputs = (this.#inputs[node.index] ?? []).filter((input): input is NodeInput => input !== undefined);
    const controller = new AbortController();
    this.#running.set(node, controller);
    const span = this.#span.child(`workflow.node ${node.id}`, {
      'flowpool.node.id': node.id,
      'flowpool.node.type': node.type,
    });
    const scope: TemplateScope = {
      inputs: inputs.map((input) => input.value),
      outputs: this.#outputs,
      variables: this.#variables,
      constants: this.#constants,
    };
    const context: NodeContext = {
      runtime: this.#runner,
      bodyDecoding: this.#bodyDecoding,
      signal: controller.signal,
      nodeId: node.id,
      workflowId: this.#options.workflowId,
      executionId: this.#executionId,
      render: (text, mode) => renderTemplate(text, scope, mode),
      renderValue: (value) => renderValue(value, scope),
      setContextValue: (kind, name, value) => {
        (kind === 'variable' ? this.#variables : this.#constants).set(name, value);
      },
      span,
    };
    // A synchronous throw becomes a rejection, whatever was thrown.
    const running = new Promise<unknown>((resolve) => {
      resolve(node.nodeType.execute(inputs, node.data, context));
    });
    running.then(
      (output: unknown) => {
        this.#settle(node, { status: 'success', output }, started, span);
      },
      (error: unknown) => {
        this.#settle(node, { status: 'error', error: toNodeErrorInfo(error) }, started, span);
      },
    );
  }

  #settle(node: ValidatedNode, outcome: Outcome, started: number, span: TraceSpan): void {
    this.#running.delete(node);
    const durationMs = roundMs(performance.now() - started);
    if (outcome.status === 'error') span.fail(outcome.error.code, outcome.error.message);
    span.end();
    if (outcome.status === 'success') this.#outputs.set(node.id, outcome.output);
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
      this.#stopped === undefined
    ) {
      this.#failure = { nodeId: node.id, error: outcome.error };
      this.#abortRunning(new Error(`node "${node.id}" failed`));
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

  /** The caller's signal or the deadline: nothing new starts, running nodes are aborted. */
  #stop(reason: NodeErrorInfo): void {
    if (this.#stopped !== undefined || this.#failure !== undefined || this.#finish === undefined) return;
    this.#stopped = reason;
    this.#abortRunning(new Error(reason.message));
  }

  #abortRunning(reason: Error): void {
    for (const controller of this.#running.values()) controller.abort(reason);
  }

  #checkDone(): void {
    if (this.#settled < this.#workflow.nodes.length || this.#finish === undefined) return;
    const finish = this.#finish;
    this.#finish = undefined;
    const nodes = this.#results.map((result, index) => result ?? skipped(this.#workflow.nodes[index]));
    const durationMs = roundMs(performance.now() - this.#startedAt);
    const base = {
      executionId: this.#executionId,
      ...(this.#options.workflowId === undefined ? {} : { workflowId: this.#options.workflowId }),
      nodes,
      durationMs,
    };
    let result: WorkflowResult;
    if (this.#failure !== undefined) {
      result = { status: 'error', ...base, failedNode: this.#failure.nodeId, error: this.#failure.error };
    } else if (this.#stopped !== undefined) {
      result = { status: 'error', ...base, error: this.#stopped };
    } else {
      result = { status: 'success', ...base };
    }
    if (result.error !== undefined) this.#span.fail(result.error.code, result.error.message);
    this.#span.set({ 'flowpool.workflow.status': result.status });
    this.#span.end();
    finish(result);
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
