/** The executor's options, their defaults, and their checks (once, when the executor is made). */
import { FlowpoolError } from '../index.js';
import { describeReceived } from '../errors/flowpool-error.js';
import type { BodyDecoding } from './go-body.js';
import type { NodeRegistry } from './registry.js';

export type { BodyDecoding } from './go-body.js';

/** The Go engine's default MaxExecutionTime. */
export const DEFAULT_WORKFLOW_TIMEOUT_MS = 5 * 60 * 1000;
/** The Go engine's DefaultConfig MaxHTTPCallsPerExec. */
export const DEFAULT_MAX_HTTP_CALLS_PER_RUN = 100;
/** Go's client follows 9 redirects and fails at the 10th (`len(via) >= MaxHTTPRedirects`, 10). */
export const DEFAULT_WORKFLOW_MAX_REDIRECTS = 9;

export interface ExecutorOptions {
  /** Node types to use. @default createRegistry() (http, text_operation and the Go engine's input and context nodes) */
  readonly registry?: NodeRegistry;
  /** Deadline of a whole run in ms (a run may set its own). @default 300000 (5 minutes, as in Go) */
  readonly timeoutMs?: number;
  /**
   * HTTP calls one run may make (every `run` of the job runner by any node counts, before it is sent);
   * the next fails its node with `WORKFLOW_HTTP_CALL_LIMIT` and is not sent. 0: no cap.
   * @default 100 (the Go engine's MaxHTTPCallsPerExec)
   */
  readonly maxHttpCallsPerRun?: number;
  /**
   * Redirects a workflow's HTTP job follows when the job does not say (the runtime's own `maxRedirects`
   * stays the default for jobs outside workflows).
   * @default 9 (Go's client: the 10th redirect fails)
   */
  readonly maxRedirects?: number;
  /**
   * How http nodes decode response bodies (see {@link BodyDecoding}). `charset` gives the text the server
   * meant; the two differ only for bodies that are not UTF-8 (where Go's text has U+FFFD instead of
   * the letters) and for a byte order mark (Go keeps it).
   * @default 'charset'
   */
  readonly bodyDecoding?: BodyDecoding;
  /**
   * OpenTelemetry spans (run, node) and the node span's `traceparent` header on every http node's job,
   * when `@opentelemetry/api` is installed; without a registered tracer provider they record nothing.
   * The runtime's request spans (one per attempt) follow the registered provider whatever this says:
   * with tracing on they are the node span's children, with it off roots (or the caller's children).
   * @default true
   */
  readonly tracing?: boolean;
  /** The tracer's name. @default 'flowpool' */
  readonly tracerName?: string;
}

export interface ParsedExecutorOptions {
  readonly timeoutMs: number;
  readonly maxHttpCallsPerRun: number;
  readonly maxRedirects: number;
  readonly bodyDecoding: BodyDecoding;
}

/** setTimeout's own limit: a larger delay would fire at once. */
const MAX_TIMEOUT_MS = 2_147_483_647;
/** The runtime's job schema accepts up to 100 redirects. */
const MAX_REDIRECTS = 100;

export function parseExecutorOptions(options: ExecutorOptions): ParsedExecutorOptions {
  const bodyDecoding: unknown = options.bodyDecoding ?? 'charset';
  if (bodyDecoding !== 'charset' && bodyDecoding !== 'go') {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_OPTIONS',
      `bodyDecoding: expected "charset" or "go", received ${describeReceived(bodyDecoding)}`,
    );
  }
  return {
    timeoutMs: checkTimeout(options.timeoutMs, 'timeoutMs') ?? DEFAULT_WORKFLOW_TIMEOUT_MS,
    maxHttpCallsPerRun:
      checkInteger(options.maxHttpCallsPerRun, 'maxHttpCallsPerRun', 0, Number.MAX_SAFE_INTEGER) ??
      DEFAULT_MAX_HTTP_CALLS_PER_RUN,
    maxRedirects:
      checkInteger(options.maxRedirects, 'maxRedirects', 0, MAX_REDIRECTS) ?? DEFAULT_WORKFLOW_MAX_REDIRECTS,
    bodyDecoding,
  };
}

export function checkTimeout(value: number | undefined, name: string): number | undefined {
  return checkInteger(value, name, 1, MAX_TIMEOUT_MS, ' (ms)');
}

function checkInteger(
  value: number | undefined,
  name: string,
  min: number,
  max: number,
  unit = '',
): number | undefined {
  if (value === undefined) return undefined;
  if (Number.isInteger(value) && value >= min && value <= max) return value;
  throw new FlowpoolError(
    'FLOWPOOL_INVALID_OPTIONS',
    `${name}: expected an integer from ${String(min)} to ${String(max)}${unit}, received ${String(value)}`,
  );
}
