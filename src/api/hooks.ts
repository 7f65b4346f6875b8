/**
 * The caller's hooks, from `createRuntime({ hooks })` to each job: checked once at construction, then one
 * {@link JobHooks} per job, which the lifecycle runs around each attempt (lifecycle/hooks.ts). Here is all
 * that knows the caller's shape: the copies a hook sees, the job re-validated from what it returns, the merge
 * of a retry's partial job, the bound on retries asked, and FLOWPOOL_HOOK_FAILED. No header value of the job
 * ever reaches a message (a hook's job carries credentials by design).
 */
import { closestMatch } from '../errors/closest-match.js';
import { FlowpoolError, isFlowpoolError, type HookName } from '../errors/flowpool-error.js';
import { describeKind } from '../errors/received-kind.js';
import { guardedOptions } from '../errors/validation.js';
import type { HttpJob } from '../job/http-job.js';
import type { NormalizedJob } from '../job/job.js';
import type { HttpResult } from '../job/result.js';
import { withJobId, type AfterResponseDecision, type FlowpoolRetry, type JobHooks } from '../lifecycle/job-pipeline.js';
import type { HookJob, HookRetryRequest, RuntimeHooks, RuntimeOptions } from './hook-types.js';

/**
 * Retries one job's `afterResponse` may ask for: enough for a refresh (401 -> new token -> retry) and a
 * second thought, few enough that a hook that always asks cannot loop.
 */
export const MAX_RETRIES_ASKED = 3;

const HOOK_NAMES: readonly HookName[] = ['beforeRequest', 'afterResponse', 'beforeRetry'];

/**
 * Splits `hooks` off the options (the rest goes to the schema) and checks it: an object of functions, each
 * named as above. Throws `FLOWPOOL_INVALID_OPTIONS` naming `hooks` or `hooks.<name>`.
 */
export function takeHooks(options: unknown): { readonly rest: unknown; readonly hooks: RuntimeHooks | undefined } {
  return guardedOptions(() => {
    if (typeof options !== 'object' || options === null || !Object.hasOwn(options, 'hooks')) {
      return { rest: options, hooks: undefined };
    }
    // A stranger's value: typed as what it should be only once checked below.
    const { hooks, ...rest } = options as Omit<RuntimeOptions, 'hooks'> & { hooks?: unknown };
    if (hooks === undefined) return { rest, hooks: undefined };
    if (typeof hooks !== 'object' || hooks === null || Array.isArray(hooks)) {
      throw invalidHooks('hooks', `expected an object of functions or undefined, received ${describeKind(hooks)}`);
    }
    for (const key of Object.keys(hooks)) {
      if (!(HOOK_NAMES as readonly string[]).includes(key)) {
        const suggestion = closestMatch(key, HOOK_NAMES);
        throw invalidHooks(
          `hooks.${key}`,
          `unknown hook${suggestion === undefined ? '' : `; did you mean "${suggestion}"?`} (expected one of ${HOOK_NAMES.join(', ')})`,
          suggestion,
        );
      }
      const hook = (hooks as Record<string, unknown>)[key];
      if (hook !== undefined && typeof hook !== 'function') {
        throw invalidHooks(`hooks.${key}`, `expected a function or undefined, received ${describeKind(hook)}`);
      }
    }
    const { beforeRequest, afterResponse, beforeRetry } = hooks as RuntimeHooks;
    if (beforeRequest === undefined && afterResponse === undefined && beforeRetry === undefined) {
      return { rest, hooks: undefined };
    }
    // Kept as read now: a caller who changes its hooks object later does not change a running runtime.
    return { rest, hooks: { beforeRequest, afterResponse, beforeRetry } };
  });
}

function invalidHooks(field: string, what: string, suggestion?: string): FlowpoolError {
  return new FlowpoolError(
    'FLOWPOOL_INVALID_OPTIONS',
    `invalid options: ${field}: ${what}`,
    suggestion === undefined ? { field } : { field, suggestion },
  );
}

/** The runtime's hooks: one {@link JobHooks} per job. */
export class CallerHooks {
  readonly #hooks: RuntimeHooks;
  /** The runtime's validation and policy check of a job (what `run()` does). */
  readonly #normalize: (input: unknown) => NormalizedJob;

  constructor(hooks: RuntimeHooks, normalize: (input: unknown) => NormalizedJob) {
    this.#hooks = hooks;
    this.#normalize = normalize;
  }

  /** The hooks of one job: `input` as passed to `run()`, `job` what validation made of it. */
  forJob(input: object, job: NormalizedJob): JobHooks {
    return new JobHookSession(this.#hooks, this.#normalize, input, job);
  }
}

class JobHookSession implements JobHooks {
  readonly beforeRequest: JobHooks['beforeRequest'];
  readonly afterResponse: JobHooks['afterResponse'];
  readonly beforeRetry: JobHooks['beforeRetry'];
  readonly #normalize: (input: unknown) => NormalizedJob;
  /** The job passed to run(); what afterResponse asked is merged into it. What beforeRequest receives. */
  #base: HookJob;
  /** The job as the current attempt sent it (what beforeRequest returned). */
  #sent: HookJob;
  /** The job as validated at run(): whose tenant and deadline hooks may not change. */
  readonly #original: NormalizedJob;
  #retriesAsked = 0;

  constructor(
    hooks: RuntimeHooks,
    normalize: (input: unknown) => NormalizedJob,
    input: object,
    original: NormalizedJob,
  ) {
    this.#normalize = normalize;
    this.#base = hookJob(input);
    this.#sent = this.#base;
    this.#original = original;
    const { beforeRequest, afterResponse, beforeRetry } = hooks;
    this.beforeRequest =
      beforeRequest === undefined ? undefined : (attempt) => this.#beforeRequest(beforeRequest, attempt);
    this.afterResponse =
      afterResponse === undefined
        ? undefined
        : (result, attempt) => this.#afterResponse(afterResponse, result, attempt);
    this.beforeRetry =
      beforeRetry === undefined ? undefined : (retry, attempt) => this.#beforeRetry(beforeRetry, retry, attempt);
  }

  get retriesAsked(): number {
    return this.#retriesAsked;
  }

  async #beforeRequest(hook: NonNullable<RuntimeHooks['beforeRequest']>, attempt: number): Promise<NormalizedJob> {
    let returned: unknown;
    try {
      returned = await hook(hookJob(this.#base), { attempt });
    } catch (error) {
      throw this.#failed('beforeRequest', attempt, error);
    }
    const job = this.#validate('beforeRequest', returned);
    this.#sent = hookJob(returned as object);
    return job;
  }

  async #afterResponse(
    hook: NonNullable<RuntimeHooks['afterResponse']>,
    result: HttpResult,
    attempt: number,
  ): Promise<AfterResponseDecision> {
    let returned: unknown;
    try {
      returned = await hook(result, { job: hookJob(this.#sent), attempt });
    } catch (error) {
      throw this.#failed('afterResponse', attempt, error);
    }
    if (isRetryRequest(returned)) {
      if (this.#retriesAsked >= MAX_RETRIES_ASKED) {
        throw this.#failed(
          'afterResponse',
          attempt,
          undefined,
          `asked for a retry more than ${MAX_RETRIES_ASKED} times for one job`,
        );
      }
      const partial: unknown = returned.retry;
      if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) {
        throw this.#failed(
          'afterResponse',
          attempt,
          undefined,
          `returned { retry: ${describeKind(partial)} }, expected { retry: partialJob }`,
        );
      }
      const merged = mergeJob(this.#base, partial);
      const job = this.#validate('afterResponse', merged);
      this.#retriesAsked++;
      this.#base = merged;
      this.#sent = merged;
      return { retry: job };
    }
    if (!isResult(returned)) {
      throw this.#failed(
        'afterResponse',
        attempt,
        undefined,
        `returned ${describeKind(returned)}, expected a result or { retry }`,
      );
    }
    return { result: returned };
  }

  async #beforeRetry(
    hook: NonNullable<RuntimeHooks['beforeRetry']>,
    retry: FlowpoolRetry,
    attempt: number,
  ): Promise<void> {
    try {
      await hook(retry.error, { job: hookJob(this.#sent), attempt, status: retry.status, delayMs: retry.delayMs });
    } catch (error) {
      throw this.#failed('beforeRetry', attempt, error);
    }
  }

  /** A job a hook returned or asked for, validated as run() validates one; its tenant and deadline unchanged. */
  #validate(hook: HookName, value: unknown): NormalizedJob {
    let job: NormalizedJob;
    try {
      job = this.#normalize(value);
    } catch (error) {
      if (!isFlowpoolError(error, 'FLOWPOOL_INVALID_JOB')) throw error;
      // The same message and field, said to come from the hook (the field's value is never quoted).
      throw new FlowpoolError('FLOWPOOL_INVALID_JOB', `${hook} made the job invalid: ${error.message}`, error.details, {
        cause: error,
      });
    }
    for (const field of ['tenant', 'timeoutMs'] as const) {
      if (job[field] !== this.#original[field]) {
        throw new FlowpoolError(
          'FLOWPOOL_INVALID_JOB',
          `${hook} made the job invalid: ${field}: expected the value passed to run(), received another (a hook may not change it)`,
          withJobId(this.#original, { field }),
        );
      }
    }
    return job;
  }

  /** FLOWPOOL_HOOK_FAILED: the hook and, for a thrown value, its kind (its message is the caller's: only in `cause`). */
  #failed(hook: HookName, attempt: number, thrown: unknown, what?: string): FlowpoolError {
    const message =
      what === undefined
        ? `the ${hook} hook threw (${kindOf(thrown)}): see the error's cause`
        : `the ${hook} hook ${what}`;
    return new FlowpoolError(
      'FLOWPOOL_HOOK_FAILED',
      message,
      withJobId(this.#original, { hook, attempts: attempt }),
      what === undefined ? { cause: thrown } : undefined,
    );
  }
}

/** A copy in the caller's shape, `headers` a plain record of its own, so a hook may change it freely. */
function hookJob(job: object): HookJob {
  const headers = (job as { headers?: HookJob['headers'] }).headers;
  return { ...(job as HttpJob), headers: { ...headers } };
}

/** `partial` over `job`, field by field; `headers` name by name, a name in any case replacing the job's. */
function mergeJob(job: HookJob, partial: object): HookJob {
  const extra = (partial as { headers?: unknown }).headers;
  const merged: HookJob = { ...job, ...partial };
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) return merged;
  const replaced = new Set(Object.keys(extra).map((name) => name.toLowerCase()));
  const headers: HookJob['headers'] = {};
  for (const [name, value] of Object.entries(job.headers)) {
    if (!replaced.has(name.toLowerCase())) headers[name] = value;
  }
  return { ...merged, headers: Object.assign(headers, extra) };
}

function isRetryRequest(value: unknown): value is HookRetryRequest {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, 'retry');
}

/** Enough of a result for the caller and the counters: a status and the timings. */
function isResult(value: unknown): value is HttpResult {
  if (typeof value !== 'object' || value === null) return false;
  const { status, timings } = value as Partial<HttpResult>;
  return typeof status === 'number' && typeof timings === 'object' && typeof timings.totalMs === 'number';
}

function kindOf(thrown: unknown): string {
  try {
    return thrown instanceof Error ? thrown.name : typeof thrown;
  } catch {
    return 'an object that threw while being inspected';
  }
}
