/**
 * What follows a worker's answer: the result or error for the caller, a retry after a delay, a hop handed
 * back (a redirect to another origin, or a hop the worker found no connection for), a re-run after the
 * worker died, or nothing (the caller was answered already). Each a transition of the job's {@link JobRun}.
 */
import { deserializeError, FlowpoolError } from '../errors/flowpool-error.js';
import { storeSetCookies } from '../job/cookies.js';
import type { HttpResult } from '../job/result.js';
import type { RuntimeCounters } from '../observe/stats.js';
import type { Ticket } from '../scheduling/coordinator.js';
import { holdUntilBodyEnds, isStreamSuccess, type StreamSuccess } from '../threads/response-stream.js';
import type { AttemptResult } from '../traffic/traffic-controller.js';
import type { JobNoConnection, JobOutcome, JobRedirect, JobSuccess } from '../wire/protocol.js';
import type { Attempts } from './attempts.js';
import type { HookSteps } from './hooks.js';
import { joinRedirects, type JobRun } from './job-run.js';
import { requestAnswered, requestFailed } from './request-events.js';
import { withJobId, type Settlements } from './settlement.js';

const DESTROYED = 'the runtime was destroyed before the job finished';

export class Outcomes {
  readonly #attempts: Attempts;
  readonly #settlements: Settlements;
  readonly #stats: RuntimeCounters;
  readonly #destroyed: () => boolean;
  readonly #hookSteps: HookSteps;

  constructor(
    attempts: Attempts,
    settlements: Settlements,
    stats: RuntimeCounters,
    destroyed: () => boolean,
    hookSteps: HookSteps,
  ) {
    this.#attempts = attempts;
    this.#settlements = settlements;
    this.#stats = stats;
    this.#destroyed = destroyed;
    this.#hookSteps = hookSteps;
  }

  outcome(id: number, outcome: JobOutcome): void {
    const run = this.#settlements.get(id);
    if (run?.awaitsWorker !== true) {
      // Nobody waits for it (the runtime was destroyed): a streamed body would hold its socket in the worker.
      if (isStreamSuccess(outcome)) void outcome.body.cancel();
      return;
    }
    storeSetCookies(run.job.cookieJar, outcome);
    const stream = isStreamSuccess(outcome);
    const sent = outcome.ok === false || outcome.ok === 'no-connection' ? outcome.sent : true;
    const ticket = run.answer(sent);
    const worker = ticket?.worker ?? -1;
    const now = performance.now();
    if (run.state === 'settled') {
      // The caller was answered already (deadline watchdog): record the attempt, free the slot, nothing more.
      requestAnswered(run, worker, outcome, now);
      if (stream) void outcome.body.cancel();
      this.#attempts.record(run, attemptOutcome(outcome), 0);
      this.#attempts.release(ticket);
      this.#settlements.finished(run);
      return;
    }
    // A streamed body keeps its slot until it ends or is cancelled (the result is handed over at its headers).
    if (!stream) {
      this.#attempts.release(ticket);
      requestAnswered(run, worker, outcome, now);
    }
    if (outcome.ok === 'redirect' || outcome.ok === 'no-connection') {
      this.#handedBack(run, outcome);
      return;
    }
    let attempt: AttemptResult;
    let error: FlowpoolError | undefined;
    if (outcome.ok) {
      attempt = attemptOf(outcome);
    } else {
      // Built once: its code feeds the traffic rules, and it is what the caller gets if no retry follows.
      error = deserializeError(outcome.error, withJobId(run.job, { attempts: run.attempts }));
      attempt = { ok: false, code: error.code };
    }
    this.#attempts.record(run, attempt, now - run.dispatchedAt);
    if (run.cancelPending) {
      if (stream) this.#dropStream(run, outcome, ticket);
      this.#settlements.aborted(run);
      return;
    }
    if (!this.#destroyed() && this.#attempts.scheduleRetry(run, attempt, now, error)) {
      // Not for a stream (never repeatable), but its slot must not leak if the rules ever say so.
      if (stream) this.#dropStream(run, outcome, ticket);
      return;
    }
    const hooks = run.hooks;
    if (hooks?.afterResponse !== undefined && outcome.ok) {
      // The caller's afterResponse sees the final result first (lifecycle/hooks.ts).
      this.#hookSteps.afterResponse(
        run,
        hooks,
        hooks.afterResponse,
        (held) => this.#result(run, held ?? outcome, now, worker),
        stream ? { outcome, ticket } : undefined,
      );
      return;
    }
    if (stream) this.#succeedStreaming(run, outcome, ticket, now, worker);
    else if (outcome.ok) this.#settlements.succeed(run, this.#result(run, outcome, now, worker));
    else if (error !== undefined) this.#settlements.fail(run, error);
  }

  #dropStream(run: JobRun, outcome: StreamSuccess, ticket: Ticket<JobRun> | undefined): void {
    requestAnswered(run, ticket?.worker ?? -1, outcome, performance.now());
    void outcome.body.cancel();
    this.#attempts.release(ticket);
  }

  /** Jobs that never left their outbox (their worker was gone, or the batch could not be posted). */
  batchFailed(ids: readonly number[], error: Error): void {
    const runs: JobRun[] = [];
    for (const id of ids) {
      const run = this.#settlements.get(id);
      if (run !== undefined) runs.push(run);
    }
    this.#unanswered(runs, error);
  }

  /** The worker behind link `link` died: the hops posted on it that it never answered. */
  linkLost(link: number, error: Error): void {
    const runs: JobRun[] = [];
    for (const run of this.#settlements.all()) {
      if (run.postedOn === link && run.awaitsWorker) runs.push(run);
    }
    this.#unanswered(runs, error);
  }

  /** Jobs a worker died under (or that could not be posted): nothing of them reached the caller. */
  #unanswered(runs: readonly JobRun[], error: Error): void {
    for (const run of runs) {
      if (!run.awaitsWorker) continue;
      // Posted to a thread that died: its request may have been written. Never posted: certainly not.
      const mayHaveSent = run.state !== 'dispatched';
      const ticket = run.answer(mayHaveSent);
      requestFailed(run, ticket?.worker ?? -1, 'FLOWPOOL_WORKER_CRASHED', error.message);
      this.#attempts.record(run, { ok: false, code: 'FLOWPOOL_WORKER_CRASHED' }, 0);
      this.#attempts.release(ticket);
      if (run.state === 'settled') {
        this.#settlements.finished(run);
        continue;
      }
      if (run.cancelPending) {
        this.#settlements.aborted(run);
      } else if (this.#destroyed()) {
        this.#settlements.fail(run, new FlowpoolError('FLOWPOOL_CLOSED', DESTROYED));
      } else if ((run.job.repeatable || !mayHaveSent) && run.crashReruns === 0 && performance.now() < run.deadline) {
        // Safe to repeat (the one "repeatable" rule, or provably never sent) and nothing reached the caller.
        this.#attempts.rerun(run);
      } else {
        this.#settlements.fail(
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

  /**
   * A worker handed back a hop: a redirect to another origin (the attempt goes on there, queued for that
   * origin like a job of its own: its cap, home worker, rate and concurrency limits), or a hop it found no
   * connection for (placed again where a socket waits). Within the same deadline and redirect budget. Not an
   * attempt's end: the job's origin records the attempt once.
   */
  #handedBack(run: JobRun, outcome: JobRedirect | JobNoConnection): void {
    if (run.cancelPending || this.#destroyed()) {
      this.#attempts.record(run, { ok: false, code: 'FLOWPOOL_ABORTED' }, 0);
      if (run.cancelPending) this.#settlements.aborted(run);
      else this.#settlements.fail(run, new FlowpoolError('FLOWPOOL_CLOSED', DESTROYED));
      return;
    }
    if (outcome.ok === 'redirect') {
      run.handBack(outcome.next, outcome.redirects, true);
      this.#attempts.queue(run, true);
      return;
    }
    this.#stats.noConnectionHandBacks++;
    run.handBack(outcome.next ?? run.hop, outcome.redirects, outcome.sent);
    // Nothing reached the host: the rate token its placement took still stands.
    this.#attempts.queue(run, true, true);
  }

  /** The caller gets the stream now; the job's slot is held until its body ends. */
  #succeedStreaming(
    run: JobRun,
    outcome: StreamSuccess,
    ticket: Ticket<JobRun> | undefined,
    now: number,
    worker: number,
  ): void {
    run.holdForStream(ticket);
    const held = holdUntilBodyEnds(outcome, () => {
      requestAnswered(run, worker, outcome, performance.now());
      this.#attempts.release(run.streamEnded());
      this.#settlements.finished(run);
    });
    this.#settlements.succeed(run, this.#result(run, held, now, worker), true);
  }

  #result(run: JobRun, outcome: JobSuccess, now: number, worker: number): HttpResult {
    const redirects = joinRedirects(run.redirects, outcome.redirects);
    return {
      status: outcome.status,
      headers: outcome.headers,
      body: outcome.body,
      url: redirects.at(-1) ?? run.job.href,
      redirects,
      bytes: outcome.bytes,
      timings: {
        queuedMs: run.dispatchedAt - run.submittedAt,
        headersMs: run.hopDispatchedAt - run.dispatchedAt + outcome.headersMs,
        totalMs: now - run.submittedAt,
      },
      worker,
      attempts: run.attempts,
    };
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
