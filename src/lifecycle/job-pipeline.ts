/**
 * A job's way from submission to settlement on the main thread, wired from four parts, each a concern of its
 * own: {@link Attempts} (admission, queueing, dispatch, retry delays), {@link Outcomes} (what a worker's answer
 * leads to), {@link Cancels} (the caller's abort and the deadline backstop) and {@link Settlements} (the
 * caller's promise, counters, and the table of jobs not done). Every change of a job's state is a transition
 * of its {@link JobRun}. The runtime facade only wires this.
 */
import type { ResolvedOptions } from '../config/options.js';
import { FlowpoolError } from '../errors/flowpool-error.js';
import type { NormalizedJob } from '../job/job.js';
import type { HttpResult } from '../job/result.js';
import { RequestSpans } from '../observe/request-spans.js';
import type { RuntimeCounters } from '../observe/stats.js';
import type { Coordinator } from '../scheduling/coordinator.js';
import type { ShardEvents } from '../threads/shards.js';
import type { TrafficController } from '../traffic/traffic-controller.js';
import type { JobOutcome } from '../wire/protocol.js';
import { Attempts, type WorkerOutboxes } from './attempts.js';
import { Cancels } from './cancels.js';
import { HookSteps } from './hooks.js';
import type { JobHooks } from './job-hooks.js';
import { JobRun } from './job-run.js';
import { Outcomes } from './outcomes.js';
import { Settlements } from './settlement.js';

export { callerStopped, withJobId } from './settlement.js';
export type { WorkerOutboxes } from './attempts.js';
export type { AfterResponseDecision, FlowpoolRetry, JobHooks } from './job-hooks.js';

export interface PipelineParts {
  readonly options: ResolvedOptions;
  readonly coordinator: Coordinator<JobRun>;
  readonly shards: WorkerOutboxes;
  readonly traffic: TrafficController;
  readonly stats: RuntimeCounters;
}

export class JobPipeline implements Pick<ShardEvents, 'onOutcome' | 'onLinkLost' | 'onBatchFailed'> {
  readonly #traffic: TrafficController;
  readonly #stats: RuntimeCounters;
  readonly #coordinator: Coordinator<JobRun>;
  readonly #settlements: Settlements;
  readonly #attempts: Attempts;
  readonly #outcomes: Outcomes;
  readonly #cancels: Cancels;
  readonly #hookSteps: HookSteps;
  readonly #startupTimeoutMs: number;
  readonly #spans = new RequestSpans();
  #nextId = 1;
  #destroyed = false;
  /** Every worker has started once: from then on a job's `timeoutMs` runs from its submission. */
  #started = false;

  constructor(parts: PipelineParts) {
    this.#traffic = parts.traffic;
    this.#stats = parts.stats;
    this.#coordinator = parts.coordinator;
    this.#startupTimeoutMs = parts.options.startupTimeoutMs;
    this.#settlements = new Settlements(parts.stats, parts.traffic, () => {
      this.#cancels.expireUnanswered();
    });
    this.#hookSteps = new HookSteps({
      settlements: this.#settlements,
      traffic: parts.traffic,
      admit: (run, overflow) => {
        this.#attempts.admit(run, overflow);
      },
      release: (ticket) => {
        this.#attempts.release(ticket);
      },
    });
    this.#attempts = new Attempts({ ...parts, settlements: this.#settlements, hookSteps: this.#hookSteps });
    this.#outcomes = new Outcomes(
      this.#attempts,
      this.#settlements,
      parts.stats,
      () => this.#destroyed,
      this.#hookSteps,
    );
    this.#cancels = new Cancels(parts.coordinator, parts.shards, this.#attempts, this.#settlements);
  }

  /** Jobs not done: a caller waits, a worker holds an attempt, or a streamed body flows. */
  get busy(): boolean {
    return this.#settlements.busy;
  }

  /** Resolves once no job is left (for close()). */
  whenIdle(): Promise<void> {
    return this.#settlements.whenIdle();
  }

  /**
   * Takes a validated job. `overflow` lets runMany queue past maxQueue (it bounds its own concurrency).
   * `hooks`: the caller's hooks for this job, when the runtime has any.
   */
  submit(
    job: NormalizedJob,
    signal: AbortSignal | undefined,
    resolve: (result: HttpResult) => void,
    reject: (error: FlowpoolError) => void,
    overflow: boolean,
    hooks?: JobHooks,
  ): void {
    const startupBound = this.#started ? undefined : this.#startupTimeoutMs;
    // In the caller's context (run() is synchronous up to here): the spans' parent is the caller's span.
    const trace = this.#spans.begin(job);
    const run = new JobRun(
      this.#nextId++,
      job,
      performance.now(),
      resolve,
      reject,
      this.#attempts.queueDeadlines,
      startupBound,
      hooks,
      trace,
    );
    this.#settlements.track(run);
    if (signal !== undefined) {
      const onAbort = (): void => {
        this.#cancels.abort(run, signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      run.watchSignal(() => {
        signal.removeEventListener('abort', onAbort);
      });
    }
    this.#stats.tenants.submitted(job.tenant);
    if (hooks !== undefined) {
      this.#hookSteps.first(run, hooks, overflow);
      return;
    }
    this.#traffic.recordFirstAttempt(job.origin, job.hostname);
    this.#attempts.admit(run, overflow);
  }

  /**
   * Every worker has started (the first time): jobs submitted earlier start their `timeoutMs` now, and a
   * queued one's deadline timer follows.
   */
  workersStarted(): void {
    if (this.#started) return;
    this.#started = true;
    const now = performance.now();
    for (const run of this.#settlements.values()) run.startClock(now);
  }

  /**
   * The coordinator placed tickets outside a call of the pipeline's (a worker became ready, the sweep freed a
   * counter row, a timer's wake): they go to their workers now.
   */
  dispatchPlaced(): void {
    this.#attempts.dispatchPlaced();
  }

  /** Settles every job with FLOWPOOL_CLOSED (destroy()). */
  destroyAll(): void {
    this.#destroyed = true;
    this.#settlements.stop();
    for (const run of this.#settlements.all()) {
      if (run.state === 'queued' && run.ticket !== undefined) this.#coordinator.cancel(run.ticket);
      this.#settlements.fail(
        run,
        new FlowpoolError('FLOWPOOL_CLOSED', 'the runtime was destroyed before the job finished'),
      );
    }
  }

  stop(): void {
    this.#settlements.stop();
  }

  onOutcome(id: number, outcome: JobOutcome): void {
    this.#outcomes.outcome(id, outcome);
  }

  onLinkLost(link: number, error: Error): void {
    this.#outcomes.linkLost(link, error);
  }

  onBatchFailed(ids: readonly number[], error: Error): void {
    this.#outcomes.batchFailed(ids, error);
  }
}
