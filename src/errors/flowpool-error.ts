import { redactUrlCredentials } from './redact.js';

/**
 * Every code a {@link FlowpoolError} carries. Users branch on `code` (or narrow with it: see
 * {@link FlowpoolError}); `instanceof FlowpoolError` works too, across two copies of the package and for
 * errors rebuilt from a worker thread, because it checks a `Symbol.for('flowpool.error')` brand rather
 * than the class identity.
 *
 * The workflow layer (`flowpool/engine`) has codes of its own (`HTTP_STATUS`, `NODE_EXCEPTION`, a text
 * operation's or a node type's code) on its own `NodeError` / `NodeErrorInfo`: that is a separate,
 * documented namespace, never mixed into this list, and a `FlowpoolError` never carries one of them.
 */
export const FLOWPOOL_ERROR_CODES = [
  'FLOWPOOL_INVALID_OPTIONS',
  'FLOWPOOL_INVALID_JOB',
  'FLOWPOOL_BLOCKED_DESTINATION',
  'FLOWPOOL_TIMEOUT',
  'FLOWPOOL_RESPONSE_TOO_LARGE',
  'FLOWPOOL_TOO_MANY_REDIRECTS',
  'FLOWPOOL_CONNECTION_FAILED',
  'FLOWPOOL_QUEUE_FULL',
  'FLOWPOOL_ABORTED',
  'FLOWPOOL_CLOSED',
  'FLOWPOOL_WORKER_CRASHED',
  'FLOWPOOL_INVALID_RESPONSE',
  'FLOWPOOL_TRANSFORM_FAILED',
  'FLOWPOOL_CIRCUIT_OPEN',
  'FLOWPOOL_TLS_FAILED',
  'FLOWPOOL_QUEUE_UNAVAILABLE',
  'FLOWPOOL_SAVE_FAILED',
  'FLOWPOOL_IDEMPOTENCY_CONFLICT',
  'FLOWPOOL_HOOK_FAILED',
] as const;

/** The literal union of every code; new codes may be added, existing ones keep their meaning. */
export type FlowpoolErrorCode = (typeof FLOWPOOL_ERROR_CODES)[number];

/** Where a deadline fired, for `FLOWPOOL_TIMEOUT`. */
export type TimeoutPhase = 'startup' | 'queued' | 'connect' | 'headers' | 'body' | 'total' | 'signal' | 'hook';

/** The caller's hooks (`createRuntime({ hooks })`), named in `FLOWPOOL_HOOK_FAILED` and a timeout in phase `hook`. */
export type HookName = 'beforeRequest' | 'afterResponse' | 'beforeRetry';

/**
 * Every detail any error may carry, all optional: the shape error-building code passes to the constructor.
 * Users read the precise per-code shape instead ({@link FlowpoolErrorDetailsOf}). All plain data so it can
 * cross threads; none of it ever contains URL credentials or header values.
 */
export interface FlowpoolErrorDetails {
  /** For `FLOWPOOL_TIMEOUT`: the phase the job was in when the deadline fired. */
  readonly phase?: TimeoutPhase;
  /**
   * For `FLOWPOOL_BLOCKED_DESTINATION`: the policy rule that refused it. For `FLOWPOOL_QUEUE_UNAVAILABLE`: why
   * Redis could not be used (the connection's state or the underlying error's message). Never contains
   * secrets (URL credentials are redacted on construction).
   */
  readonly reason?: string;
  /** For `FLOWPOOL_INVALID_OPTIONS` / `FLOWPOOL_INVALID_JOB`: the path of the offending field. */
  readonly field?: string;
  /** For `FLOWPOOL_INVALID_OPTIONS` from `proxy: 'env'`: the environment variable that holds the bad value. */
  readonly variable?: string;
  /** The id of the job the error belongs to, when the job had one. */
  readonly jobId?: string;
  /** For `FLOWPOOL_CIRCUIT_OPEN`: milliseconds until the circuit lets a probe through. */
  readonly retryInMs?: number;
  /** For `FLOWPOOL_QUEUE_FULL`: the tenant of the refused job. */
  readonly tenant?: string;
  /** Runs of the job before it failed (more than 1 after retries). */
  readonly attempts?: number;
  /** The underlying low-level code (an undici `UND_ERR_*`, a Node `E*` code), for diagnosis only. */
  readonly causeCode?: string;
  /**
   * For `FLOWPOOL_ABORTED`: whether any byte of the request may have reached the network. `false` is a
   * promise: nothing was sent and nothing ever will be.
   */
  readonly sent?: boolean;
  /** For `FLOWPOOL_TLS_FAILED`: Node's TLS / OpenSSL code (`CERT_HAS_EXPIRED`, `ERR_TLS_CERT_ALTNAME_INVALID`, ...). */
  readonly tlsCode?: string;
  /** For `FLOWPOOL_INVALID_RESPONSE` on a JSON job: the response's status. */
  readonly status?: number;
  /** For `FLOWPOOL_INVALID_RESPONSE` on a JSON job: the response's headers (without `set-cookie`). */
  readonly headers?: Readonly<Record<string, string | string[]>>;
  /** For `FLOWPOOL_INVALID_RESPONSE` on a JSON job: the body's first bytes (at most 1 KiB), decoded as text. */
  readonly bodyPreview?: string;
  /**
   * For `FLOWPOOL_INVALID_OPTIONS` / `FLOWPOOL_INVALID_JOB` on an unknown key: the known key it is closest to
   * (a likely typo), when one is close.
   */
  readonly suggestion?: string;
  /** For `FLOWPOOL_QUEUE_UNAVAILABLE`: the Redis server as `host:port` (never credentials). */
  readonly redis?: string;
  /** For `FLOWPOOL_SAVE_FAILED`: the file the body was to be saved to (`job.saveTo`). */
  readonly path?: string;
  /**
   * For `FLOWPOOL_HOOK_FAILED`: the hook that threw or returned something unusable; for `FLOWPOOL_TIMEOUT` in
   * phase `hook`: the hook that was still running at the deadline.
   */
  readonly hook?: HookName;
}

/** Details every code may carry. */
export interface FlowpoolErrorCommonDetails {
  /** The id of the job the error belongs to, when the job had one. */
  readonly jobId?: string;
  /** Runs of the job before it failed (more than 1 after retries). */
  readonly attempts?: number;
  /**
   * The underlying low-level code (an undici `UND_ERR_*`, a Node `E*` code) when there was one: mostly on
   * `FLOWPOOL_CONNECTION_FAILED` and `FLOWPOOL_TLS_FAILED`. For diagnosis only; not a stable API.
   */
  readonly causeCode?: string;
}

// Compile-time check that the table below names every code exactly once.
type EveryCode<
  T extends { readonly [C in FlowpoolErrorCode]: object } & Record<Exclude<keyof T, FlowpoolErrorCode>, never>,
> = T;
type NoSpecificDetails = object;

/** The details specific to each code, on top of {@link FlowpoolErrorCommonDetails}. */
export type FlowpoolErrorSpecificDetails = EveryCode<{
  /**
   * `suggestion` is there for an unknown key close to a known one; `variable`: the environment variable at
   * fault, when `proxy: 'env'` read a bad value.
   */
  readonly FLOWPOOL_INVALID_OPTIONS: {
    readonly field: string;
    readonly suggestion?: string;
    readonly variable?: string;
  };
  readonly FLOWPOOL_INVALID_JOB: { readonly field: string; readonly suggestion?: string };
  readonly FLOWPOOL_BLOCKED_DESTINATION: { readonly reason: string };
  /** `sent` with phase `signal` (the caller's `AbortSignal.timeout()`): whether any request was written. */
  readonly FLOWPOOL_TIMEOUT: { readonly phase: TimeoutPhase; readonly sent?: boolean; readonly hook?: HookName };
  readonly FLOWPOOL_RESPONSE_TOO_LARGE: NoSpecificDetails;
  readonly FLOWPOOL_TOO_MANY_REDIRECTS: NoSpecificDetails;
  readonly FLOWPOOL_CONNECTION_FAILED: NoSpecificDetails;
  /** The tenant of the refused job (the whole queue was full, or that tenant's `maxQueued` share of it). */
  readonly FLOWPOOL_QUEUE_FULL: { readonly tenant: string };
  readonly FLOWPOOL_ABORTED: { readonly sent: boolean };
  readonly FLOWPOOL_CLOSED: NoSpecificDetails;
  readonly FLOWPOOL_WORKER_CRASHED: NoSpecificDetails;
  /** status, headers and bodyPreview are there when a JSON job got a body that is not JSON. */
  readonly FLOWPOOL_INVALID_RESPONSE: {
    readonly status?: number;
    readonly headers?: Readonly<Record<string, string | string[]>>;
    readonly bodyPreview?: string;
  };
  readonly FLOWPOOL_TRANSFORM_FAILED: NoSpecificDetails;
  readonly FLOWPOOL_CIRCUIT_OPEN: { readonly retryInMs: number };
  readonly FLOWPOOL_TLS_FAILED: NoSpecificDetails;
  /** The Redis server (`host:port`) and why it could not be used (`reason`; `causeCode` when the error had one). */
  readonly FLOWPOOL_QUEUE_UNAVAILABLE: { readonly redis: string; readonly reason: string };
  /** The target file; `causeCode` holds the system error code (`ENOENT`, `EACCES`, `ENOSPC`, ...) when there is one. */
  readonly FLOWPOOL_SAVE_FAILED: { readonly path: string };
  /**
   * Queue mode: the idempotency key was already used, in this queue and namespace, for a job with another
   * fingerprint (method, URL, body, the headers that matter). `field` is `'idempotencyKey'`; nothing of
   * the first job is returned.
   */
  readonly FLOWPOOL_IDEMPOTENCY_CONFLICT: { readonly field: string };
  /**
   * A hook of the caller's (`createRuntime({ hooks })`) threw, or returned something unusable: `hook` names it;
   * the thrown value is the error's `cause`.
   */
  readonly FLOWPOOL_HOOK_FAILED: { readonly hook: HookName };
}>;

type SpecificKey = {
  [C in FlowpoolErrorCode]: keyof FlowpoolErrorSpecificDetails[C];
}[FlowpoolErrorCode];

/**
 * The details of an error with code `C`. Another code's specific fields read as `undefined`, so code that
 * reads `error.details.phase` without narrowing still compiles, and narrowing on `code` makes the code's
 * own fields required.
 */
export type FlowpoolErrorDetailsOf<C extends FlowpoolErrorCode> = FlowpoolErrorCommonDetails &
  FlowpoolErrorSpecificDetails[C] & {
    readonly [K in Exclude<SpecificKey, keyof FlowpoolErrorSpecificDetails[C]>]?: undefined;
  };

/** The JSON form of a {@link FlowpoolError}: what `JSON.stringify(error)` writes and `FlowpoolError.fromJSON` reads. */
export interface FlowpoolErrorJSON {
  readonly name: string;
  readonly code: FlowpoolErrorCode;
  readonly message: string;
  readonly details: FlowpoolErrorDetails;
  /** The error's `cause`, summarised: its name, message (URL credentials redacted) and `code` if it had one. */
  readonly cause?: FlowpoolErrorCauseJSON;
}

/** A summary of an error's `cause` in {@link FlowpoolErrorJSON}. */
export interface FlowpoolErrorCauseJSON {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

function summariseCause(cause: unknown): FlowpoolErrorCauseJSON | undefined {
  if (cause === undefined) return undefined;
  try {
    if (typeof cause === 'object' && cause !== null) {
      const { name, message, code } = cause as { name?: unknown; message?: unknown; code?: unknown };
      return {
        name: typeof name === 'string' ? name : 'Error',
        message: typeof message === 'string' ? redactUrlCredentials(message) : '',
        ...(typeof code === 'string' ? { code } : {}),
      };
    }
    // A thrown primitive (a string, a number, ...): described as an error message would quote it.
    return {
      name: typeof cause,
      message: typeof cause === 'string' ? redactUrlCredentials(cause) : describeReceived(cause),
    };
  } catch {
    // A thrown Proxy (a stranger's getter) must not make logging an error throw.
    return { name: 'Error', message: '' };
  }
}

function causeFromJSON(value: unknown): Error {
  const { name, message, code } = (typeof value === 'object' && value !== null ? value : {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
  };
  const error = new Error(typeof message === 'string' ? message : '');
  if (typeof name === 'string') error.name = name;
  if (typeof code === 'string') Object.defineProperty(error, 'code', { value: code, enumerable: true });
  return error;
}

/** The options of the constructor, as for `Error`: `cause` is kept on the error (summarised by `toJSON`, never sent across threads). */
export interface FlowpoolErrorOptions {
  readonly cause?: unknown;
}

const FLOWPOOL_ERROR_BRAND: unique symbol = Symbol.for('flowpool.error') as never;

function hasBrand(value: unknown): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  try {
    return (value as { [FLOWPOOL_ERROR_BRAND]?: unknown })[FLOWPOOL_ERROR_BRAND] === true;
  } catch {
    // A thrown Proxy whose get trap throws is not a flowpool error; asking must not throw again.
    return false;
  }
}

/**
 * The implementation behind {@link FlowpoolError}. Its `details` is the loose bag the constructor takes;
 * the public {@link FlowpoolError} type narrows it per code.
 */
class FlowpoolErrorBase extends Error {
  readonly code: FlowpoolErrorCode;
  readonly details: FlowpoolErrorDetails;

  constructor(
    code: FlowpoolErrorCode,
    message: string,
    details: FlowpoolErrorDetails = {},
    options?: FlowpoolErrorOptions,
  ) {
    // The last line of defence for "no credentials in messages": whatever a call site quoted, a URL's
    // userinfo is rewritten before anyone can log it.
    super(redactUrlCredentials(message), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FlowpoolError';
    this.code = code;
    this.details =
      typeof details.reason === 'string' && details.reason.includes('@')
        ? { ...details, reason: redactUrlCredentials(details.reason) }
        : details;
  }

  /**
   * What `JSON.stringify(error)` shows: name, code, message and details (an `Error`'s own `message` is not
   * enumerable, so without this a logged error would lose it), and the cause summarised.
   */
  toJSON(): FlowpoolErrorJSON {
    const cause = summariseCause(this.cause);
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      details: this.details,
      ...(cause === undefined ? {} : { cause }),
    };
  }

  /**
   * Rebuilds an error from its JSON form ({@link FlowpoolErrorBase.toJSON}, or a parsed log line): the same
   * code, message and details. A code this version does not know reads as `FLOWPOOL_CONNECTION_FAILED`
   * (the message is kept); anything that is not an error's JSON at all throws a `TypeError`.
   */
  static fromJSON(value: unknown): FlowpoolError {
    if (typeof value !== 'object' || value === null) throw new TypeError('expected the JSON form of a FlowpoolError');
    const { code, message, details, cause } = value as Partial<Record<keyof FlowpoolErrorJSON, unknown>>;
    if (typeof message !== 'string' || typeof code !== 'string') {
      throw new TypeError('expected the JSON form of a FlowpoolError (a string code and message)');
    }
    const plainDetails =
      typeof details === 'object' && details !== null && !Array.isArray(details)
        ? (details as FlowpoolErrorDetails)
        : {};
    return new FlowpoolError(
      isFlowpoolErrorCode(code) ? code : 'FLOWPOOL_CONNECTION_FAILED',
      message,
      plainDetails,
      cause === undefined ? undefined : { cause: causeFromJSON(cause) },
    );
  }

  // A brand, not class identity: two copies of flowpool (a dependency of a dependency) each have their own
  // class, and an error rebuilt from a worker's plain data is a new object; both still answer instanceof.
  get [FLOWPOOL_ERROR_BRAND](): true {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value);
  }
}

/** A {@link FlowpoolError} whose `code` is `C` (or one of the codes of a union `C`). */
export type FlowpoolErrorOf<C extends FlowpoolErrorCode> = C extends FlowpoolErrorCode
  ? FlowpoolErrorBase & {
      readonly code: C;
      readonly details: FlowpoolErrorDetailsOf<C>;
    }
  : never;

/**
 * The one error flowpool rejects with: an `Error` with a literal `code` and plain-data `details`. The type
 * is a union discriminated by `code`, so checking the code narrows the details:
 *
 * ```ts
 * if (error instanceof FlowpoolError && error.code === 'FLOWPOOL_TIMEOUT') error.details.phase; // TimeoutPhase
 * ```
 */
export type FlowpoolError = FlowpoolErrorOf<FlowpoolErrorCode>;

/** The constructor of {@link FlowpoolError}. */
export interface FlowpoolErrorConstructor {
  new (
    code: FlowpoolErrorCode,
    message: string,
    details?: FlowpoolErrorDetails,
    options?: FlowpoolErrorOptions,
  ): FlowpoolError;
  readonly prototype: FlowpoolError;
  /** True for any flowpool error, whichever copy of the package made it. */
  [Symbol.hasInstance](value: unknown): value is FlowpoolError;
  /** Rebuilds an error from its JSON form (`JSON.parse(JSON.stringify(error))`): same code, message and details. */
  fromJSON(value: unknown): FlowpoolError;
}

/**
 * `new FlowpoolError(code, message, details?, { cause }?)`. The message and `details.reason` have URL
 * credentials redacted on construction.
 */
export const FlowpoolError: FlowpoolErrorConstructor = FlowpoolErrorBase as unknown as FlowpoolErrorConstructor;

/**
 * True when `value` is a flowpool error (of code `code` when given), whichever copy of the package made
 * it: narrows `details` to that code's shape.
 */
export function isFlowpoolError(value: unknown): value is FlowpoolError;
export function isFlowpoolError<C extends FlowpoolErrorCode>(value: unknown, code: C): value is FlowpoolErrorOf<C>;
export function isFlowpoolError(value: unknown, code?: FlowpoolErrorCode): boolean {
  return hasBrand(value) && (code === undefined || (value as { code?: unknown }).code === code);
}

/** The plain-data form of an error, the only form that crosses a thread boundary. */
export interface SerializedError {
  readonly code: FlowpoolErrorCode;
  readonly name: string;
  readonly message: string;
  readonly details?: FlowpoolErrorDetails;
}

const knownCodes: ReadonlySet<string> = new Set(FLOWPOOL_ERROR_CODES);

/** True when `value` is one of flowpool's error codes. */
export function isFlowpoolErrorCode(value: unknown): value is FlowpoolErrorCode {
  return typeof value === 'string' && knownCodes.has(value);
}

export function serializeError(error: FlowpoolError): SerializedError {
  return { code: error.code, name: error.name, message: error.message, details: error.details };
}

/** Rebuilds a {@link FlowpoolError} on the main thread from what a worker sent, plus main-thread details. */
export function deserializeError(data: SerializedError, extra: FlowpoolErrorDetails = {}): FlowpoolError {
  // A worker on a newer build could send a code this one does not know: keep the message, never crash.
  const code = isFlowpoolErrorCode(data.code) ? data.code : 'FLOWPOOL_CONNECTION_FAILED';
  return new FlowpoolError(code, data.message, { ...data.details, ...extra });
}

/**
 * Shortens a received value for an error message: strangers' input must not flood logs, and a URL's
 * credentials are redacted wherever they appear in it. Never pass a header value here (say what was wrong
 * with it instead).
 */
export function describeReceived(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(redactUrlCredentials(value));
  else if (value === undefined) text = 'undefined';
  else if (typeof value === 'number' && !Number.isFinite(value)) text = String(value);
  else if (typeof value === 'function') text = 'a function';
  else if (typeof value === 'bigint') text = `${value}n`;
  else {
    try {
      // undefined for a symbol (the replacer overload's type says string).
      const json = JSON.stringify(value, redactStrings) as string | undefined;
      text = json ?? Object.prototype.toString.call(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  // Redact before shortening: a cut inside the userinfo would hide the "@" that marks it.
  text = redactUrlCredentials(text);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function redactStrings(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? redactUrlCredentials(value) : value;
}
