/**
 * The states a job moves through on the main thread, and the only moves allowed between them. Pure data and
 * one small class: tested without threads (test/unit/lifecycle-job-state.test.ts).
 *
 * ```
 * new ──start──> queued ──place──> dispatched ──post──> sent ──answer──> answered ──finish──> settled
 *                  ^                    │                  │                 │  │
 *                  │                    └─unsend (abort)─> settled            │  └─stream──> streaming ──end──> settled
 *                  │                                       └─abandon─> abandoned ──answer──> settled
 *                  │                                                         ├──retry──> backoff ──requeue──> queued
 *                  └──────────── hand back (redirect to another origin) / re-run after a crash ──┘
 * ```
 *
 * With the caller's hooks (`createRuntime({ hooks })`), a job waits in `hook` while one runs: `new`, `backoff`
 * (beforeRetry, beforeRequest) and `answered` (afterResponse) lead there, and it leaves for `queued` (the
 * attempt starts), `streaming` or `settled`; hooks that follow one another (afterResponse asked for a retry,
 * beforeRequest runs) keep it there.
 */

export type JobState =
  /** Submitted, validated; not yet admitted by its host's circuit breaker. */
  | 'new'
  /** Waiting in the coordinator for a worker slot, a connection or a rate-limit token. */
  | 'queued'
  /** Given a worker; waiting in the main thread's outbox for the end of the microtask checkpoint. */
  | 'dispatched'
  /** Posted to the worker; its answer (outcome, or the worker's death) is pending. */
  | 'sent'
  /** The worker answered (or died, or the post failed); what follows is decided at once. */
  | 'answered'
  /** Waiting out a retry's delay; in no queue meanwhile. */
  | 'backoff'
  /** A hook of the caller's runs on the main thread (before an attempt, or on its result); in no queue. */
  | 'hook'
  /** The caller has its result, a stream whose body still flows: the job keeps its slot until the body ends. */
  | 'streaming'
  /** The caller's promise is settled (deadline watchdog, destroy) while the worker still holds the attempt. */
  | 'abandoned'
  /** Done: the caller has its result or error, and no worker holds anything of the job. */
  | 'settled';

/** Every move a job may make; anything else is a bug and throws. */
export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  new: ['queued', 'hook', 'settled'],
  queued: ['dispatched', 'settled'],
  dispatched: ['sent', 'answered', 'abandoned', 'settled'],
  sent: ['answered', 'abandoned'],
  answered: ['queued', 'backoff', 'hook', 'streaming', 'settled'],
  backoff: ['queued', 'hook', 'settled'],
  hook: ['queued', 'hook', 'streaming', 'settled'],
  streaming: ['settled'],
  abandoned: ['settled'],
  settled: [],
};

/** Thrown on a move the table does not allow: a bug in flowpool, never the caller's doing. */
export class IllegalTransitionError extends Error {
  constructor(from: JobState, to: JobState) {
    super(`illegal job state transition: ${from} -> ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function canMove(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Whether the caller's promise has been settled in this state. */
export function isCallerSettled(state: JobState): boolean {
  return state === 'settled' || state === 'abandoned' || state === 'streaming';
}
