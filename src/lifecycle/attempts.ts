/**
 * A job's way to a worker: admission by its host's circuit breaker, queueing at the coordinator (under the
 * deadline), dispatch of what the coordinator placed to its shard, and the delay before a retry. Each step is
 * a named transition of the job's {@link JobRun}.
 */
import { FlowpoolError } from '../errors/flowpool-error.js';
import type { ResolvedOptions } from '../config/options.js';
import { jobRetryChannel, jobStartChannel } from '../observe/diagnostics.js';
import type { RuntimeCounters } from '../observe/stats.js';
import type { Coordinator, Ticket } from '../scheduling/coordinator.js';
import type { OutgoingJob } from '../threads/outgoing-job.js';
import type { AttemptResult, TrafficController } from '../traffic/traffic-controller.js';
import { Deadlines } from '../timing/deadlines.js';
import type { HookSteps } from './hooks.js';
import type { JobRun } from './job-run.js';
import { requestStarted } from './request-events.js';
import { withJobId, type Settlements } from './settlement.js';

/** What the lifecycle needs of the shards (threads/shards.ts): each worker's outbox. A fake serves tests. */
export interface WorkerOutboxes {
  /** Queues a job for the worker; its record is written when it leaves, with the others of this microtask checkpoint. */
  send(worker: number, job: OutgoingJob): void;
  /** Takes a request back out of the outbox; false when it has left already. */
  unsend(worker: number, id: number): boolean;
  /** Asks the worker to abort a request it was posted; the cancel travels behind it. */
  cancel(worker: number, id: number): void;
}

export interface AttemptParts {
  readonly options: ResolvedOptions;
  readonly coordinator: Coordinator<JobRun>;
  readonly shards: WorkerOutboxes;
  readonly traffic: TrafficController;
  readonly stats: RuntimeCounters;
  readonly settlements: Settlements;
  /** The caller's hooks around each attempt (lifecycle/hooks.ts); jobs without hooks never use it. */
  readonly hookSteps: HookSteps;
}

export class Attempts {
  readonly #options: ResolvedOptions;
  readonly #coordinator: Coordinator<JobRun>;
  readonly #shards: WorkerOutboxes;
  readonly #traffic: TrafficController;
  readonly #stats: RuntimeCounters;
  readonly #settlements: Settlements;
  readonly #hookSteps: HookSteps;
  /**
   * Every queued hop's deadline, and that of a job whose hook runs, behind one timer (not one per job). Unreferenced: while a caller waits, the
   * settlements' watchdog keeps the process alive.
   */
  readonly queueDeadlines = new Deadlines<JobRun>(
    (run) => {
      if (run.state === 'hook') this.#hookSteps.timedOut(run);
      else this.#queuedTooLong(run);
    },
    { unref: true },
  );

  constructor(parts: AttemptParts) {
    this.#options = parts.options;
    this.#coordinator = parts.coordinator;
    this.#shards = parts.shards;
    this.#traffic = parts.traffic;
    this.#stats = parts.stats;
    this.#settlements = parts.settlements;
    this.#hookSteps = parts.hookSteps;
  }

  /** Per-host admission before the coordinator: the circuit breaker (rate limits apply at dispatch). */
  admit(run: JobRun, overflow: boolean): void {
    const job = run.job;
    const admission = this.#traffic.admit(job.origin, job.hostname);
    if (admission.kind === 'circuit-open') {
      this.#settlements.fail(
        run,
        new FlowpoolError(
          'FLOWPOOL_CIRCUIT_OPEN',
          `the circuit for ${job.origin} is open after repeated failures; next probe in ${Math.ceil(admission.retryInMs)} ms`,
          withJobId(job, { retryInMs: admission.retryInMs, attempts: run.attempts }),
        ),
      );
      return;
    }
    run.startAttempt(admission.pass);
    this.queue(run, overflow);
  }

  /** A re-run after a worker crash: a new attempt, not admitted again. */
  rerun(run: JobRun): void {
    this.#stats.rerunsAfterCrash++;
    run.startAttempt(undefined, true);
    this.queue(run, true);
  }

  /** Queues the attempt's current request (the job's, or a hop handed back) for its origin. */
  queue(run: JobRun, overflow: boolean, ratePaid = false): void {
    if (performance.now() >= run.deadline) {
      // This thread got here after the deadline (the engine's own work delayed a redirect's answer or a
      // retry's timer): a request sent now would have no time left and could still reach its server after
      // the caller was told the job failed.
      const what = run.hop === undefined ? 'the job' : `the redirect to ${run.hop.origin}`;
      this.#settlements.fail(
        run,
        new FlowpoolError(
          'FLOWPOOL_TIMEOUT',
          `timeoutMs (${run.job.timeoutMs} ms) elapsed before ${what} was sent`,
          withJobId(run.job, { phase: 'total' as const }),
        ),
      );
      return;
    }
    const ticket = this.#coordinator.submit(run.origin, run, overflow, run.job.tenant, ratePaid);
    if (ticket === undefined) {
      this.#settlements.fail(
        run,
        new FlowpoolError(
          'FLOWPOOL_QUEUE_FULL',
          this.#coordinator.queueFullReason(run.job.tenant),
          withJobId(run.job, { tenant: run.job.tenant }),
        ),
      );
      return;
    }
    if (ticket.state === 'queued') {
      // The deadline covers waiting too: a job that cannot start in time fails as queued.
      run.waitInQueue(ticket);
      return;
    }
    this.dispatchPlaced();
  }

  /** A queued hop's deadline passed (the list took it off): it fails as queued, or as never started. */
  #queuedTooLong(run: JobRun): void {
    const ticket = run.ticket;
    if (run.state !== 'queued' || ticket === undefined || !this.#coordinator.cancel(ticket)) return;
    const error = run.clockStarted
      ? new FlowpoolError(
          'FLOWPOOL_TIMEOUT',
          `timeoutMs (${run.job.timeoutMs} ms) elapsed while queued`,
          withJobId(run.job, { phase: 'queued' as const }),
        )
      : new FlowpoolError(
          'FLOWPOOL_TIMEOUT',
          `the workers did not start within startupTimeoutMs (${this.#options.startupTimeoutMs} ms)`,
          withJobId(run.job, { phase: 'startup' as const }),
        );
    this.#settlements.fail(run, error);
  }

  /** Sends every ticket the coordinator placed since last asked to its worker's outbox. */
  dispatchPlaced(): void {
    for (const ticket of this.#coordinator.takePlaced()) this.#dispatch(ticket);
  }

  /** Frees a ticket's places at the coordinator; jobs waiting for them are dispatched. */
  release(ticket: Ticket<JobRun> | undefined): void {
    if (ticket === undefined) return;
    this.#coordinator.release(ticket);
    this.dispatchPlaced();
  }

  #dispatch(ticket: Ticket<JobRun>): void {
    const run = ticket.payload;
    const now = performance.now();
    // Its worker is ready to take it: a job submitted while the workers started begins its timeoutMs now.
    run.startClock(now);
    // least-busy is the no-affinity baseline: each worker's own pool is capped, not the origin's total.
    run.dispatch(ticket, now, this.#options.balancing === 'least-busy' ? -1 : ticket.slot);
    this.#shards.send(ticket.worker, run);
    requestStarted(run, ticket.worker);
    if (jobStartChannel.hasSubscribers) {
      const job = run.job;
      jobStartChannel.publish({
        id: run.id,
        jobId: job.id,
        origin: run.origin,
        method: run.hop?.method ?? job.method,
        worker: ticket.worker,
        attempt: run.attempts,
        // 0 for the job's own request; n for a hop after n redirects (a redirect to another origin).
        redirects: run.redirects?.length ?? 0,
      });
    }
  }

  /** Records an attempt's result with the traffic rules of the job's origin (breaker, budget, latency). */
  record(run: JobRun, attempt: AttemptResult, latencyMs: number): void {
    this.#traffic.recordAttempt(run.job.origin, attempt, latencyMs, run.takeAdmission() ?? 'pass', run.job.tenant);
  }

  /**
   * Schedules another attempt if the traffic rules allow one; true when scheduled. `error`: the attempt's,
   * when it failed (what a `beforeRetry` hook is told).
   */
  scheduleRetry(run: JobRun, attempt: AttemptResult, now: number, error?: FlowpoolError): boolean {
    const job = run.job;
    const hooks = run.hooks;
    // Attempts a hook asked for are the caller's decision: they do not use up flowpool's own retries.
    const attempts = hooks === undefined ? run.attempts : run.attempts - hooks.retriesAsked;
    const delay = this.#traffic.retryDelay(job.origin, job, attempts, attempt, run.deadline - now);
    if (delay === undefined) return false;
    this.#stats.retries++;
    if (jobRetryChannel.hasSubscribers) {
      jobRetryChannel.publish({
        id: run.id,
        jobId: job.id,
        origin: job.origin,
        attempt: run.attempts,
        delayMs: delay,
        ...(attempt.ok ? { status: attempt.status } : { code: attempt.code }),
      });
    }
    run.backoff(
      setTimeout(() => {
        run.backoffOver();
        if (hooks === undefined) this.admit(run, true);
        else {
          const status = attempt.ok ? attempt.status : undefined;
          this.#hookSteps.retry(run, hooks, { error, status, delayMs: delay });
        }
      }, delay),
    );
    return true;
  }
}
