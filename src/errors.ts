/**
 * Every error flowpool rejects with. Users branch on `code`, never on `instanceof` (errors cross threads,
 * and a class does not survive structured clone: see FACTS.md).
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
  'FLOWPOOL_QUEUE_UNAVAILABLE',
] as const;

/** The literal union of every code; new codes may be added, existing ones keep their meaning. */
export type FlowpoolErrorCode = (typeof FLOWPOOL_ERROR_CODES)[number];

/** Where a deadline fired, for `FLOWPOOL_TIMEOUT`. */
export type TimeoutPhase = 'queued' | 'connect' | 'headers' | 'body' | 'total';

/** Extra, code-specific facts an error may carry; all plain data so it can cross threads. */
export interface FlowpoolErrorDetails {
  /** For `FLOWPOOL_TIMEOUT`: the phase the job was in when the deadline fired. */
  readonly phase?: TimeoutPhase;
  /** For `FLOWPOOL_BLOCKED_DESTINATION`: the policy rule that refused it (never contains secrets). */
  readonly reason?: string;
  /** For `FLOWPOOL_INVALID_OPTIONS` / `FLOWPOOL_INVALID_JOB`: the path of the offending field. */
  readonly field?: string;
  /** The id of the job the error belongs to, when the job had one. */
  readonly jobId?: string;
  /** For `FLOWPOOL_CIRCUIT_OPEN`: milliseconds until the circuit lets a probe through. */
  readonly retryInMs?: number;
  /** Runs of the job before it failed (more than 1 after retries). */
  readonly attempts?: number;
  /** The underlying low-level code (an undici `UND_ERR_*`, a Node `E*` code), for diagnosis only. */
  readonly causeCode?: string;
}

/** The one error class flowpool rejects with. */
export class FlowpoolError extends Error {
  readonly code: FlowpoolErrorCode;
  readonly details: FlowpoolErrorDetails;

  constructor(code: FlowpoolErrorCode, message: string, details: FlowpoolErrorDetails = {}) {
    super(message);
    this.name = 'FlowpoolError';
    this.code = code;
    this.details = details;
  }
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

/** Shortens a received value for an error message: strangers' input must not flood logs. */
export function describeReceived(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value === undefined) text = 'undefined';
  else if (typeof value === 'number' && !Number.isFinite(value)) text = String(value);
  else if (typeof value === 'function') text = 'a function';
  else if (typeof value === 'bigint') text = `${value}n`;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
