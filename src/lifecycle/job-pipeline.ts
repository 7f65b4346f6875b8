/**
 * A job's way from submission to settlement on the main thread: admission by its host's circuit breaker,
 * queueing at the coordinator, dispatch to a shard, the worker's answer, and what follows it (a retry after
 * a delay, a redirect hop to another origin, a re-run after a crash, or the end). Each step is a transition
 * of the job's {@link JobRun}; this class decides which, and talks to the coordinator, the shards and the
 * traffic rules. The runtime facade only wires it.
 */
import type { Coordinator, Ticket } from '../scheduling/coordinator.js';
import { jobEndChannel, jobRetryChannel, jobStartChannel } from '../observe/diagnostics.js';
import { deserializeError, FlowpoolError } from '../errors/flowpool-error.js';
import type { NormalizedJob } from '../job/job.js';
import type { ResolvedOptions } from '../config/options.js';
import type { JobNoConnection, JobOutcome, JobRedirect, JobRequest, JobSuccess } from '../wire/protocol.js';
import type { HttpResult } from '../job/result.js';
import type { Shards } from '../threads/shards.js';
import type { RuntimeCounters } from '../observe/stats.js';
import type { AttemptResult, TrafficController } from '../traffic/traffic-controller.js';
import { JobRun, joinRedirects } from './job-run.js';
import { dispatchPayload, storeSetCookies } from '../job/cookies.js';
import { holdUntilBodyEnds, isStreamSuccess, type StreamSuccess } from '../threads/response-stream.js';

/**
 * The worker enforces each deadline with its own timer; this backstop settles a job on the main thread if
 * its worker has not answered this long after the deadline (a transform stuck in a loop blocks the worker's
 * timers too). Its slot stays taken until the worker really answers.
 */
const DEADLINE_GRACE_MS = 1_000;
const WATCHDOG_INTERVAL_MS = 500;

export interface PipelineParts {
  readonly options: ResolvedOptions;
  readonly coordinator: Coordinator<JobRun>;
  readonly shards: () => Shards;
  readonly traffic: TrafficController;
  readonly stats: RuntimeCounters;
}

export class JobPipeline {
  readonly #options: ResolvedOptions;
  readonly #coordinator: Coordinator<JobRun>;
  readonly #shards: () => Shards;
  readonly #traffic: TrafficController;
  readonly #stats: RuntimeCounters;
  /** Jobs whose caller has not been answered yet. */
  readonly #open = new Map<number, JobRun>();
  /** Jobs a worker holds (dispatched, sent or abandoned), until it answers: their slots are taken. */
  readonly #held = new Map<number, JobRun>();
  /** Referenced while any job is open, so Node cannot exit under an awaited run (worker ports are unref'd). */
  readonly #watchdog: NodeJS.Timeout;
  #nextId = 1;
  #destroyed = false;
  #idle: (() => void) | undefined;

  constructor(parts: PipelineParts) {
    this.#options = parts.options;
    this.#coordinator = parts.coordinator;
    this.#shards = parts.shards;
    this.#traffic = parts.traffic;
    this.#stats = parts.stats;
    this.#watchdog = setInterval(() => {
      this.#expireUnanswered();
    }, WATCHDOG_INTERVAL_MS);
    this.#watchdog.unref();
  }

  /** Jobs not settled yet, and jobs whose worker still holds a slot. */
  get busy(): boolean {
    return this.#open.size > 0 || this.#held.size > 0 || this.#streaming > 0;
  }

  /** Stream bodies handed over and not yet ended or cancelled: each still holds its slot. */
  #streaming = 0;

  #holdSlot(ticket: Ticket<JobRun>, outcome: StreamSuccess): StreamSuccess {
    this.#streaming++;
    return holdUntilBodyEnds(outcome, () => {
      this.#streaming--;
      this.#coordinator.release(ticket);
      this.#checkIdle();
    });
  }

  /** Resolves once no job is open and no worker holds one (for close()). */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#idle = resolve;
    });
  }

  /** Takes a validated job. `overflow` lets runMany queue past maxQueue (it bounds its own concurrency). */
  submit(
    job: NormalizedJob,
    signal: AbortSignal | undefined,
    resolve: (result: HttpResult) => void,
    reject: (error: FlowpoolError) => void,
    overflow: boolean,
  ): void {
    const run = new JobRun(this.#nextId++, job, performance.now(), resolve, reject);
    this.#open.set(run.id, run);
    if (this.#open.size === 1) this.#watchdog.ref();
    if (signal !== undefined) {
      const onAbort = (): void => {
        this.#abort(run);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      run.detachSignal = () => {
        signal.removeEventListener('abort', onAbort);
      };
    }
    this.#traffic.recordFirstAttempt(job.origin, job.url.hostname);
    this.#stats.tenants.submitted(job.tenant);
    this.#admit(run, overflow);
  }

  /** Settles every job with FLOWPOOL_CLOSED (destroy()). */
  destroyAll(): void {
    this.#destroyed = true;
    clearInterval(this.#watchdog);
    for (const run of [...this.#open.values()]) {
      if (run.state === 'queued' && run.ticket !== undefined) this.#coordinator.cancel(run.ticket);
      this.#fail(run, new FlowpoolError('FLOWPOOL_CLOSED', 'the runtime was destroyed before the job finished'));
    }
  }

  stop(): void {
    clearInterval(this.#watchdog);
  }

  // ---- shard events -------------------------------------------------------------------------------------

  /** The outbox of a shard was posted: these jobs are with the worker now. */
  onPosted(ids: readonly number[]): void {
    for (const id of ids) {
      const run = this.#held.get(id);
      if (run?.state === 'dispatched') run.posted();
    }
  }

  onOutcome(id: number, outcome: JobOutcome): void {
    const run = this.#held.get(id);
    if (run === undefined) {
      // Nobody waits for it (the runtime was destroyed): a streamed body would hold its socket in the worker.
      if (isStreamSuccess(outcome)) void outcome.body.cancel();
      return;
    }
    storeSetCookies(run.job.cookieJar, outcome);
    const ticket = run.ticket;
    this.#held.delete(id);
    // A streamed body keeps its slot until it ends or is cancelled (the result is handed over at its headers).
    if (ticket !== undefined && isStreamSuccess(outcome)) outcome = this.#holdSlot(ticket, outcome);
    else if (ticket !== undefined) this.#coordinator.release(ticket);
    const sent = outcome.ok === false || outcome.ok === 'no-connection' ? outcome.sent : true;
    if (!run.answer(sent)) {
      if (isStreamSuccess(outcome)) void outcome.body.cancel();
      // The caller was answered already (deadline watchdog): record the attempt, free the slot, nothing more.
      this.#recordAttempt(run, attemptOutcome(outcome), 0);
      this.#checkIdle();
      return;
    }
    if (outcome.ok === 'redirect' || outcome.ok === 'no-connection') {
      this.#handedBack(run, outcome);
      return;
    }
    const now = performance.now();
    let attempt: AttemptResult;
    let error: FlowpoolError | undefined;
    if (outcome.ok) {
      attempt = attemptOf(outcome);
    } else {
      // Built once: its code feeds the traffic rules, and it is what the caller gets if no retry follows.
      error = deserializeError(outcome.error, withJobId(run.job, { attempts: run.attempts }));
      attempt = { ok: false, code: error.code };
    }
    this.#recordAttempt(run, attempt, now - run.dispatchedAt);
    if (run.cancelRequested) {
      if (isStreamSuccess(outcome)) void outcome.body.cancel();
      this.#settleAborted(run);
      return;
    }
    if (!this.#destroyed && this.#scheduleRetry(run, attempt, now)) return;
    if (outcome.ok) {
      const redirects = joinRedirects(run.redirects, outcome.redirects);
      this.#succeed(run, {
        status: outcome.status,
        headers: outcome.headers,
        body: outcome.body,
        url: redirects.at(-1) ?? run.job.url.href,
        redirects,
        bytes: outcome.bytes,
        timings: {
          queuedMs: run.dispatchedAt - run.submittedAt,
          headersMs: run.hopDispatchedAt - run.dispatchedAt + outcome.headersMs,
          totalMs: now - run.submittedAt,
        },
        worker: ticket?.worker ?? -1,
        attempts: run.attempts,
      });
    } else if (error !== undefined) {
      this.#fail(run, error);
    }
  }

  /** Jobs a worker died under (or that could not be posted): nothing of them reached the caller. */
  onBatchFailed(ids: readonly number[], error: Error): void {
    for (const id of ids) {
      const run = this.#held.get(id);
      if (run === undefined) continue;
      this.#held.delete(id);
      if (run.ticket !== undefined) this.#coordinator.release(run.ticket);
      // Posted to a thread that died: its request may have been written. Never posted: certainly not.
      const mayHaveSent = run.state !== 'dispatched';
      const waiting = run.answer(mayHaveSent);
      this.#recordAttempt(run, { ok: false, code: 'FLOWPOOL_WORKER_CRASHED' }, 0);
      if (!waiting) {
        this.#checkIdle();
        continue;
      }
      if (run.cancelRequested) {
        this.#settleAborted(run);
      } else if (this.#destroyed) {
        this.#fail(run, new FlowpoolError('FLOWPOOL_CLOSED', 'the runtime was destroyed before the job finished'));
      } else if ((run.job.repeatable || !mayHaveSent) && run.crashReruns === 0 && performance.now() < run.deadline) {
        // Safe to repeat (the one "repeatable" rule, or provably never sent) and nothing reached the caller.
        run.crashReruns++;
        this.#stats.rerunsAfterCrash++;
        this.#startAttempt(run, true);
      } else {
        this.#fail(
          run,
          new FlowpoolError(
            'FLOWPOOL_WORKER_CRASHED',
            `the worker running the job died: ${error.message}`,
            withJobId(run.job, {}),
          ),
        );
      }
    }
  }

  // ---- transitions --------------------------------------------------------------------------------------

  /** Per-host admission before the coordinator: the circuit breaker (rate limits apply at dispatch). */
  #admit(run: JobRun, overflow: boolean): void {
    const job = run.job;
    const admission = this.#traffic.admit(job.origin, job.url.hostname);
    if (admission.kind === 'circuit-open') {
      this.#fail(
        run,
        new FlowpoolError(
          'FLOWPOOL_CIRCUIT_OPEN',
          `the circuit for ${job.origin} is open after repeated failures; next probe in ${Math.ceil(admission.retryInMs)} ms`,
          withJobId(job, { retryInMs: admission.retryInMs, attempts: run.attempts }),
        ),
      );
      return;
    }
    run.admitted = admission.pass;
    this.#startAttempt(run, overflow);
  }

  #startAttempt(run: JobRun, overflow: boolean): void {
    run.startAttempt();
    this.#queue(run, overflow);
  }

  /** Queues the attempt's current request (the job's, or a redirect hop) for its origin. */
  #queue(run: JobRun, overflow: boolean, ratePaid = false): void {
    if (performance.now() >= run.deadline) {
      // This thread got here after the deadline (the engine's own work delayed a redirect's answer or a
      // retry's timer): a request sent now would have no time left and could still reach its server after
      // the caller was told the job failed.
      const what = run.hop === undefined ? 'the job' : `the redirect to ${run.hop.origin}`;
      this.#fail(
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
      this.#fail(
        run,
        new FlowpoolError(
          'FLOWPOOL_QUEUE_FULL',
          this.#coordinator.queueFullReason(run.job.tenant),
          withJobId(run.job, { tenant: run.job.tenant }),
        ),
      );
      return;
    }
    if (ticket.state !== 'queued' || run.callerSettled) return;
    run.ticket = ticket;
    // The deadline covers waiting too: a job that cannot start in time fails as queued.
    run.timer = setTimeout(
      () => {
        run.timer = undefined;
        if (this.#coordinator.cancel(ticket)) {
          this.#fail(
            run,
            new FlowpoolError(
              'FLOWPOOL_TIMEOUT',
              `timeoutMs (${run.job.timeoutMs} ms) elapsed while queued`,
              withJobId(run.job, { phase: 'queued' as const }),
            ),
          );
        }
      },
      Math.max(0, run.deadline - performance.now()),
    );
  }

  /** Called by the coordinator, synchronously, when a ticket gets a worker. */
  dispatch(ticket: Ticket<JobRun>): void {
    const run = ticket.payload;
    clearTimeout(run.timer);
    run.timer = undefined;
    const now = performance.now();
    run.dispatch(ticket, now);
    const job = run.job;
    const hop = run.hop;
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
      maxRedirects: job.maxRedirects - (run.redirects?.length ?? 0),
      jobTimeoutMs: job.timeoutMs,
      jobMaxRedirects: job.maxRedirects,
      // least-busy is the no-affinity baseline: each worker's own pool is capped, not the origin's total.
      slot: this.#options.balancing === 'least-busy' ? -1 : ticket.slot,
      idempotent: job.repeatable,
      ...(job.transform === undefined ? {} : { transform: job.transform }),
      ...dispatchPayload(job.payload, job.cookieJar, hop?.origin ?? job.origin),
    };
    this.#held.set(run.id, run);
    this.#shards().send(ticket.worker, request);
    if (jobStartChannel.hasSubscribers) {
      jobStartChannel.publish({
        id: run.id,
        jobId: job.id,
        origin: request.origin,
        method: request.method,
        worker: ticket.worker,
        attempt: run.attempts,
        // 0 for the job's own request; n for a hop after n redirects (a redirect to another origin).
        redirects: run.redirects?.length ?? 0,
      });
    }
  }

  /**
   * A worker handed back a hop: a redirect to another origin (the attempt goes on there, queued for that
   * origin like a job of its own: its cap, home worker, rate and concurrency limits), or a hop it found no
   * connection for (placed again where a socket waits). Within the same deadline and redirect budget. Not an
   * attempt's end: the job's origin records the attempt once.
   */
  #handedBack(run: JobRun, outcome: JobRedirect | JobNoConnection): void {
    if (run.cancelRequested || this.#destroyed) {
      this.#recordAttempt(run, { ok: false, code: 'FLOWPOOL_ABORTED' }, 0);
      if (run.cancelRequested) this.#settleAborted(run);
      else this.#fail(run, new FlowpoolError('FLOWPOOL_CLOSED', 'the runtime was destroyed before the job finished'));
      return;
    }
    if (outcome.ok === 'redirect') {
      run.handBack(outcome.next, outcome.redirects, true);
    } else {
      this.#stats.noConnectionHandBacks++;
      run.handBack(outcome.next ?? run.hop, outcome.redirects, outcome.sent);
      // Nothing reached the host: the rate token its placement took still stands.
      this.#queue(run, true, true);
      return;
    }
    this.#queue(run, true);
  }

  #recordAttempt(run: JobRun, attempt: AttemptResult, latencyMs: number): void {
    this.#traffic.recordAttempt(run.job.origin, attempt, latencyMs, run.admitted ?? 'pass', run.job.tenant);
    run.admitted = undefined;
  }

  /** Schedules another attempt if the traffic rules allow one; true when scheduled. */
  #scheduleRetry(run: JobRun, attempt: AttemptResult, now: number): boolean {
    const job = run.job;
    const delay = this.#traffic.retryDelay(job.origin, job, run.attempts, attempt, run.deadline - now);
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
    run.ticket = undefined;
    run.backoff(
      setTimeout(() => {
        run.timer = undefined;
        this.#admit(run, true);
      }, delay),
    );
    return true;
  }

  /**
   * The caller aborted. Before a worker has the job (queued, in backoff, or still in the outbox) it ends
   * here and now, and nothing of the current attempt is ever sent. Once posted, the cancel travels on the
   * job port behind the job, and the worker's answer settles it, saying whether the request was written.
   */
  #abort(run: JobRun): void {
    if (run.callerSettled || run.cancelRequested) return;
    switch (run.state) {
      case 'new':
      case 'answered':
        // Synchronous states: an abort listener cannot run inside them.
        return;
      case 'queued':
        if (run.ticket !== undefined) this.#coordinator.cancel(run.ticket);
        {
          this.#settleAborted(run);
          return;
        }
      case 'backoff': {
        this.#settleAborted(run);
        return;
      }
      case 'dispatched': {
        const ticket = run.ticket;
        if (ticket !== undefined && this.#shards().unsend(ticket.worker, run.id)) {
          this.#held.delete(run.id);
          this.#coordinator.release(ticket);
          // Taken out of the outbox: an attempt that ends before it starts, neutral for the breaker.
          this.#recordAttempt(run, { ok: false, code: 'FLOWPOOL_ABORTED' }, 0);
          this.#settleAborted(run);
          return;
        }
        // Not in the outbox and not posted: its batch failed to post, and onBatchFailed settles it (unsent).
        run.cancelRequested = true;
        return;
      }
      case 'sent':
      case 'abandoned':
      case 'settled':
        break;
    }
    if (run.state !== 'sent' || run.ticket === undefined) return;
    run.cancelRequested = true;
    this.#shards().cancel(run.ticket.worker, run.id);
  }

  #settleAborted(run: JobRun): void {
    const sent = run.networkSent;
    this.#fail(
      run,
      new FlowpoolError(
        'FLOWPOOL_ABORTED',
        sent ? 'job was aborted after its request was sent' : 'job was aborted before any request was sent',
        withJobId(run.job, { sent }),
      ),
    );
  }

  #expireUnanswered(): void {
    const limit = performance.now() - DEADLINE_GRACE_MS;
    for (const run of this.#held.values()) {
      if (run.state !== 'sent' || run.deadline > limit) continue;
      this.#fail(
        run,
        new FlowpoolError(
          'FLOWPOOL_TIMEOUT',
          `timeoutMs (${run.job.timeoutMs} ms) elapsed and the worker did not answer (it is busy or stuck)`,
          withJobId(run.job, { phase: 'total' as const }),
        ),
      );
    }
  }

  #succeed(run: JobRun, result: HttpResult): void {
    this.#stats.succeeded++;
    this.#stats.tenants.succeeded(run.job.tenant);
    if (jobEndChannel.hasSubscribers) {
      jobEndChannel.publish({
        id: run.id,
        jobId: run.job.id,
        origin: run.job.origin,
        ok: true,
        status: result.status,
        attempts: run.attempts,
        durationMs: result.timings.totalMs,
      });
    }
    this.#close(run, { ok: true, value: result });
  }

  #fail(run: JobRun, error: FlowpoolError): void {
    if (run.callerSettled) return;
    this.#stats.recordFailure(error.code);
    this.#stats.tenants.failed(run.job.tenant);
    if (jobEndChannel.hasSubscribers) {
      jobEndChannel.publish({
        id: run.id,
        jobId: run.job.id,
        origin: run.job.origin,
        ok: false,
        code: error.code,
        attempts: run.attempts,
        durationMs: performance.now() - run.submittedAt,
      });
    }
    this.#close(run, { ok: false, error });
  }

  /** The one place a caller's promise is settled (through JobRun.settle, which guards "exactly once"). */
  #close(
    run: JobRun,
    outcome: { readonly ok: true; readonly value: HttpResult } | { readonly ok: false; readonly error: FlowpoolError },
  ): void {
    const held = this.#held.has(run.id);
    // Admitted but never (or no longer) going to run: give the breaker's admission back. A held attempt
    // reports its own outcome when its worker answers.
    if (run.admitted !== undefined && !held) {
      this.#traffic.releaseAdmission(run.job.origin, run.admitted);
      run.admitted = undefined;
    }
    if (!run.settle(outcome, held)) return;
    this.#open.delete(run.id);
    if (this.#open.size === 0) this.#watchdog.unref();
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#idle !== undefined && !this.busy) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }
}

function attemptOf(outcome: JobSuccess | JobRedirect): AttemptResult {
  return outcome.ok === true
    ? { ok: true, status: outcome.status, headers: outcome.headers }
    : // A redirect answered: the host is well.
      { ok: true, status: 300, headers: {} };
}

/** What any outcome says of the host. A hop handed back for want of a connection never reached it: neutral. */
function attemptOutcome(outcome: JobOutcome): AttemptResult {
  if (outcome.ok === false) return { ok: false, code: outcome.error.code };
  if (outcome.ok === 'no-connection') return { ok: false, code: 'FLOWPOOL_ABORTED' };
  return attemptOf(outcome);
}

export function withJobId<T extends object>(job: NormalizedJob, details: T): T & { jobId?: string } {
  return job.id === undefined ? details : { ...details, jobId: job.id };
}
