/**
 * The end of a job: the caller's promise settled (through JobRun.settle, which guards "exactly once"), the
 * counters and diagnostics channels told, the circuit breaker's admission given back when no attempt will
 * report it, and the job forgotten once nothing of it is held any more. Also the one table of jobs not yet
 * done, which the pipeline looks outcomes up in, and the timer that keeps Node alive while a caller waits.
 */
import { FlowpoolError } from '../errors/flowpool-error.js';
import type { HttpResult } from '../job/result.js';
import { jobEndChannel } from '../observe/diagnostics.js';
import type { RuntimeCounters } from '../observe/stats.js';
import type { TrafficController } from '../traffic/traffic-controller.js';
import type { JobRun, Settlement } from './job-run.js';

const WATCHDOG_INTERVAL_MS = 500;

export class Settlements {
  readonly #stats: RuntimeCounters;
  readonly #traffic: TrafficController;
  /** Every job not done yet: its caller waits, a worker holds its attempt, or its streamed body flows. */
  readonly #runs = new Map<number, JobRun>();
  /** Jobs whose caller waits: while there are any, the watchdog timer is referenced. */
  #waiting = 0;
  /** Referenced while a caller waits, so Node cannot exit under an awaited run (worker ports are unref'd). */
  readonly #watchdog: NodeJS.Timeout;
  #idle: (() => void) | undefined;

  /** `watch` runs every WATCHDOG_INTERVAL_MS (the deadline backstop for jobs whose worker does not answer). */
  constructor(stats: RuntimeCounters, traffic: TrafficController, watch: () => void) {
    this.#stats = stats;
    this.#traffic = traffic;
    this.#watchdog = setInterval(watch, WATCHDOG_INTERVAL_MS);
    this.#watchdog.unref();
  }

  get busy(): boolean {
    return this.#runs.size > 0;
  }

  /** The job with this id, if it is not done. */
  get(id: number): JobRun | undefined {
    return this.#runs.get(id);
  }

  /** Jobs not done, oldest first (a copy: settling one while iterating is safe). */
  all(): JobRun[] {
    return [...this.#runs.values()];
  }

  /** Jobs not done, for a read-only pass. */
  values(): IterableIterator<JobRun> {
    return this.#runs.values();
  }

  track(run: JobRun): void {
    this.#runs.set(run.id, run);
    if (++this.#waiting === 1) this.#watchdog.ref();
  }

  succeed(run: JobRun, result: HttpResult, streaming = false): void {
    this.#stats.succeeded++;
    this.#stats.tenants.succeeded(run.job.tenant);
    if (jobEndChannel.hasSubscribers) publishEnd(run, { ok: true, status: result.status }, result.timings.totalMs);
    this.#close(run, { ok: true, value: result }, streaming);
  }

  fail(run: JobRun, error: FlowpoolError): void {
    if (run.callerSettled) return;
    // An attempt that ends with the job, before any outcome (queued too long, aborted, the deadline backstop).
    run.trace?.failed(error.code, error.message);
    this.#stats.recordFailure(error.code);
    this.#stats.tenants.failed(run.job.tenant);
    if (jobEndChannel.hasSubscribers) {
      publishEnd(run, { ok: false, code: error.code }, performance.now() - run.submittedAt);
    }
    this.#close(run, { ok: false, error });
  }

  /** The caller aborted (its signal's `reason`): see {@link callerStopped}. */
  aborted(run: JobRun, reason: unknown = run.cancelReason): void {
    this.fail(run, callerStopped(run.job, run.networkSent, reason));
  }

  /** A job whose caller was settled earlier is done now (its worker answered, or its stream ended). */
  finished(run: JobRun): void {
    if (run.state !== 'settled') return;
    this.#runs.delete(run.id);
    this.#checkIdle();
  }

  /** Resolves once no job is left (for close()). */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#idle = resolve;
    });
  }

  stop(): void {
    clearInterval(this.#watchdog);
  }

  #close(run: JobRun, outcome: Settlement, streaming = false): void {
    // Admitted but never (or no longer) going to run: give the breaker's admission back. An attempt a worker
    // holds reports its own outcome when the worker answers.
    if (!run.awaitsWorker) {
      const admitted = run.takeAdmission();
      if (admitted !== undefined) this.#traffic.releaseAdmission(run.job.origin, admitted);
    }
    if (!run.settle(outcome, streaming)) return;
    if (--this.#waiting === 0) this.#watchdog.unref();
    this.finished(run);
  }

  #checkIdle(): void {
    if (this.#idle !== undefined && !this.busy) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }
}

/** `flowpool:job:end`: how the job ended, with its ids, origin, attempts and duration. */
function publishEnd(
  run: JobRun,
  end: { readonly ok: true; readonly status: number } | { readonly ok: false; readonly code: string },
  durationMs: number,
): void {
  jobEndChannel.publish({
    id: run.id,
    jobId: run.job.id,
    origin: run.job.origin,
    ...end,
    attempts: run.attempts,
    durationMs,
  });
}

/**
 * What a job stopped by its caller's signal fails with: FLOWPOOL_TIMEOUT (phase `signal`) when the signal's
 * reason is a TimeoutError (`AbortSignal.timeout()`: the caller's own deadline), else FLOWPOOL_ABORTED; both
 * say whether any request of the job was written (`sent`).
 */
export function callerStopped(job: { readonly id: string | undefined }, sent: boolean, reason: unknown): FlowpoolError {
  if ((reason as { name?: unknown } | null)?.name === 'TimeoutError') {
    return new FlowpoolError(
      'FLOWPOOL_TIMEOUT',
      `the caller's signal timed out ${sent ? 'after the request was sent' : 'before any request was sent'}`,
      withJobId(job, { phase: 'signal' as const, sent }),
    );
  }
  return new FlowpoolError(
    'FLOWPOOL_ABORTED',
    sent ? 'job was aborted after its request was sent' : 'job was aborted before any request was sent',
    withJobId(job, { sent }),
  );
}

export function withJobId<T extends object>(
  job: { readonly id: string | undefined },
  details: T,
): T & { jobId?: string } {
  return job.id === undefined ? details : { ...details, jobId: job.id };
}
