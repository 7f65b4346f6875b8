/**
 * One submitted job on the main thread: what it is, where it stands (a {@link JobState}), and the promise it
 * owes its caller. Every change of state goes through a named transition here, checked against the table
 * in job-state.ts; the caller's promise is settled in exactly one place (`settle`). Pure: no timers are
 * started and no threads touched here (test/unit/lifecycle-job-run.test.ts).
 */
import type { Ticket } from '../scheduling/coordinator.js';
import type { FlowpoolError } from '../errors/flowpool-error.js';
import type { NormalizedJob } from '../job/job.js';
import type { HopRequest } from '../wire/protocol.js';
import type { HttpResult } from '../job/result.js';
import type { PassKind } from '../traffic/circuit-breaker.js';
import { canMove, IllegalTransitionError, isCallerSettled, type JobState } from './job-state.js';

export class JobRun {
  readonly id: number;
  readonly job: NormalizedJob;
  readonly submittedAt: number;
  /** performance.now() at which the whole job's deadline (`timeoutMs`) passes. */
  readonly deadline: number;
  readonly #resolve: (result: HttpResult) => void;
  readonly #reject: (error: FlowpoolError) => void;
  #state: JobState = 'new';
  /** Attempts started: the first, retries, and a re-run after a worker crash. */
  attempts = 0;
  /** Re-runs after a worker crash (at most one). */
  crashReruns = 0;
  /** When the current attempt was first dispatched (its later hops keep it). */
  dispatchedAt = 0;
  /** When the current hop was dispatched: dispatchedAt, or later for a redirect to another origin. */
  hopDispatchedAt = 0;
  /** The request the current attempt is at once a redirect to another origin came back; else the job's own. */
  hop: HopRequest | undefined;
  /** URLs the current attempt was redirected to before its current hop. */
  redirects: readonly string[] | undefined;
  /** The coordinator's ticket of the current hop, while it is queued or holds a worker. */
  ticket: Ticket<JobRun> | undefined;
  /** How the circuit breaker admitted the current attempt, until that attempt's outcome is recorded. */
  admitted: PassKind | undefined;
  /**
   * A byte of some request of this job may have reached the network. Stays false only while no request of
   * any attempt was written to a socket: what `details.sent` of FLOWPOOL_ABORTED reports.
   */
  networkSent = false;
  /** The caller aborted while a worker held the attempt: its answer settles the job, nothing follows. */
  cancelRequested = false;
  /** The job's one timer: its deadline while queued, or its retry delay in backoff. */
  timer: NodeJS.Timeout | undefined;
  /** Removes the caller's abort listener, if one was added. */
  detachSignal: (() => void) | undefined;

  constructor(
    id: number,
    job: NormalizedJob,
    submittedAt: number,
    resolve: (result: HttpResult) => void,
    reject: (error: FlowpoolError) => void,
  ) {
    this.id = id;
    this.job = job;
    this.submittedAt = submittedAt;
    this.deadline = submittedAt + job.timeoutMs;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  get state(): JobState {
    return this.#state;
  }

  /** The caller's promise is settled (the job may still hold a worker: see 'abandoned'). */
  get callerSettled(): boolean {
    return isCallerSettled(this.#state);
  }

  /** The origin the current hop goes to. */
  get origin(): string {
    return this.hop?.origin ?? this.job.origin;
  }

  /** Starts an attempt (the first, a retry after its backoff, a re-run after a crash): queued for the job's origin. */
  startAttempt(): void {
    this.#move('queued');
    this.attempts++;
    this.hop = undefined;
    this.redirects = undefined;
  }

  /**
   * A worker handed back a hop (a redirect to another origin, or a hop it found no connection for): the same
   * attempt goes on, queued again. `next` undefined: the job's own request again. `sent`: whether a request
   * of that dispatch was written.
   */
  handBack(next: HopRequest | undefined, redirects: readonly string[] | undefined, sent: boolean): void {
    this.#move('queued');
    if (sent) this.networkSent = true;
    this.redirects = joinRedirects(this.redirects, redirects);
    this.hop = next;
  }

  /** The coordinator gave the hop a worker; it waits in the outbox. */
  dispatch(ticket: Ticket<JobRun>, now: number): void {
    this.#move('dispatched');
    this.ticket = ticket;
    if (this.hop === undefined) this.dispatchedAt = now;
    this.hopDispatchedAt = now;
  }

  /** The outbox was posted to the worker. */
  posted(): void {
    this.#move('sent');
  }

  /**
   * The worker answered (an outcome, its death, or a failed post), with whether any request of the dispatch
   * reached the network. True when the caller still waits and what follows must be decided; false when the
   * caller was already settled (the job is now settled).
   */
  answer(sent: boolean): boolean {
    if (sent) this.networkSent = true;
    if (this.#state === 'abandoned') {
      this.#move('settled');
      return false;
    }
    this.#move('answered');
    return true;
  }

  /** Waits out a retry's delay before the next attempt. */
  backoff(timer: NodeJS.Timeout): void {
    this.#move('backoff');
    this.timer = timer;
  }

  /**
   * Settles the caller's promise, once. A job whose attempt a worker still holds (`held`: dispatched or sent,
   * not answered) becomes 'abandoned', and its slot is freed when the worker answers; any other becomes
   * 'settled'. False if the caller was already settled.
   */
  settle(
    outcome: { readonly ok: true; readonly value: HttpResult } | { readonly ok: false; readonly error: FlowpoolError },
    held: boolean,
  ): boolean {
    if (this.callerSettled) return false;
    this.#move(held ? 'abandoned' : 'settled');
    clearTimeout(this.timer);
    this.timer = undefined;
    this.detachSignal?.();
    this.detachSignal = undefined;
    if (outcome.ok) this.#resolve(outcome.value);
    else this.#reject(outcome.error);
    return true;
  }

  #move(to: JobState): void {
    if (!canMove(this.#state, to)) throw new IllegalTransitionError(this.#state, to);
    this.#state = to;
  }
}

/** The attempt's redirects so far followed by a dispatch's own (either may be absent). */
export function joinRedirects(
  before: readonly string[] | undefined,
  after: readonly string[] | undefined,
): readonly string[] {
  if (before === undefined) return after ?? [];
  return after === undefined ? before : [...before, ...after];
}
