/**
 * One job's hooks as the lifecycle sees them (api/hooks.ts builds them from the caller's functions; the
 * lifecycle runs them in lifecycle/hooks.ts). Types only, so that the job's record can name them.
 */
import type { FlowpoolError } from '../errors/flowpool-error.js';
import type { NormalizedJob } from '../job/job.js';
import type { HttpResult } from '../job/result.js';

/** What `afterResponse` decided: the result for the caller, or another attempt with this job. */
export type AfterResponseDecision = { readonly result: HttpResult } | { readonly retry: NormalizedJob };

/** A retry flowpool's own rules decided, as `beforeRetry` is told of it. */
export interface FlowpoolRetry {
  /** The attempt's error; undefined when it answered with a status the rules retry. */
  readonly error: FlowpoolError | undefined;
  /** The status the rules retry; undefined when the attempt failed. */
  readonly status: number | undefined;
  /** The delay waited before this retry. */
  readonly delayMs: number;
}

/**
 * One job's hooks, as the lifecycle runs them. Each returns a promise that rejects only with a FlowpoolError
 * (FLOWPOOL_HOOK_FAILED, or FLOWPOOL_INVALID_JOB for a job a hook made invalid); a hook the caller did not
 * configure is undefined, and the lifecycle skips its step (no promise, no state change).
 */
export interface JobHooks {
  /** `beforeRequest` for attempt `attempt` (1-based, every attempt counted): the job to send, validated. */
  readonly beforeRequest: ((attempt: number) => Promise<NormalizedJob>) | undefined;
  /** `afterResponse` on attempt `attempt`'s final result. */
  readonly afterResponse: ((result: HttpResult, attempt: number) => Promise<AfterResponseDecision>) | undefined;
  /** `beforeRetry`: flowpool retries after attempt `attempt`, for `retry`. */
  readonly beforeRetry: ((retry: FlowpoolRetry, attempt: number) => Promise<void>) | undefined;
  /** Attempts that `afterResponse` asked for: flowpool's own retry count (`retry.attempts`) leaves them out. */
  readonly retriesAsked: number;
}
