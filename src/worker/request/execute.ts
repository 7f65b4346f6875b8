/**
 * One job in the worker: the request, every redirect hop within its origin (each checked by the policy;
 * a hop to another origin is handed back to the main thread's coordinator as a JobRedirect), the size limit
 * on the bytes the caller would receive, the exact deadline, body decoding, and a plain-data outcome.
 * Never throws: every failure becomes `{ ok: false, error: { code, name, message } }`.
 */
import type { Client, Dispatcher } from 'undici';
import { FlowpoolError, serializeError, type TimeoutPhase } from '../../errors/flowpool-error.js';
import type { DestinationPolicy } from '../../policy/index.js';
import type { HopRequest, JobNoConnection, JobOutcome, JobRequest, JobSuccess } from '../../wire/protocol.js';
import { ConnectGuardError, type WorkerDispatcher } from '../connect/agent.js';
import type { AbortCause, JobCancellation } from './cancellation.js';
import { ResponseReader, type HopResponse, type ReadLimits } from './response-reader.js';
import { tlsFailure } from '../connect/tls-errors.js';
import type { TransformRegistry } from './transforms.js';
import { decodeText } from './charset.js';
import { parseJsonBody } from './json-body.js';
import { FileSink } from './file-sink.js';
import { CookieSession } from './cookie-session.js';
import { StreamSink } from './stream-sink.js';

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** Headers that must not follow a redirect to another origin: they carry the caller's identity. */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'proxy-authorization']);
/** Body-describing headers dropped when a redirect turns the request into a bodiless GET. */
const BODY_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-encoding',
  'content-language',
  'content-location',
]);

const TOTAL_TIMEOUT: AbortCause = { kind: 'timeout', which: 'total' };
const HEADERS_TIMEOUT: AbortCause = { kind: 'timeout', which: 'headers' };

/** exchange() found no connection unit for its hop on this worker: executeJob hands the hop back. */
class NoConnectionHere extends Error {
  constructor() {
    super('no connection unit free on this worker');
    this.name = 'NoConnectionHere';
  }
}

interface Hop extends HopRequest {
  /** Parsed only once a redirect needs it: the first hop travels as origin + path. */
  readonly url: URL | undefined;
}

/** What every job on a worker shares: built once at worker load. */
export interface ExecuteContext {
  readonly dispatcher: WorkerDispatcher;
  readonly policy: DestinationPolicy;
  readonly headersTimeoutMs: number;
  readonly transforms: TransformRegistry;
  /** Counts resends after a stale keep-alive socket (for stats). */
  readonly onStaleRetry: () => void;
}

/**
 * Socket-level failures that, before any response byte, mean the server closed a kept-alive socket
 * as we wrote to it (the keep-alive race), not that it refused the request.
 */
const STALE_SOCKET_CODES: ReadonlySet<string> = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/**
 * Sends one hop and reads its response. An idempotent request that dies on a closed socket before
 * any response byte is sent once more (undici has dropped that socket by then, so it goes on
 * another); anything else, and a second failure, is the job's error. POST is never resent: the server
 * may have acted on it. `attach` hands each attempt's reader to the job, so an abort reaches it.
 */
async function exchange(
  dispatcher: WorkerDispatcher,
  hop: Hop,
  limits: ReadLimits,
  idempotent: boolean,
  attach: (reader: ResponseReader) => boolean,
  onStaleRetry: () => void,
): Promise<HopResponse> {
  // Through a proxy, an http: request goes in absolute form with the proxy's credentials.
  const { path, headers } = dispatcher.route(hop.origin, hop.path, hop.headers);
  const options: Dispatcher.DispatchOptions = {
    origin: hop.origin,
    path,
    method: hop.method,
    headers: headers as string[],
    // undici sends a Blob with its size as content-length (client-h1 writeBody), though its types omit it.
    body: (hop.body ?? null) as Dispatcher.DispatchOptions['body'],
  };
  let resent = false;
  let fresh: Client | undefined;
  for (;;) {
    const reader = new ResponseReader(limits);
    const live = attach(reader);
    if (live) (fresh ?? dispatcher.agent).dispatch(options, reader);
    try {
      const response = await reader.done;
      // Closes once this one response has been read.
      if (fresh !== undefined) void fresh.close().catch(() => {});
      return response;
    } catch (error) {
      const onFresh = fresh !== undefined;
      if (fresh !== undefined) void fresh.destroy().catch(() => {});
      fresh = undefined;
      if (!live || reader.started || error instanceof FlowpoolError) throw error;
      // Refused by the connection cap before anything was sent: always safe to send again. Here if one of
      // this worker's sockets is idle (undici gives it to the resend); otherwise the units are held by
      // other workers' sockets, and dialling again would be refused until they close: the coordinator
      // places the hop where a socket waits. A streamed body cannot travel back: it waits here (each turn
      // waits CAP_WAIT_MS in the connector) until a unit frees or the deadline aborts it.
      if (error instanceof ConnectGuardError && error.code === 'FLOWPOOL_CONNECTION_CAP') {
        if (hop.body instanceof ReadableStream || dispatcher.hasIdleSocket(hop.origin)) {
          // The keep-alive resend must not fall back onto the pool's kept-alive (possibly stale) sockets.
          if (onFresh) fresh = dispatcher.freshClient(hop.origin);
          continue;
        }
        throw new NoConnectionHere();
      }
      const code = (error as { code?: unknown } | null)?.code;
      if (resent || !idempotent || typeof code !== 'string' || !STALE_SOCKET_CODES.has(code)) throw error;
      resent = true;
      onStaleRetry();
      // On a new socket: another kept-alive socket of the pool may be just as stale.
      fresh = dispatcher.freshClient(hop.origin);
    }
  }
}

export async function executeJob(
  job: JobRequest,
  context: ExecuteContext,
  cancellation: JobCancellation,
): Promise<JobOutcome> {
  const { dispatcher, policy, headersTimeoutMs } = context;
  const started = performance.now();
  let phase: TimeoutPhase = 'headers';
  let headersMs = 0;
  let current: ResponseReader | undefined;
  /** A request of this dispatch was written to a socket (an earlier exchange's; the current one is asked last). */
  let sent = false;
  const abortError = (cause: AbortCause): FlowpoolError =>
    stoppedError(cause, phase, job.jobTimeoutMs, headersTimeoutMs);
  cancellation.listen((cause) => current?.abort(abortError(cause)));
  const phaseNow = (): TimeoutPhase => phase;
  /** Whether a request of this dispatch was written to a socket (a callback sets `current`: read it here). */
  const wasSent = (): boolean => sent || current?.requestSent === true;
  /** Makes `reader` the exchange an abort reaches; false (and the reader failed) if the job was already stopped. */
  const attach = (reader: ResponseReader): boolean => {
    if (current?.requestSent === true) sent = true;
    current = reader;
    const cause = cancellation.cause;
    if (cause === undefined) return true;
    reader.abort(abortError(cause));
    return false;
  };
  const totalTimer = setTimeout(() => cancellation.abort(TOTAL_TIMEOUT), job.timeoutMs);
  let headersTimer: NodeJS.Timeout | undefined;
  const limits: { -readonly [K in keyof ReadLimits]: ReadLimits[K] } = {
    maxResponseBytes: job.maxResponseBytes,
    // `decompress: false` travels as the absence of accept-encoding: normalizeJob adds one to every
    // other job (src/job/request-headers.ts), so no extra wire field is needed.
    decode: hasHeader(job.headers, 'accept-encoding'),
    onHeaders(status, headers) {
      clearTimeout(headersTimer);
      headersTimer = undefined;
      headersMs = performance.now() - started;
      // A streamed request body was read once: a redirect that would send it again (307, 308) is the answer.
      const resends = status === 307 || status === 308 || ((status === 301 || status === 302) && hop.method !== 'POST');
      const followable = !(hop.body instanceof ReadableStream && resends);
      if (job.followRedirects && REDIRECT_STATUSES.has(status) && typeof headers.location === 'string' && followable)
        return true;
      phase = 'body';
      return false;
    },
  };
  // Plain HTTP through a proxy: a 407 is the proxy refusing our credentials, not the server's answer (as for
  // a refused CONNECT, proxy.ts).
  const proxy = dispatcher.absoluteFormProxy(job.origin);
  if (proxy !== undefined) limits.refuse = (status) => (status === 407 ? proxyAuthRefused(proxy) : undefined);
  // saveTo: the final response's body goes to a file (a redirect's body is drained, never saved).
  let file: FileSink | undefined;
  const saveTo = job.payload?.saveTo;
  if (saveTo !== undefined) {
    limits.sinkFor = () => {
      void file?.discard();
      file = new FileSink(saveTo, (error) => current?.abort(error));
      return file;
    };
  }
  // 'stream': the final response's body goes into a stream handed over as soon as its headers are in.
  let streaming: StreamSink | undefined;
  let headersIn: () => void = () => undefined;
  const headersArrived = new Promise<undefined>((resolve) => {
    headersIn = () => {
      resolve(undefined);
    };
  });
  if (job.responseType === 'stream') {
    limits.sinkFor = (status, headers) => {
      streaming = new StreamSink(status, headers, () => {
        cancellation.abort({ kind: 'cancel' });
      });
      headersIn();
      return streaming;
    };
  }
  const streamNow = (): StreamSink | undefined => streaming;
  /** Set once a stream was handed over: its body, timers and hop now end in the background. */
  let handedOver = false;
  const seed = job.payload?.cookies;
  let hop: Hop = {
    origin: job.origin,
    path: job.path,
    url: undefined,
    method: job.method,
    headers: job.headers,
    body: job.body,
  };
  /** URLs this dispatch followed redirects to (within the origin; another origin's hop is handed back). */
  const redirects: string[] = [];
  let cookies: CookieSession | undefined;
  try {
    cookies = seed === undefined ? undefined : await CookieSession.create(seed);
    for (;;) {
      phase = 'headers';
      if (headersTimeoutMs < job.timeoutMs)
        headersTimer = setTimeout(() => cancellation.abort(HEADERS_TIMEOUT), headersTimeoutMs);
      const hopEnded = dispatcher.trackHop(hop.origin);
      const href = cookies === undefined ? '' : (hop.url ?? new URL(hop.path, hop.origin)).href;
      const request = cookies === undefined ? hop : { ...hop, headers: cookies.headersFor(hop.headers, href) };
      const exchanged = exchange(dispatcher, request, limits, job.idempotent, attach, context.onStaleRetry);
      const ended = exchanged.then(
        (response) => {
          hopEnded();
          return response;
        },
        (error: unknown) => {
          hopEnded();
          throw error;
        },
      );
      const response = job.responseType === 'stream' ? await Promise.race([ended, headersArrived]) : await ended;
      // Set by sinkFor (a callback): read through a function, which TypeScript's narrowing does not see through.
      const stream = streamNow();
      if (response === undefined && stream !== undefined) {
        // The stream's headers are in: hand it over now; the body, the deadline and the hop go on behind it.
        handedOver = true;
        cookies?.absorb(href, stream.headers['set-cookie']);
        void ended
          .then(
            () => {
              stream.close();
            },
            (error: unknown) => {
              stream.fail(serializeError(toFlowpoolError(error)));
            },
          )
          .finally(() => {
            clearTimeout(totalTimer);
            clearTimeout(headersTimer);
          });
        const outcome: JobSuccess = {
          ok: true,
          status: stream.status,
          headers: stream.headers as Record<string, string | string[]>,
          body: stream.port,
          headersMs,
          bytes: 0,
        };
        const withCookies =
          cookies === undefined || cookies.seen.length === 0 ? outcome : { ...outcome, setCookies: cookies.seen };
        return redirects.length === 0 ? withCookies : { ...withCookies, redirects };
      }
      if (response === undefined) throw new Error('a stream response ended before its headers');
      cookies?.absorb(href, response.headers['set-cookie']);
      // onHeaders (a callback) moves the phase on; TypeScript's narrowing cannot see that, so read it fresh.
      if (phaseNow() === 'headers') {
        // A redirect (drained): onHeaders said so.
        if (redirects.length >= job.maxRedirects) {
          throw new FlowpoolError('FLOWPOOL_TOO_MANY_REDIRECTS', `more than ${job.jobMaxRedirects} redirects`);
        }
        hop = nextHop(hop, response.status, response.headers.location as string, policy);
        redirects.push(`${hop.origin}${hop.path}`);
        // Another origin: its cap, home worker and limits are the coordinator's. Hand the hop back.
        if (hop.origin !== job.origin) {
          // Without its URL object, which structured clone refuses.
          return {
            ok: 'redirect',
            next: { origin: hop.origin, path: hop.path, method: hop.method, headers: hop.headers, body: hop.body },
            redirects,
            ...(cookies === undefined || cookies.seen.length === 0 ? {} : { setCookies: cookies.seen }),
          };
        }
        continue;
      }
      const body = file === undefined ? decodeBody(response, job) : await file.finish();
      const headers = response.headers as Record<string, string | string[]>;
      const value =
        job.transform === undefined
          ? body
          : await context.transforms.apply(job.transform, body, { status: response.status, headers });
      const outcome: JobSuccess = {
        ok: true,
        status: response.status,
        headers,
        body: value,
        headersMs,
        bytes: response.bytes,
      };
      const withCookies =
        cookies === undefined || cookies.seen.length === 0 ? outcome : { ...outcome, setCookies: cookies.seen };
      return redirects.length === 0 ? withCookies : { ...withCookies, redirects };
    }
  } catch (error) {
    await file?.discard();
    if (error instanceof NoConnectionHere) return noConnection(hop, redirects, cookies, wasSent());
    return {
      ok: false,
      error: serializeError(tlsFailure(error, job.origin) ?? toFlowpoolError(error)),
      sent: wasSent(),
    };
  } finally {
    if (!handedOver) {
      clearTimeout(totalTimer);
      clearTimeout(headersTimer);
    }
  }
}

/** The hand-back of a hop this worker found no connection for: the job's own request, or a redirect hop. */
function noConnection(
  hop: Hop,
  redirects: readonly string[],
  cookies: CookieSession | undefined,
  sent: boolean,
): JobNoConnection {
  const seen = cookies === undefined || cookies.seen.length === 0 ? {} : { setCookies: cookies.seen };
  if (redirects.length === 0) return { ok: 'no-connection', sent, ...seen };
  return {
    ok: 'no-connection',
    // Without its URL object, which structured clone refuses.
    next: { origin: hop.origin, path: hop.path, method: hop.method, headers: hop.headers, body: hop.body },
    redirects,
    sent,
    ...seen,
  };
}

function proxyAuthRefused(proxy: string): FlowpoolError {
  return new FlowpoolError(
    'FLOWPOOL_CONNECTION_FAILED',
    `proxy ${proxy} refused the request with status 407: proxy authentication required or refused (check the proxy URL credentials)`,
    { causeCode: 'PROXY_AUTH_REQUIRED' },
  );
}

function hasHeader(headers: readonly string[], name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return true;
  return false;
}

function nextHop(hop: Hop, status: number, location: string, policy: DestinationPolicy): Hop {
  const base = hop.url ?? new URL(hop.path, hop.origin);
  if (!URL.canParse(location, base.href)) {
    throw new FlowpoolError('FLOWPOOL_BLOCKED_DESTINATION', 'redirect to an invalid URL', {
      reason: 'invalid redirect location',
    });
  }
  const url = new URL(location, base);
  const verdict = policy.checkUrl(url);
  if (!verdict.allowed) {
    throw new FlowpoolError('FLOWPOOL_BLOCKED_DESTINATION', `redirect blocked: ${verdict.reason ?? 'blocked'}`, {
      reason: verdict.reason ?? 'blocked',
    });
  }
  // 303 always, and 301/302 after POST (what every browser does), turn into a GET without a body.
  const toGet = status === 303 || ((status === 301 || status === 302) && hop.method === 'POST');
  const crossOrigin = url.origin !== hop.origin;
  const headers: string[] = [];
  for (let i = 0; i < hop.headers.length; i += 2) {
    const name = hop.headers[i] ?? '';
    if (crossOrigin && CREDENTIAL_HEADERS.has(name)) continue;
    if (toGet && BODY_HEADERS.has(name)) continue;
    headers.push(name, hop.headers[i + 1] ?? '');
  }
  return {
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    url,
    method: toGet && hop.method !== 'HEAD' ? 'GET' : hop.method,
    headers,
    body: toGet ? undefined : hop.body,
  };
}

/** The collected body as the job asked for it: text (decoded by its charset), parsed JSON or bytes. */
function decodeBody(response: HopResponse, job: JobRequest): unknown {
  const { chunks, bytes } = response;
  const buffer = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, bytes);
  if (job.responseType === 'bytes') return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const text = decodeText(buffer, response.headers['content-type']);
  if (job.responseType === 'text') return text;
  return parseJsonBody(text, buffer, response.status, response.headers as Record<string, string | string[]>);
}

/** The error a job stopped by its deadline or by its caller fails with. */
function stoppedError(
  cause: AbortCause,
  phase: TimeoutPhase,
  timeoutMs: number,
  headersTimeoutMs: number,
): FlowpoolError {
  if (cause.kind === 'cancel') return new FlowpoolError('FLOWPOOL_ABORTED', 'job was cancelled');
  const which = cause.which === 'headers' ? 'headersTimeoutMs' : 'timeoutMs';
  const ms = cause.which === 'headers' ? headersTimeoutMs : timeoutMs;
  return new FlowpoolError('FLOWPOOL_TIMEOUT', `${which} (${ms} ms) elapsed while waiting for the ${phase}`, {
    phase: cause.which === 'headers' ? 'headers' : phase,
  });
}

function toFlowpoolError(error: unknown): FlowpoolError {
  if (error instanceof FlowpoolError) return error;
  if (error instanceof ConnectGuardError) {
    if (error.code === 'FLOWPOOL_BLOCKED_DESTINATION') {
      return new FlowpoolError('FLOWPOOL_BLOCKED_DESTINATION', error.message, { reason: error.reason });
    }
    return new FlowpoolError('FLOWPOOL_CONNECTION_FAILED', error.message, { causeCode: error.code });
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error as { message?: unknown } | null)?.message;
  const text = typeof message === 'string' ? message : String(error);
  const causeCode = typeof code === 'string' ? code : undefined;
  const details = causeCode === undefined ? {} : { causeCode };
  switch (causeCode) {
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new FlowpoolError('FLOWPOOL_TIMEOUT', text, { ...details, phase: 'headers' });
    case 'UND_ERR_BODY_TIMEOUT':
      return new FlowpoolError('FLOWPOOL_TIMEOUT', text, { ...details, phase: 'body' });
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new FlowpoolError('FLOWPOOL_TIMEOUT', text, { ...details, phase: 'connect' });
    case 'UND_ERR_HEADERS_OVERFLOW':
      return new FlowpoolError(
        'FLOWPOOL_RESPONSE_TOO_LARGE',
        `response headers exceed maxHeaderBytes: ${text}`,
        details,
      );
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return new FlowpoolError('FLOWPOOL_RESPONSE_TOO_LARGE', text, details);
    default:
      return new FlowpoolError('FLOWPOOL_CONNECTION_FAILED', text, details);
  }
}
