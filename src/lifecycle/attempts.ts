/**
 * A job's way to a worker: admission by its host's circuit breaker, queueing at the coordinator (under the
 * deadline), dispatch of what the coordinator placed to its shard, and the delay before a retry. Each step is
 * a named transition of the job's {@link JobRun}.
 */
import { FlowpoolError } from '../errors/flowpool-error.js';
import { dispatchPayload } from '../job/cookies.js';
import type { ResolvedOptions } from '../config/options.js';
import { jobRetryChannel, jobStartChannel } from '../observe/diagnostics.js';
import type { RuntimeCounters } from '../observe/stats.js';
import type { Coordinator, Ticket } from '../scheduling/coordinator.js';
import type { AttemptResult, TrafficController } from '../traffic/traffic-controller.js';
import type { JobRequest } from '../wire/protocol.js';
import type { HookSteps } from './hooks.js';
import type { JobRun } from './job-run.js';
import { withJobId, type Settlements } from './settlement.js';

/** What the lifecycle needs of the shards (threads/shards.ts): each worker's outbox. A fake serves tests. */
export interface WorkerOutboxes {
  /** Queues a request for the worker; it leaves with the others of this microtask checkpoint. */
  send(worker: number, request: JobRequest): void;
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

/** The longest delay setTimeout takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

export class Attempts {
  readonly #options: ResolvedOptions;
  readonly #coordinator: Coordinator<JobRun>;
  readonly #shards: WorkerOutboxes;
  readonly #traffic: TrafficController;
  readonly #stats: RuntimeCounters;
  readonly #settlements: Settlements;
  readonly #hookSteps: HookSteps;

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
    const admission = this.#traffic.admit(job.origin, job.url.hostname);
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
      run.waitInQueue(ticket, this.#queueTimer(run, ticket));
      return;
    }
    this.dispatchPlaced();
  }

  #queueTimer(run: JobRun, ticket: Ticket<JobRun>): NodeJS.Timeout {
    // Node fires a longer delay after 1 ms: wait the longest it takes, and look again when it fires.
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, run.deadline - performance.now()));
    return setTimeout(() => this.#queuedTooLong(run, ticket), delay);
  }

  #queuedTooLong(run: JobRun, ticket: Ticket<JobRun>): void {
    if (performance.now() < run.deadline && ticket.state === 'queued') {
      run.rearmQueueTimer(this.#queueTimer(run, ticket));
      return;
    }
    run.queueTimerFired();
    if (!this.#coordinator.cancel(ticket)) return;
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

  /**
   * A worker can take the job now: its `timeoutMs` starts (the deadline timer of a queued job, or of a job
   * whose hook runs, follows it).
   */
  startClock(run: JobRun, now: number): void {
    if (!run.startClock(now)) return;
    const ticket = run.ticket;
    if (run.state === 'queued' && ticket !== undefined) run.rearmQueueTimer(this.#queueTimer(run, ticket));
    else if (run.state === 'hook') this.#hookSteps.deadlineMoved(run);
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
    if (!run.clockStarted) run.startClock(now);
    run.dispatch(ticket, now);
    const job = run.job;
    const hop = run.hop;
    const redirects = run.redirects;
    const request: JobRequest = {
      id: run.id,
      origin: hop?.origin ?? job.origin,
      path: hop?.path ?? `${job.url.pathname}${job.url.search}`,
      method: hop?.method ?? job.method,
      headers: hop?.headers ?? job.headers,
      body: hop === undefined ? job.body : hop.body,
      responseType: job.responseType,
      timeoutMs: Math.max(1, Math.round(run.deadline - now)),
      maxResponseBytes: job.maxResponseBytes,
      followRedirects: job.followRedirects,
      maxRedirects: job.maxRedirects - (redirects?.length ?? 0),
      jobTimeoutMs: job.timeoutMs,
      jobMaxRedirects: job.maxRedirects,
      // least-busy is the no-affinity baseline: each worker's own pool is capped, not the origin's total.
      slot: this.#options.balancing === 'least-busy' ? -1 : ticket.slot,
      repeatable: job.repeatable,
      transform: job.transform,
      // A plain job carries neither: no object is built for it.
      payload:
        job.cookieJar === undefined
          ? job.payload
          : dispatchPayload(job.payload, job.cookieJar, hop?.origin ?? job.origin).payload,
    };
    this.#shards.send(ticket.worker, request);
    if (jobStartChannel.hasSubscribers) {
      jobStartChannel.publish({
        id: run.id,
        jobId: job.id,
        origin: request.origin,
        method: request.method,
        worker: ticket.worker,
        attempt: run.attempts,
        // 0 for the job's own request; n for a hop after n redirects (a redirect to another origin).
        redirects: redirects?.length ?? 0,
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
