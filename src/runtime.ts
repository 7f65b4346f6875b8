/**
 * createRuntime(): wires options, policy, coordinator and shards, and keeps the promise of every job.
 * Each submitted job settles exactly once: `#settle` is the only place that resolves or rejects.
 */
import { ConnectionCounters } from './connection-counters.js';
import { Coordinator, type Ticket } from './coordinator.js';
import { deserializeError, FlowpoolError } from './errors.js';
import { normalizeJob, type HttpJob, type NormalizedJob } from './job.js';
import { parseOptions, type ResolvedOptions, type RuntimeOptions } from './options.js';
import { DestinationPolicy } from './policy/index.js';
import type { HopRequest, JobOutcome, JobRedirect, JobRequest } from './protocol.js';
import { runMany, type RunManyOptions, type RunManyResult } from './run-many.js';
import { renderMetrics } from './metrics.js';
import { Shards } from './shards.js';
import { circuitChangeChannel, jobEndChannel, jobRetryChannel, jobStartChannel } from './diagnostics.js';
import { systemClock } from './traffic/clock.js';
import type { PassKind } from './traffic/circuit-breaker.js';
import { TrafficController, type AttemptResult } from './traffic/traffic-controller.js';
import { combineStats, RuntimeCounters, type RuntimeStats } from './stats.js';
import { dispatchPayload, storeSetCookies } from './cookies.js';
import type { TypedHttpResult, TypedRun } from './result-types.js';

/** What `run()` resolves with, for any HTTP status. */
export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  /** text: string; json: the parsed value (null for an empty body); bytes: Uint8Array. */
  readonly body: unknown;
  /** The final URL, after redirects. */
  readonly url: string;
  /** Every URL redirected to, in order. */
  readonly redirects: readonly string[];
  /** Bytes of body received (after decompression). */
  readonly bytes: number;
  readonly timings: {
    /** Waiting in the coordinator for a worker or a connection, before the first dispatch. */
    readonly queuedMs: number;
    /**
     * From the first dispatch to the final hop's response headers (the final dispatch's part measured
     * in the worker; a redirect to another origin is dispatched again, its wait included).
     */
    readonly headersMs: number;
    /** From submission to the last body byte back on the caller's thread. */
    readonly totalMs: number;
  };
  /** Index of the worker that ran the job (its final hop, after a redirect to another origin). */
  readonly worker: number;
  /** Runs it took: 2 when a worker died under the first and the job was safe to repeat. */
  readonly attempts: number;
}

export interface RunOptions {
  /** Aborts this job only (queued or running); it rejects with `FLOWPOOL_ABORTED`. */
  readonly signal?: AbortSignal;
}

/** The runtime an engine embeds. */
export interface Runtime {
  /**
   * Runs one job. Resolves for any HTTP status; rejects only with {@link FlowpoolError}. The body's type
   * follows the job: `run<T>()` types a JSON body (or a transform's result), see {@link TypedRun}.
   */
  run: TypedRun;
  /**
   * Runs jobs from any (async) iterable with at most `concurrency` in flight, yielding settled results
   * in completion order. Reads its input only as fast as results are consumed, so memory stays bounded.
   */
  runMany(jobs: Iterable<HttpJob> | AsyncIterable<HttpJob>, options?: RunManyOptions): AsyncIterable<RunManyResult>;
  /** Per worker, per host and total counters. */
  stats(): Promise<RuntimeStats>;
  /** The same counters in the Prometheus text exposition format (for a `/metrics` endpoint). */
  metrics(): Promise<string>;
  /** Stops accepting jobs, lets queued and running ones finish, then stops the workers. Idempotent. */
  close(): Promise<void>;
  /** Rejects every queued and running job with `FLOWPOOL_CLOSED` and stops the workers. Idempotent. */
  destroy(): Promise<void>;
  /** The options in force, defaults filled in. */
  readonly options: ResolvedOptions;
}

interface PendingJob {
  readonly id: number;
  readonly job: NormalizedJob;
  readonly submittedAt: number;
  readonly deadline: number;
  readonly resolve: (result: HttpResult) => void;
  readonly reject: (error: FlowpoolError) => void;
  readonly signal: AbortSignal | undefined;
  settled: boolean;
  /** Runs so far: the first, retries, and a re-run after a worker crash. */
  attempts: number;
  /** Re-runs after a worker crash (at most one). */
  crashReruns: number;
  /** When the current attempt was first dispatched (its later hops keep it). */
  dispatchedAt: number;
  /** When the current hop was dispatched: dispatchedAt, or later for a redirect to another origin. */
  hopDispatchedAt: number;
  /** The request the current attempt is at, once a redirect to another origin came back; else the job's own. */
  hop: HopRequest | undefined;
  /** URLs the current attempt was redirected to before its current hop. */
  redirects: readonly string[] | undefined;
  ticket: Ticket<PendingJob> | undefined;
  queueTimer: NodeJS.Timeout | undefined;
  /** Waiting out a retry's backoff; the job is in no queue meanwhile. */
  waitTimer: NodeJS.Timeout | undefined;
  /** How the circuit breaker admitted the current attempt, until that attempt's outcome is recorded. */
  admitted: PassKind | undefined;
  onAbort: (() => void) | undefined;
}

/** Origins forgotten when idle (and without open sockets) this often. */
const SWEEP_INTERVAL_MS = 5_000;
/**
 * The worker enforces each deadline with its own timer; this backstop settles a job on the main thread
 * if its worker has not answered this long after the deadline (a transform stuck in a loop blocks the
 * worker's timers too). Its slot stays taken until the worker really answers.
 */
const DEADLINE_GRACE_MS = 1_000;
const WATCHDOG_INTERVAL_MS = 500;

/**
 * Creates a runtime. Options are validated synchronously: bad ones throw `FLOWPOOL_INVALID_OPTIONS`
 * naming the option path, what was expected and what was received.
 */
export function createRuntime(options?: RuntimeOptions): Runtime {
  return new FlowpoolRuntime(parseOptions(options));
}

class FlowpoolRuntime implements Runtime {
  readonly options: ResolvedOptions;
  readonly #policy: DestinationPolicy;
  readonly #counters: ConnectionCounters;
  readonly #coordinator: Coordinator<PendingJob>;
  readonly #shards: Shards;
  readonly #stats: RuntimeCounters;
  readonly #traffic: TrafficController;
  readonly #pending = new Map<number, PendingJob>();
  /** Dispatched jobs by id, until their worker answers (even if the caller's promise already settled). */
  readonly #running = new Map<number, Ticket<PendingJob>>();
  readonly #sweepTimer: NodeJS.Timeout;
  readonly #watchdogTimer: NodeJS.Timeout;
  #nextId = 1;
  #closing: Promise<void> | undefined;
  #destroying: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  constructor(options: ResolvedOptions) {
    this.options = options;
    this.#policy = DestinationPolicy.compile(options.policy);
    this.#counters = ConnectionCounters.allocate(options.maxOrigins, options.workers);
    this.#stats = new RuntimeCounters(options.workers);
    this.#traffic = new TrafficController(options, systemClock, {
      onCircuitChange: (origin, from, to) => {
        if (circuitChangeChannel.hasSubscribers) circuitChangeChannel.publish({ origin, from, to });
      },
    });
    this.#coordinator = new Coordinator<PendingJob>(
      {
        workers: options.workers,
        connectionsPerHost: options.connectionsPerHost,
        concurrencyPerWorker: options.concurrencyPerWorker,
        maxQueue: options.maxQueue,
        maxOrigins: options.maxOrigins,
        balancing: options.balancing,
        originRules: (origin) => this.#traffic.originRules(origin, new URL(origin).hostname),
      },
      this.#counters,
      (ticket) => this.#dispatch(ticket),
    );
    // Jobs wait in the coordinator (where limits apply) until each worker has booted, not in piscina.
    for (let shard = 0; shard < options.workers; shard++) this.#coordinator.setReady(shard, false);
    this.#shards = new Shards(options, this.#counters, {
      onOutcome: (id, outcome) => {
        const ticket = this.#running.get(id);
        if (ticket === undefined) return;
        this.#running.delete(id);
        this.#finished(ticket, outcome);
      },
      onBatchFailed: (ids, error) => {
        for (const id of ids) {
          const ticket = this.#running.get(id);
          if (ticket === undefined) continue;
          this.#running.delete(id);
          this.#crashed(ticket, error);
        }
      },
      onWorkerLost: (shard) => {
        this.#stats.restarts[shard] = (this.#stats.restarts[shard] ?? 0) + 1;
        this.#coordinator.setReady(shard, false);
        this.#coordinator.workerLost(shard);
      },
      onWorkerReady: (shard) => this.#coordinator.setReady(shard, true),
    });
    this.#sweepTimer = setInterval(() => this.#coordinator.sweep(), SWEEP_INTERVAL_MS);
    this.#sweepTimer.unref();
    this.#watchdogTimer = setInterval(() => this.#expireUnanswered(), WATCHDOG_INTERVAL_MS);
    this.#watchdogTimer.unref();
  }

  // Generic so that it satisfies every overload of TypedRun; the worker produced the body the job asked for.
  run<B>(job: HttpJob, options: RunOptions = {}): Promise<TypedHttpResult<B>> {
    return new Promise<TypedHttpResult<B>>((resolve, reject) => {
      this.#submit(job, options.signal, resolve as (result: HttpResult) => void, reject, false);
    });
  }

  runMany(
    jobs: Iterable<HttpJob> | AsyncIterable<HttpJob>,
    options: RunManyOptions = {},
  ): AsyncIterable<RunManyResult> {
    return runMany(
      jobs,
      options,
      (job, signal) =>
        new Promise<HttpResult>((resolve, reject) => {
          // runMany bounds its own concurrency, so it may queue past maxQueue instead of failing.
          this.#submit(job, signal, resolve, reject, true);
        }),
    );
  }

  async stats(): Promise<RuntimeStats> {
    const workers = await this.#shards.workerStats();
    return combineStats(
      this.#stats,
      this.#coordinator.snapshot(),
      this.#traffic.snapshot(),
      workers,
      this.#shards.threadIds(),
    );
  }

  async metrics(): Promise<string> {
    return renderMetrics(await this.stats());
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#pending.size > 0) {
        await new Promise<void>((resolve) => {
          this.#drained = resolve;
        });
      }
      clearInterval(this.#sweepTimer);
      clearInterval(this.#watchdogTimer);
      if (this.#destroying === undefined) await this.#shards.close();
      else await this.#destroying;
    })();
    return this.#closing;
  }

  destroy(): Promise<void> {
    this.#destroying ??= (async () => {
      this.#closing ??= Promise.resolve();
      clearInterval(this.#sweepTimer);
      clearInterval(this.#watchdogTimer);
      for (const pending of [...this.#pending.values()]) {
        if (pending.ticket !== undefined) this.#coordinator.cancel(pending.ticket);
        this.#settleError(
          pending,
          new FlowpoolError('FLOWPOOL_CLOSED', 'the runtime was destroyed before the job finished'),
        );
      }
      await this.#shards.destroy();
    })();
    return this.#destroying;
  }

  #submit(
    input: HttpJob,
    signal: AbortSignal | undefined,
    resolve: (result: HttpResult) => void,
    reject: (error: FlowpoolError) => void,
    overflow: boolean,
  ): void {
    this.#stats.submitted++;
    if (this.#closing !== undefined) {
      this.#fail(reject, new FlowpoolError('FLOWPOOL_CLOSED', 'the runtime is closed'));
      return;
    }
    let job: NormalizedJob;
    try {
      job = normalizeJob(input, this.options);
    } catch (error) {
      this.#fail(reject, error as FlowpoolError);
      return;
    }
    const verdict = this.#policy.checkUrl(job.url);
    if (!verdict.allowed) {
      const reason = verdict.reason ?? 'blocked';
      this.#fail(
        reject,
        new FlowpoolError('FLOWPOOL_BLOCKED_DESTINATION', `destination blocked: ${reason}`, withJobId(job, { reason })),
      );
      return;
    }
    if (signal?.aborted === true) {
      this.#fail(
        reject,
        new FlowpoolError('FLOWPOOL_ABORTED', 'job was aborted before it started', withJobId(job, {})),
      );
      return;
    }
    const now = performance.now();
    const pending: PendingJob = {
      id: this.#nextId++,
      job,
      submittedAt: now,
      deadline: now + job.timeoutMs,
      resolve,
      reject,
      signal,
      settled: false,
      attempts: 0,
      crashReruns: 0,
      dispatchedAt: 0,
      hopDispatchedAt: 0,
      hop: undefined,
      redirects: undefined,
      ticket: undefined,
      queueTimer: undefined,
      waitTimer: undefined,
      admitted: undefined,
      onAbort: undefined,
    };
    this.#pending.set(pending.id, pending);
    // Outcomes arrive on worker ports that are unref'd (an idle runtime must not keep the engine's
    // process alive); while a job is pending, this timer does, or Node could exit under an awaited run.
    if (this.#pending.size === 1) this.#watchdogTimer.ref();
    if (signal !== undefined) {
      pending.onAbort = () => this.#abort(pending);
      signal.addEventListener('abort', pending.onAbort, { once: true });
    }
    this.#traffic.recordFirstAttempt(job.origin, job.url.hostname);
    this.#admit(pending, overflow);
  }

  /** Per-host admission before the coordinator: the circuit breaker (rate limits apply at dispatch). */
  #admit(pending: PendingJob, overflow: boolean): void {
    const job = pending.job;
    const admission = this.#traffic.admit(job.origin, job.url.hostname);
    if (admission.kind === 'circuit-open') {
      this.#settleError(
        pending,
        new FlowpoolError(
          'FLOWPOOL_CIRCUIT_OPEN',
          `the circuit for ${job.origin} is open after repeated failures; next probe in ${Math.ceil(admission.retryInMs)} ms`,
          withJobId(job, { retryInMs: admission.retryInMs, attempts: pending.attempts }),
        ),
      );
      return;
    }
    pending.admitted = admission.pass;
    this.#enqueue(pending, overflow);
  }

  /** Starts an attempt: the job's own request, queued at the coordinator. */
  #enqueue(pending: PendingJob, overflow: boolean): void {
    if (pending.settled) return;
    pending.attempts++;
    pending.hop = undefined;
    pending.redirects = undefined;
    this.#queue(pending, overflow);
  }

  /** Queues the attempt's current request (the job's, or a redirect hop) for its origin. */
  #queue(pending: PendingJob, overflow: boolean): void {
    if (performance.now() >= pending.deadline) {
      // This thread got here after the deadline (the engine's own work delayed a redirect's answer or a
      // retry's timer): a request sent now would have no time left and could still reach its server
      // after the caller was told the job failed. Not the origin's fault: cleanup gives the breaker's
      // admission back without a failure.
      const what = pending.hop === undefined ? 'the job' : `the redirect to ${pending.hop.origin}`;
      this.#settleError(
        pending,
        new FlowpoolError(
          'FLOWPOOL_TIMEOUT',
          `timeoutMs (${pending.job.timeoutMs} ms) elapsed before ${what} was sent`,
          withJobId(pending.job, { phase: 'total' as const }),
        ),
      );
      return;
    }
    const ticket = this.#coordinator.submit(pending.hop?.origin ?? pending.job.origin, pending, overflow);
    if (ticket === undefined) {
      this.#settleError(
        pending,
        new FlowpoolError(
          'FLOWPOOL_QUEUE_FULL',
          `the queue is full (maxQueue ${this.options.maxQueue})`,
          withJobId(pending.job, {}),
        ),
      );
      return;
    }
    pending.ticket = ticket;
    if (ticket.state === 'queued' && !pending.settled) {
      // The deadline covers waiting too: a job that cannot start in time fails as queued.
      const remaining = Math.max(0, pending.deadline - performance.now());
      pending.queueTimer = setTimeout(() => {
        if (this.#coordinator.cancel(ticket)) {
          this.#settleError(
            pending,
            new FlowpoolError(
              'FLOWPOOL_TIMEOUT',
              `timeoutMs (${pending.job.timeoutMs} ms) elapsed while queued`,
              withJobId(pending.job, { phase: 'queued' as const }),
            ),
          );
        }
      }, remaining);
    }
  }

  /** Called by the coordinator, synchronously, when a ticket gets a worker. */
  #dispatch(ticket: Ticket<PendingJob>): void {
    const pending = ticket.payload;
    clearTimeout(pending.queueTimer);
    pending.queueTimer = undefined;
    pending.ticket = ticket;
    const now = performance.now();
    const job = pending.job;
    const hop = pending.hop;
    if (hop === undefined) pending.dispatchedAt = now;
    pending.hopDispatchedAt = now;
    const request: JobRequest = {
      id: pending.id,
      origin: hop?.origin ?? job.origin,
      path: hop?.path ?? `${job.url.pathname}${job.url.search}`,
      method: hop?.method ?? job.method,
      headers: hop?.headers ?? job.headers,
      body: hop === undefined ? job.body : hop.body,
      responseType: job.responseType,
      timeoutMs: Math.max(1, Math.round(pending.deadline - now)),
      maxResponseBytes: job.maxResponseBytes,
      followRedirects: job.followRedirects,
      maxRedirects: job.maxRedirects - (pending.redirects?.length ?? 0),
      jobTimeoutMs: job.timeoutMs,
      jobMaxRedirects: job.maxRedirects,
      // least-busy is the no-affinity baseline: each worker's own pool is capped, not the origin's total.
      slot: this.options.balancing === 'least-busy' ? -1 : ticket.slot,
      idempotent: job.idempotent,
      ...(job.transform === undefined ? {} : { transform: job.transform }),
      ...dispatchPayload(job.payload, job.cookieJar, hop?.origin ?? job.origin),
    };
    this.#running.set(pending.id, ticket);
    this.#shards.send(ticket.worker, request);
    if (jobStartChannel.hasSubscribers) {
      jobStartChannel.publish({
        id: pending.id,
        jobId: job.id,
        origin: request.origin,
        method: request.method,
        worker: ticket.worker,
        attempt: pending.attempts,
        // 0 for the job's own request; n for a hop after n redirects (a redirect to another origin).
        redirects: pending.redirects?.length ?? 0,
      });
    }
  }

  #finished(ticket: Ticket<PendingJob>, outcome: JobOutcome): void {
    storeSetCookies(ticket.payload.job.cookieJar, outcome);
    if (outcome.ok === 'redirect') {
      this.#redirected(ticket, outcome);
      return;
    }
    const pending = ticket.payload;
    const now = performance.now();
    let attempt: AttemptResult;
    let error: FlowpoolError | undefined;
    if (outcome.ok) {
      attempt = { ok: true, status: outcome.status, headers: outcome.headers };
    } else {
      // Built once: its code feeds the traffic rules, and it is what the caller gets if no retry follows.
      error = deserializeError(outcome.error, withJobId(pending.job, { attempts: pending.attempts }));
      attempt = { ok: false, code: error.code };
    }
    this.#recordAttempt(pending, attempt, now - pending.dispatchedAt);
    if (!pending.settled && this.#destroying === undefined && this.#scheduleRetry(pending, attempt, now)) {
      this.#coordinator.release(ticket);
      return;
    }
    if (outcome.ok) {
      const redirects = joinRedirects(pending.redirects, outcome.redirects);
      this.#settleValue(pending, {
        status: outcome.status,
        headers: outcome.headers,
        body: outcome.body,
        url: redirects.at(-1) ?? pending.job.url.href,
        redirects,
        bytes: outcome.bytes,
        timings: {
          queuedMs: pending.dispatchedAt - pending.submittedAt,
          headersMs: pending.hopDispatchedAt - pending.dispatchedAt + outcome.headersMs,
          totalMs: now - pending.submittedAt,
        },
        worker: ticket.worker,
        attempts: pending.attempts,
      });
    } else if (error !== undefined) {
      this.#settleError(pending, error);
    }
    this.#coordinator.release(ticket);
    this.#checkDrained();
  }

  /**
   * A worker handed back a redirect to another origin: the attempt goes on there, queued for that
   * origin like a job of its own (its cap, home worker, rate and concurrency limits), within the same
   * deadline and redirect budget. Not an attempt's end: the job's origin records the attempt once.
   */
  #redirected(ticket: Ticket<PendingJob>, outcome: JobRedirect): void {
    const pending = ticket.payload;
    this.#coordinator.release(ticket);
    if (pending.settled || this.#destroying !== undefined) {
      // Aborted or timed out meanwhile: give the attempt's admission back; nothing follows.
      this.#recordAttempt(pending, { ok: false, code: 'FLOWPOOL_ABORTED' }, 0);
      this.#checkDrained();
      return;
    }
    pending.redirects = joinRedirects(pending.redirects, outcome.redirects);
    pending.hop = outcome.next;
    this.#queue(pending, true);
  }

  #recordAttempt(pending: PendingJob, attempt: AttemptResult, latencyMs: number): void {
    this.#traffic.recordAttempt(pending.job.origin, attempt, latencyMs, pending.admitted ?? 'pass');
    pending.admitted = undefined;
  }

  /** Schedules another attempt if the traffic rules allow one; true when scheduled. */
  #scheduleRetry(pending: PendingJob, attempt: AttemptResult, now: number): boolean {
    const job = pending.job;
    const delay = this.#traffic.retryDelay(job.origin, job, pending.attempts, attempt, pending.deadline - now);
    if (delay === undefined) return false;
    this.#stats.retries++;
    if (jobRetryChannel.hasSubscribers) {
      jobRetryChannel.publish({
        id: pending.id,
        jobId: job.id,
        origin: job.origin,
        attempt: pending.attempts,
        delayMs: delay,
        ...(attempt.ok ? { status: attempt.status } : { code: attempt.code }),
      });
    }
    pending.ticket = undefined;
    pending.waitTimer = setTimeout(() => {
      pending.waitTimer = undefined;
      this.#admit(pending, true);
    }, delay);
    return true;
  }

  /** The worker died (or was destroyed) while running the job: nothing of it reached the caller. */
  #crashed(ticket: Ticket<PendingJob>, error: unknown): void {
    const pending = ticket.payload;
    this.#coordinator.release(ticket);
    this.#recordAttempt(pending, { ok: false, code: 'FLOWPOOL_WORKER_CRASHED' }, 0);
    if (pending.settled) {
      this.#checkDrained();
      return;
    }
    const why = error instanceof Error ? error.message : String(error);
    if (this.#destroying !== undefined) {
      this.#settleError(
        pending,
        new FlowpoolError('FLOWPOOL_CLOSED', 'the runtime was destroyed before the job finished'),
      );
    } else if (pending.job.repeatable && pending.crashReruns === 0 && performance.now() < pending.deadline) {
      // Safe to repeat (GET/HEAD/OPTIONS or marked idempotent) and no result was delivered: run once more.
      pending.crashReruns++;
      this.#stats.rerunsAfterCrash++;
      this.#enqueue(pending, true);
    } else {
      this.#settleError(
        pending,
        new FlowpoolError(
          'FLOWPOOL_WORKER_CRASHED',
          `the worker running the job died: ${why}`,
          withJobId(pending.job, {}),
        ),
      );
    }
  }

  #expireUnanswered(): void {
    const limit = performance.now() - DEADLINE_GRACE_MS;
    for (const ticket of this.#running.values()) {
      const pending = ticket.payload;
      if (pending.settled || pending.deadline > limit) continue;
      this.#settleError(
        pending,
        new FlowpoolError(
          'FLOWPOOL_TIMEOUT',
          `timeoutMs (${pending.job.timeoutMs} ms) elapsed and the worker did not answer (it is busy or stuck)`,
          withJobId(pending.job, { phase: 'total' as const }),
        ),
      );
    }
  }

  #abort(pending: PendingJob): void {
    if (pending.settled) return;
    const ticket = pending.ticket;
    if (ticket !== undefined && ticket.state === 'running') {
      // Cooperative: the worker aborts this job's own controller; its slot frees when the worker answers.
      void this.#shards.cancel(ticket.worker, pending.id);
    } else if (ticket !== undefined) {
      this.#coordinator.cancel(ticket);
    }
    this.#settleError(pending, new FlowpoolError('FLOWPOOL_ABORTED', 'job was aborted', withJobId(pending.job, {})));
  }

  #settleValue(pending: PendingJob, result: HttpResult): void {
    if (!this.#cleanup(pending)) return;
    this.#stats.succeeded++;
    if (jobEndChannel.hasSubscribers) {
      jobEndChannel.publish({
        id: pending.id,
        jobId: pending.job.id,
        origin: pending.job.origin,
        ok: true,
        status: result.status,
        attempts: pending.attempts,
        durationMs: result.timings.totalMs,
      });
    }
    pending.resolve(result);
    this.#checkDrained();
  }

  #settleError(pending: PendingJob, error: FlowpoolError): void {
    if (!this.#cleanup(pending)) return;
    this.#stats.recordFailure(error.code);
    if (jobEndChannel.hasSubscribers) {
      jobEndChannel.publish({
        id: pending.id,
        jobId: pending.job.id,
        origin: pending.job.origin,
        ok: false,
        code: error.code,
        attempts: pending.attempts,
        durationMs: performance.now() - pending.submittedAt,
      });
    }
    pending.reject(error);
    this.#checkDrained();
  }

  /** Marks the job settled; false if it already was (the one guard behind "exactly once"). */
  #cleanup(pending: PendingJob): boolean {
    if (pending.settled) return false;
    pending.settled = true;
    this.#pending.delete(pending.id);
    if (this.#pending.size === 0) this.#watchdogTimer.unref();
    clearTimeout(pending.queueTimer);
    clearTimeout(pending.waitTimer);
    // Admitted but never (or no longer) going to run: give the admission back. A running attempt
    // reports its own outcome when its worker answers.
    if (pending.admitted !== undefined && pending.ticket?.state !== 'running') {
      this.#traffic.releaseAdmission(pending.job.origin, pending.admitted);
      pending.admitted = undefined;
    }
    if (pending.onAbort !== undefined) pending.signal?.removeEventListener('abort', pending.onAbort);
    return true;
  }

  #checkDrained(): void {
    if (this.#drained !== undefined && this.#pending.size === 0 && this.#coordinator.running === 0) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained();
    }
  }

  #fail(reject: (error: FlowpoolError) => void, error: FlowpoolError): void {
    this.#stats.recordFailure(error.code);
    reject(error);
  }
}

/** The attempt's redirects so far followed by a dispatch's own (either may be absent). */
function joinRedirects(before: readonly string[] | undefined, after: readonly string[] | undefined): readonly string[] {
  if (before === undefined) return after ?? [];
  return after === undefined ? before : [...before, ...after];
}

function withJobId<T extends object>(job: NormalizedJob, details: T): T & { jobId?: string } {
  return job.id === undefined ? details : { ...details, jobId: job.id };
}
