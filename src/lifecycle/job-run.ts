/**
 * One submitted job on the main thread: what it is, where it stands (a {@link JobState}), what it holds (its
 * coordinator ticket, its retry's timer or its place on the queue's deadline list, a pending cancel, the
 * circuit breaker's admission) and the promise it owes its caller. Every field that changes is private and written only by the named transitions below, each
 * checked against the table in job-state.ts (as each of BullMQ's `moveTo*` commands is the only writer of a
 * job's state); the caller's promise is settled in exactly one place (`settle`). No timer is started and no
 * thread touched here (test/unit/lifecycle-job-state.test.ts): the queue's deadline list is given.
 */
import type { FlowpoolError } from '../errors/flowpool-error.js';
import { dispatchPayload } from '../job/cookies.js';
import type { NormalizedJob } from '../job/job.js';
import type { HttpResult } from '../job/result.js';
import type { RequestTrace } from '../observe/request-spans.js';
import type { Ticket } from '../scheduling/coordinator.js';
import type { PassKind } from '../traffic/circuit-breaker.js';
import type { OutgoingJob } from '../threads/outgoing-job.js';
import type { Deadline, Deadlines } from '../timing/deadlines.js';
import { jobExtra, jobFlags, writeJob, type JobsMessage } from '../wire/codec.js';
import type { HopRequest } from '../wire/protocol.js';
import type { JobHooks } from './job-hooks.js';
import { canMove, IllegalTransitionError, isCallerSettled, type JobState } from './job-state.js';

export type Settlement =
  { readonly ok: true; readonly value: HttpResult } | { readonly ok: false; readonly error: FlowpoolError };

export class JobRun implements Deadline, OutgoingJob {
  readonly id: number;
  readonly submittedAt: number;
  /** The caller's hooks for this job (lifecycle/hooks.ts); undefined for a runtime without hooks. */
  readonly hooks: JobHooks | undefined;
  #job: NormalizedJob;
  /** The job's OpenTelemetry spans, one per attempt; undefined when no tracer provider was registered at submission. */
  readonly trace: RequestTrace | undefined;
  /** Set when a worker was ready to take the job: before that, the deadline is the startup bound's. */
  #clockStarted: boolean;
  #deadline: number;
  readonly #resolve: (result: HttpResult) => void;
  readonly #reject: (error: FlowpoolError) => void;
  #state: JobState = 'new';
  #attempts = 0;
  #crashReruns = 0;
  #dispatchedAt = 0;
  #hopDispatchedAt = 0;
  #hop: HopRequest | undefined;
  #redirects: readonly string[] | undefined;
  #ticket: Ticket<JobRun> | undefined;
  #admitted: PassKind | undefined;
  #networkSent = false;
  #cancelPending = false;
  #cancelReason: unknown;
  /** From dispatch until the worker answers (or the job is taken back out of the outbox). */
  #withWorker = false;
  /** The origin slot the worker counts the hop's connections under (-1: the least-busy baseline's own pools). */
  #wireSlot = -1;
  /** The worker link the current hop was posted on (0: not posted since its dispatch). */
  #postedOn = 0;
  /** A retry's delay, or the deadline of a hook of the caller's while it runs. */
  #timer: NodeJS.Timeout | undefined;
  #detachSignal: (() => void) | undefined;
  /** Queued hops, and jobs whose hook runs, fail at their deadline from this list (one timer for all). */
  readonly #queueDeadlines: Deadlines<JobRun>;
  // The list's links (timing/deadlines.ts owns them): set while the current hop is queued or a hook runs.
  dueAt = 0;
  prevDue: Deadline | undefined;
  nextDue: Deadline | undefined;
  scheduled = false;
  /** While a hook runs: what to let go of (a streamed body) if the job is settled before it returns. */
  #abandonHook: (() => void) | undefined;

  /**
   * `startupBoundMs`: undefined when a worker is ready to take the job now (its `timeoutMs` runs from
   * submission); otherwise how long the job may wait for the workers to start before its `timeoutMs` begins.
   * `trace`: the job's spans (observe/request-spans.ts), when tracing.
   */
  constructor(
    id: number,
    job: NormalizedJob,
    submittedAt: number,
    resolve: (result: HttpResult) => void,
    reject: (error: FlowpoolError) => void,
    queueDeadlines: Deadlines<JobRun>,
    startupBoundMs?: number,
    hooks?: JobHooks,
    trace?: RequestTrace,
  ) {
    this.#queueDeadlines = queueDeadlines;
    this.id = id;
    this.#job = job;
    this.hooks = hooks;
    this.submittedAt = submittedAt;
    this.trace = trace;
    this.#clockStarted = startupBoundMs === undefined;
    this.#deadline = submittedAt + (startupBoundMs ?? 0) + job.timeoutMs;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  // ---- what it is now ------------------------------------------------------------------------------------

  /** The job the current attempt sends: the caller's, or what its `beforeRequest` hook returned for it. */
  get job(): NormalizedJob {
    return this.#job;
  }

  /** performance.now() at which the whole job's deadline (`timeoutMs`) passes. */
  get deadline(): number {
    return this.#deadline;
  }

  /** Whether the job's `timeoutMs` runs (a worker was ready to take it); false while the workers start. */
  get clockStarted(): boolean {
    return this.#clockStarted;
  }

  /** Why the caller aborted (the signal's reason), once it did. */
  get cancelReason(): unknown {
    return this.#cancelReason;
  }

  get state(): JobState {
    return this.#state;
  }

  /** The caller's promise is settled (the job may still hold a worker or a stream's slot). */
  get callerSettled(): boolean {
    return isCallerSettled(this.#state);
  }

  /** A worker holds (or is about to hold) the current attempt: its answer is awaited. */
  get awaitsWorker(): boolean {
    return this.#withWorker;
  }

  /** Attempts started: the first, retries, and a re-run after a worker crash. */
  get attempts(): number {
    return this.#attempts;
  }

  /** Re-runs after a worker crash (at most one). */
  get crashReruns(): number {
    return this.#crashReruns;
  }

  /** When the current attempt was first dispatched (its later hops keep it). */
  get dispatchedAt(): number {
    return this.#dispatchedAt;
  }

  /** When the current hop was dispatched: dispatchedAt, or later for a redirect to another origin. */
  get hopDispatchedAt(): number {
    return this.#hopDispatchedAt;
  }

  /** The request the current attempt is at once a hop came back; undefined: the job's own. */
  get hop(): HopRequest | undefined {
    return this.#hop;
  }

  /** URLs the current attempt was redirected to before its current hop. */
  get redirects(): readonly string[] | undefined {
    return this.#redirects;
  }

  /** The coordinator's ticket of the current hop, while it is queued or holds a worker. */
  get ticket(): Ticket<JobRun> | undefined {
    return this.#ticket;
  }

  /**
   * A byte of some request of this job may have reached the network. Stays false only while no request of
   * any attempt was written to a socket: what `details.sent` of FLOWPOOL_ABORTED reports.
   */
  get networkSent(): boolean {
    return this.#networkSent;
  }

  /** The caller aborted while a worker held the attempt: its answer settles the job, nothing follows. */
  get cancelPending(): boolean {
    return this.#cancelPending;
  }

  /** The worker link the current hop was posted on; 0 while it waits in an outbox (or was never posted). */
  get postedOn(): number {
    return this.#postedOn;
  }

  /** The origin the current hop goes to. */
  get origin(): string {
    return this.#hop?.origin ?? this.job.origin;
  }

  // ---- transitions ----------------------------------------------------------------------------------------

  /**
   * A worker is ready to take the job: its `timeoutMs` starts now (it waited for the workers to start); a
   * queued hop's place on the deadline list follows.
   */
  startClock(now: number): void {
    if (this.#clockStarted || this.callerSettled) return;
    this.#clockStarted = true;
    this.#deadline = Math.min(this.#deadline, now + this.job.timeoutMs);
    if (this.scheduled) {
      this.dueAt = this.#deadline;
      this.#queueDeadlines.add(this);
    }
  }

  /** Keeps the caller's abort listener's remover, to detach it when the job settles. */
  watchSignal(detach: () => void): void {
    this.#detachSignal = detach;
  }

  /**
   * Starts an attempt (the first, a retry after its backoff, a re-run after a crash): queued for the job's
   * origin. `admitted`: how the circuit breaker let it through (undefined for a re-run, which is not admitted again).
   */
  startAttempt(admitted: PassKind | undefined, rerun = false): void {
    this.#move('queued');
    this.#attempts++;
    if (rerun) this.#crashReruns++;
    this.#admitted = admitted;
    this.#hop = undefined;
    this.#redirects = undefined;
    this.trace?.startAttempt(this.job, this.#attempts);
  }

  /** The current hop waits in the coordinator's queue under `ticket`, on the deadline list until it leaves. */
  waitInQueue(ticket: Ticket<JobRun>): void {
    this.#check('queued');
    this.#ticket = ticket;
    this.dueAt = this.#deadline;
    this.#queueDeadlines.add(this);
  }

  /** The coordinator gave the hop a worker; it waits in the outbox. `wireSlot`: see {@link writeTo}. */
  dispatch(ticket: Ticket<JobRun>, now: number, wireSlot: number): void {
    this.#move('dispatched');
    this.#queueDeadlines.remove(this);
    this.#ticket = ticket;
    this.#wireSlot = wireSlot;
    this.#postedOn = 0;
    this.#withWorker = true;
    if (this.#hop === undefined) this.#dispatchedAt = now;
    this.#hopDispatchedAt = now;
  }

  /**
   * The current hop's wire record, written when its outbox leaves (threads/outgoing-job.ts): the job's own
   * request or the hop handed back, with the time left to its deadline at `now`.
   */
  writeTo(message: JobsMessage, now: number): void {
    const job = this.job;
    const hop = this.#hop;
    const origin = hop?.origin ?? job.origin;
    writeJob(
      message,
      this.id,
      origin,
      hop?.path ?? job.path,
      hop?.method ?? job.method,
      // The attempt's span context, when it records: per dispatch, so a plain job's shared headers stay as they are.
      this.trace === undefined ? (hop?.headers ?? job.headers) : this.trace.headers(hop?.headers ?? job.headers),
      hop === undefined ? job.body : hop.body,
      jobFlags(job.followRedirects, job.repeatable, job.responseType, job.profile),
      Math.max(1, Math.round(this.#deadline - now)),
      job.maxResponseBytes,
      job.maxRedirects - (this.#redirects?.length ?? 0),
      job.timeoutMs,
      job.maxRedirects,
      this.#wireSlot,
      // A plain job carries none of these: no object is built for it.
      job.transform === undefined && job.payload === undefined && job.cookieJar === undefined
        ? undefined
        : jobExtra(
            job.transform,
            job.cookieJar === undefined ? job.payload : dispatchPayload(job.payload, job.cookieJar, origin).payload,
          ),
    );
  }

  /** The outbox was posted on worker link `link`: the worker has the hop (unless the caller was answered meanwhile). */
  posted(link: number): void {
    // Abandoned in the outbox (the caller was answered): the worker still has it, its answer frees the slot.
    if (this.#state !== 'abandoned') this.#move('sent');
    this.#postedOn = link;
  }

  /** The caller aborted after the job was posted: the cancel goes to the worker, whose answer settles it. */
  requestCancel(reason?: unknown): void {
    this.#cancelPending = true;
    this.#cancelReason = reason;
  }

  /**
   * The worker answered (an outcome, its death, or a failed post), with whether any request of the dispatch
   * reached the network. Returns the ticket to release (its slot is free again). The job is then 'answered'
   * when the caller still waits, or 'settled' when it was already answered (abandoned).
   */
  answer(sent: boolean): Ticket<JobRun> | undefined {
    if (sent) this.#networkSent = true;
    const ticket = this.#ticket;
    this.#ticket = undefined;
    this.#withWorker = false;
    this.#move(this.#state === 'abandoned' ? 'settled' : 'answered');
    return ticket;
  }

  /** The job was taken out of the outbox before it left: nothing of it reached the worker. Returns its ticket. */
  unsend(): Ticket<JobRun> | undefined {
    this.#check('dispatched');
    const ticket = this.#ticket;
    this.#ticket = undefined;
    this.#withWorker = false;
    return ticket;
  }

  /** Takes how the circuit breaker admitted the current attempt (once: its outcome is recorded with it). */
  takeAdmission(): PassKind | undefined {
    const admitted = this.#admitted;
    this.#admitted = undefined;
    return admitted;
  }

  /**
   * A worker handed back a hop (a redirect to another origin, or a hop it found no connection for): the same
   * attempt goes on, queued again. `next` undefined: the job's own request again. `sent`: whether a request
   * of that dispatch was written.
   */
  handBack(next: HopRequest | undefined, redirects: readonly string[] | undefined, sent: boolean): void {
    this.#move('queued');
    if (sent) this.#networkSent = true;
    this.#redirects = joinRedirects(this.#redirects, redirects);
    this.#hop = next;
  }

  /**
   * A hook of the caller's runs: the job is in no queue, the deadline list ends it at its deadline (as a queued
   * hop), and `abandon` (if any) runs should the job be settled before the hook returns. A hook may follow
   * another (still 'hook').
   */
  awaitHook(abandon?: () => void): void {
    if (this.#state !== 'hook') this.#move('hook');
    this.#abandonHook = abandon;
    this.dueAt = this.#deadline;
    this.#queueDeadlines.add(this);
  }

  /** The hook returned in time: the job leaves the deadline list. */
  hookReturned(): void {
    this.#check('hook');
    this.#queueDeadlines.remove(this);
    this.#abandonHook = undefined;
  }

  /** The job to send from now on: what `beforeRequest` returned (or `afterResponse` asked), validated. */
  useJob(job: NormalizedJob): void {
    this.#check('hook');
    this.#job = job;
  }

  /** Waits out a retry's delay before the next attempt. */
  backoff(timer: NodeJS.Timeout): void {
    this.#move('backoff');
    this.#ticket = undefined;
    this.#timer = timer;
  }

  /** The retry delay is over: its timer is spent. */
  backoffOver(): void {
    this.#check('backoff');
    this.#timer = undefined;
  }

  /**
   * Settles the caller's promise, once. A job whose attempt a worker still holds becomes 'abandoned' (its slot
   * is freed when the worker answers); a success whose body still streams becomes 'streaming' (its slot is
   * freed when the body ends: {@link streamEnded}); any other becomes 'settled'. False if the caller was
   * already settled.
   */
  settle(outcome: Settlement, streaming = false): boolean {
    if (this.callerSettled) return false;
    const abandonHook = this.#abandonHook;
    this.#abandonHook = undefined;
    this.#move(streaming ? 'streaming' : this.awaitsWorker ? 'abandoned' : 'settled');
    this.#queueDeadlines.remove(this);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#detachSignal?.();
    this.#detachSignal = undefined;
    // An abandoned job's ticket is released when its worker answers, a streaming one's when its body ends.
    if (this.#state === 'settled') this.#ticket = undefined;
    if (outcome.ok) this.#resolve(outcome.value);
    else this.#reject(outcome.error);
    // A hook still running is let go of (a streamed result it held is cancelled, its slot freed).
    abandonHook?.();
    return true;
  }

  /** Keeps the ticket of a success whose body streams: released when the body ends. */
  holdForStream(ticket: Ticket<JobRun> | undefined): void {
    // From 'hook': afterResponse handed the streamed result back.
    if (this.#state !== 'hook') this.#check('answered');
    this.#ticket = ticket;
  }

  /** A streamed body ended, failed or was cancelled: the job is done. Returns the ticket to release. */
  streamEnded(): Ticket<JobRun> | undefined {
    this.#check('streaming');
    this.#move('settled');
    const ticket = this.#ticket;
    this.#ticket = undefined;
    return ticket;
  }

  #move(to: JobState): void {
    if (!canMove(this.#state, to)) throw new IllegalTransitionError(this.#state, to);
    this.#state = to;
  }

  #check(state: JobState): void {
    if (this.#state !== state) throw new IllegalTransitionError(this.#state, state);
  }
}

const NO_REDIRECTS: readonly string[] = Object.freeze([]);

/** The attempt's redirects so far followed by a dispatch's own (either may be absent). */
export function joinRedirects(
  before: readonly string[] | undefined,
  after: readonly string[] | undefined,
): readonly string[] {
  if (before === undefined) return after ?? NO_REDIRECTS;
  return after === undefined ? before : [...before, ...after];
}
