/**
 * The caller's hooks (`createRuntime({ hooks })`): functions that run on the caller's thread around each
 * attempt of every job, and see jobs in the caller's shape whatever the wire carries. Written interfaces
 * here; api/hooks.ts checks them and runs them for each job; docs/hooks.md is the guide.
 */
import type { FlowpoolError } from '../errors/flowpool-error.js';
import type { HttpJob, HttpJobFields } from '../job/http-job.js';
import type { HttpResult } from '../job/result.js';
import type { RuntimeOptions as RuntimeOptionsWithoutHooks } from '../config/runtime-options.js';

/** A job as a hook sees it: the caller's shape, `headers` always a plain record. A copy: change it freely. */
export type HookJob = HttpJob & { headers: NonNullable<HttpJobFields['headers']> };

/** What `beforeRequest` is told besides the job. */
export interface BeforeRequestContext {
  /**
   * The attempt about to be sent, from 1. Every attempt counts: flowpool's own retries and those
   * `afterResponse` asked for.
   */
  readonly attempt: number;
}

/** What `afterResponse` is told besides the result. */
export interface AfterResponseContext {
  /** The job as this attempt sent it (what `beforeRequest` returned). */
  readonly job: HookJob;
  /** The attempt that produced the result, from 1. */
  readonly attempt: number;
}

/** What `beforeRetry` is told besides the error. */
export interface BeforeRetryContext {
  /** The job as the attempt that is retried sent it. */
  readonly job: HookJob;
  /** The attempt that is retried, from 1: the retry is `attempt + 1`. */
  readonly attempt: number;
  /** The status flowpool's `retry.statuses` retry; undefined when the attempt failed with an error. */
  readonly status: number | undefined;
  /** How long flowpool waited before this retry (its backoff, or the server's `retry-after`). */
  readonly delayMs: number;
}

/**
 * What `afterResponse` returns to send the job once more: `retry` is merged into the job (its fields over the
 * job's; `headers` merged name by name, case-insensitively). The caller's decision: sent whatever the method.
 */
export interface HookRetryRequest {
  readonly retry: Partial<HttpJobFields>;
}

/**
 * Functions run on the caller's thread around each attempt. Each may be async; one that throws (or rejects)
 * fails the job with `FLOWPOOL_HOOK_FAILED` (`details.hook` names it, the thrown value is `cause`), and the
 * runtime goes on serving. A job's `timeoutMs` covers its hooks' time too.
 */
export interface RuntimeHooks {
  /**
   * Before every attempt (flowpool's retries included: a token or a signature may have expired): returns
   * the job to send, validated as `run()` validates a job (`FLOWPOOL_INVALID_JOB` names the field). It
   * receives the job passed to `run()` (with what `afterResponse` asked merged in), never an earlier
   * attempt's returned job, so signing twice cannot happen. It may not change `tenant` or `timeoutMs`.
   * @default undefined (the job is sent as passed to `run()`)
   */
  beforeRequest?: (job: HookJob, context: BeforeRequestContext) => HttpJob | Promise<HttpJob>;
  /**
   * On an attempt's final result (after flowpool's own retries), before the caller gets it: returns the
   * result, or `{ retry: partialJob }` to send the job once more with `partialJob` merged in (at most
   * 3 times per job; a 4th ask fails it with `FLOWPOOL_HOOK_FAILED`). Errors do not reach it.
   * @default undefined (the result goes to the caller)
   */
  afterResponse?: (
    result: HttpResult,
    context: AfterResponseContext,
  ) => HttpResult | HookRetryRequest | Promise<HttpResult | HookRetryRequest>;
  /**
   * Before each retry flowpool's own rules decided (`retry` option), once its delay is over and before
   * `beforeRequest`: `error` is the attempt's error, or undefined for a retried status (`context.status`).
   * Its return value is ignored; a rejection fails the job.
   * @default undefined
   */
  beforeRetry?: (error: FlowpoolError | undefined, context: BeforeRetryContext) => unknown;
}

/** What `createRuntime` accepts: the options the schema checks (config/runtime-options.ts), and `hooks`. */
export interface RuntimeOptions extends RuntimeOptionsWithoutHooks {
  /**
   * Functions run on the caller's thread around each attempt of every job (docs/hooks.md). A job of a
   * runtime with hooks is validated again from what `beforeRequest` returns; a runtime without them pays a
   * field check per job.
   * @default undefined (no hooks)
   */
  hooks?: RuntimeHooks;
}
