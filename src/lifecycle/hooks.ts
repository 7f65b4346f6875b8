/**
 * The caller's hooks (`createRuntime({ hooks })`) in a job's lifecycle, on the main thread: `beforeRequest`
 * before every attempt (the job re-validated from what it returns), `afterResponse` on an attempt's final
 * result before the caller gets it (it may ask for the job once more), `beforeRetry` before each retry of
 * flowpool's own. While a hook runs the job is in the state `hook`: in no queue and holding no slot, its
 * deadline (`timeoutMs`, which covers hook time) and its caller's abort end it there as anywhere else.
 *
 * The lifecycle knows no caller shape: api/hooks.ts turns the caller's functions into a {@link JobHooks} per
 * job (copies in the caller's shape, validation, the bound on retries asked, FLOWPOOL_HOOK_FAILED). A runtime
 * without hooks never reaches this file: every call site checks `run.hooks` first.
 */
import { FlowpoolError, type HookName } from '../errors/flowpool-error.js';
import type { HttpResult } from '../job/result.js';
import type { Ticket } from '../scheduling/coordinator.js';
import { holdUntilBodyEnds, type StreamSuccess } from '../threads/response-stream.js';
import type { TrafficController } from '../traffic/traffic-controller.js';
import type { FlowpoolRetry, JobHooks } from './job-hooks.js';
import type { JobRun } from './job-run.js';
import { withJobId, type Settlements } from './settlement.js';

/** A streamed result's slot while afterResponse holds it: released when its body ends, or when it is dropped. */
interface StreamHold {
  ticket: Ticket<JobRun> | undefined;
  /** The caller has the stream: its end settles the job as any stream's does. */
  handedOver: boolean;
  ended: boolean;
  readonly body: ReadableStream<Uint8Array>;
}

export interface HookStepParts {
  readonly settlements: Settlements;
  readonly traffic: TrafficController;
  /** Admission and queueing of the attempt (Attempts.admit). */
  readonly admit: (run: JobRun, overflow: boolean) => void;
  /** Frees a ticket's places at the coordinator (Attempts.release). */
  readonly release: (ticket: Ticket<JobRun> | undefined) => void;
}

export class HookSteps {
  readonly #settlements: Settlements;
  readonly #traffic: TrafficController;
  readonly #admit: (run: JobRun, overflow: boolean) => void;
  readonly #release: (ticket: Ticket<JobRun> | undefined) => void;
  /** The hook each job in state 'hook' runs (weak: a hook that never returns holds nothing here). */
  readonly #running = new WeakMap<JobRun, HookName>();

  constructor(parts: HookStepParts) {
    this.#settlements = parts.settlements;
    this.#traffic = parts.traffic;
    this.#admit = parts.admit;
    this.#release = parts.release;
  }

  /** A submitted job: beforeRequest for its first attempt, then admission as for any job. */
  first(run: JobRun, hooks: JobHooks, overflow: boolean): void {
    const beforeRequest = hooks.beforeRequest;
    if (beforeRequest === undefined) {
      this.#traffic.recordFirstAttempt(run.job.origin, run.job.hostname);
      this.#admit(run, overflow);
      return;
    }
    this.#await(
      run,
      'beforeRequest',
      () => beforeRequest(1),
      (job) => {
        run.useJob(job);
        // Counted against the origin the job really goes to, once its hook has said which.
        this.#traffic.recordFirstAttempt(job.origin, job.hostname);
        this.#admit(run, overflow);
      },
    );
  }

  /** A retry of flowpool's own, its delay over: beforeRetry, then beforeRequest, then admission. */
  retry(run: JobRun, hooks: JobHooks, retry: FlowpoolRetry): void {
    const beforeRetry = hooks.beforeRetry;
    if (beforeRetry === undefined) {
      this.#next(run, hooks);
      return;
    }
    this.#await(
      run,
      'beforeRetry',
      () => beforeRetry(retry, run.attempts),
      () => {
        this.#next(run, hooks);
      },
    );
  }

  /**
   * An attempt's final result, before the caller gets it: afterResponse may hand it (or another) over, or ask
   * for the job once more. A streamed result comes with its slot (`ticket`), held until its body ends.
   */
  afterResponse(
    run: JobRun,
    hooks: JobHooks,
    afterResponse: NonNullable<JobHooks['afterResponse']>,
    build: (outcome: StreamSuccess | undefined) => HttpResult,
    stream?: { readonly outcome: StreamSuccess; readonly ticket: Ticket<JobRun> | undefined },
  ): void {
    const hold = stream === undefined ? undefined : this.#holdStream(run, stream.outcome, stream.ticket);
    const result = build(
      stream === undefined || hold === undefined ? undefined : { ...stream.outcome, body: hold.body },
    );
    this.#await(
      run,
      'afterResponse',
      () => afterResponse(result, run.attempts),
      (decision) => {
        if ('retry' in decision) {
          if (hold !== undefined) this.#drop(hold);
          run.useJob(decision.retry);
          this.#next(run, hooks);
          return;
        }
        const value = decision.result;
        if (hold === undefined || hold.ended || value.body !== hold.body) {
          // Not the stream (the hook read it, or handed back something else): its slot is free now.
          if (hold !== undefined) this.#drop(hold);
          this.#settlements.succeed(run, value);
          return;
        }
        run.holdForStream(hold.ticket);
        hold.ticket = undefined;
        hold.handedOver = true;
        this.#settlements.succeed(run, value, true);
      },
      hold === undefined ? undefined : () => this.#drop(hold),
    );
  }

  /** The next attempt: beforeRequest (if any) on the job as it stands, then admission. */
  #next(run: JobRun, hooks: JobHooks): void {
    const beforeRequest = hooks.beforeRequest;
    if (beforeRequest === undefined) {
      this.#admit(run, true);
      return;
    }
    this.#await(
      run,
      'beforeRequest',
      () => beforeRequest(run.attempts + 1),
      (job) => {
        run.useJob(job);
        this.#admit(run, true);
      },
    );
  }

  /**
   * Runs one hook with the job in state `hook`, then `next` with what it returned, if the job still waits for
   * it (its deadline or its caller's abort may have settled it meanwhile: then `abandon` ran, and the value is
   * dropped). A rejection fails the job with its FlowpoolError (and `abandon` runs then too).
   */
  #await<T>(
    run: JobRun,
    hook: HookName,
    start: () => Promise<T>,
    next: (value: T) => void,
    abandon?: () => void,
  ): void {
    run.awaitHook(abandon);
    this.#running.set(run, hook);
    start().then(
      (value) => {
        if (run.state !== 'hook') return;
        run.hookReturned();
        next(value);
      },
      (error: unknown) => {
        // Settling from 'hook' runs `abandon` (JobRun.settle).
        if (run.state !== 'hook') return;
        this.#settlements.fail(run, asFlowpoolError(run, hook, error));
      },
    );
  }

  /** The job's deadline passed while its hook ran (the deadline list took it off): it fails, phase `hook`. */
  timedOut(run: JobRun): void {
    const hook = this.#running.get(run);
    if (run.state !== 'hook' || hook === undefined) return;
    this.#settlements.fail(
      run,
      new FlowpoolError(
        'FLOWPOOL_TIMEOUT',
        `timeoutMs (${run.job.timeoutMs} ms) elapsed while the ${hook} hook ran`,
        withJobId(run.job, { phase: 'hook' as const, hook }),
      ),
    );
  }

  /** Wraps a streamed result so that its slot is freed when its body ends, whoever ends it. */
  #holdStream(run: JobRun, outcome: StreamSuccess, ticket: Ticket<JobRun> | undefined): StreamHold {
    const hold: StreamHold = {
      ticket,
      handedOver: false,
      ended: false,
      body: holdUntilBodyEnds(outcome, () => {
        hold.ended = true;
        if (hold.handedOver) {
          this.#release(run.streamEnded());
          this.#settlements.finished(run);
          return;
        }
        // Read to its end (or failed) while afterResponse still held it.
        const held = hold.ticket;
        hold.ticket = undefined;
        this.#release(held);
      }).body,
    };
    return hold;
  }

  /** Lets go of a stream the caller will not get: its slot now, its worker's exchange through the cancel. */
  #drop(hold: StreamHold): void {
    const ticket = hold.ticket;
    hold.ticket = undefined;
    this.#release(ticket);
    // A body the hook left locked cannot be cancelled from here; the worker ends it at the deadline.
    if (!hold.ended && !hold.body.locked) hold.body.cancel().catch(() => undefined);
  }
}

function asFlowpoolError(run: JobRun, hook: HookName, error: unknown): FlowpoolError {
  if (error instanceof FlowpoolError) return error;
  return new FlowpoolError('FLOWPOOL_HOOK_FAILED', `the ${hook} hook failed`, withJobId(run.job, { hook }), {
    cause: error,
  });
}
