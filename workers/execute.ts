/**
 * One job in the worker: the request, every redirect hop (each checked by the policy), the size limit
 * on the bytes the caller would receive, the exact deadline, body decoding, and a plain-data outcome.
 * Never throws: every failure becomes `{ ok: false, error: { code, name, message } }`.
 */
import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Client, Dispatcher } from 'undici';
import { FlowpoolError, serializeError, type TimeoutPhase } from '../src/errors.js';
import type { DestinationPolicy } from '../src/policy/index.js';
import type { JobOutcome, JobRequest, JobSuccess } from '../src/protocol.js';
import { ConnectGuardError, type WorkerDispatcher } from './agent.js';
import { destroySocketOf, requestTagged } from './request-sockets.js';
import type { TransformRegistry } from './transforms.js';

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** Headers that must not follow a redirect to another origin: they carry the caller's identity. */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'proxy-authorization']);
/** Body-describing headers dropped when a redirect turns the request into a bodiless GET. */
const BODY_HEADERS: ReadonlySet<string> = new Set(['content-type', 'content-encoding', 'content-language', 'content-location']);

/** Why a job's AbortController fired. */
export type AbortCause = { readonly kind: 'cancel' } | { readonly kind: 'timeout'; readonly which: 'total' | 'headers' };

interface Hop {
  readonly origin: string;
  readonly path: string;
  /** Parsed only once a redirect needs it: the first hop travels as origin + path. */
  readonly url: URL | undefined;
  readonly method: string;
  readonly headers: readonly string[];
  readonly body: string | Uint8Array | undefined;
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
 * Sends one hop. An idempotent request that dies on a closed socket before any response byte is sent
 * once more (undici has dropped that socket by then, so it goes on another); anything else, and a
 * second failure, is the job's error. POST is never resent: the server may have acted on it.
 */
async function requestOnce(
  dispatcher: WorkerDispatcher,
  hop: Hop,
  signal: AbortSignal,
  idempotent: boolean,
  onStaleRetry: () => void,
  tag: object,
): Promise<Dispatcher.ResponseData> {
  const options: Dispatcher.RequestOptions = {
    origin: hop.origin,
    path: hop.path,
    method: hop.method as Dispatcher.HttpMethod,
    headers: hop.headers as string[],
    body: hop.body ?? null,
    signal,
  };
  let resent = false;
  let fresh: Client | undefined;
  for (;;) {
    try {
      const response = await requestTagged(fresh ?? dispatcher.agent, options, tag);
      // Closes once this one response has been read (or destroyed).
      if (fresh !== undefined) void fresh.close().catch(() => {});
      return response;
    } catch (error) {
      if (fresh !== undefined) void fresh.destroy().catch(() => {});
      fresh = undefined;
      if (signal.aborted) throw error;
      // Refused by the connection cap before anything was sent: always safe to send again. Loops at
      // most until the job's deadline aborts the signal; each turn waits CAP_WAIT_MS in the connector.
      if (error instanceof ConnectGuardError && error.code === 'FLOWPOOL_CONNECTION_CAP') continue;
      const code = (error as { code?: unknown } | null)?.code;
      if (resent || !idempotent || typeof code !== 'string' || !STALE_SOCKET_CODES.has(code)) throw error;
      resent = true;
      onStaleRetry();
      // On a new socket: another kept-alive socket of the pool may be just as stale.
      fresh = dispatcher.freshClient(hop.origin);
    }
  }
}

export async function executeJob(job: JobRequest, context: ExecuteContext, controller: AbortController): Promise<JobOutcome> {
  const { dispatcher, policy, headersTimeoutMs } = context;
  const started = performance.now();
  let phase: TimeoutPhase = 'headers';
  const totalTimer = setTimeout(() => controller.abort({ kind: 'timeout', which: 'total' } satisfies AbortCause), job.timeoutMs);
  let headersTimer: NodeJS.Timeout | undefined;
  try {
    const redirects: string[] = [];
    let hop: Hop = { origin: job.origin, path: job.path, url: undefined, method: job.method, headers: job.headers, body: job.body };
    for (;;) {
      phase = 'headers';
      if (headersTimeoutMs < job.timeoutMs) {
        headersTimer = setTimeout(() => controller.abort({ kind: 'timeout', which: 'headers' } satisfies AbortCause), headersTimeoutMs);
      }
      const tag = {};
      const hopEnded = dispatcher.trackHop(hop.origin);
      let response: Dispatcher.ResponseData;
      try {
        response = await requestOnce(dispatcher, hop, controller.signal, job.idempotent, context.onStaleRetry, tag);
      } finally {
        hopEnded();
      }
      clearTimeout(headersTimer);
      headersTimer = undefined;
      const headersMs = performance.now() - started;
      const location = response.headers.location;
      if (job.followRedirects && REDIRECT_STATUSES.has(response.statusCode) && typeof location === 'string') {
        // Drain (bounded) so the socket goes back to the pool; a huge redirect body is simply destroyed.
        await discard(response.body);
        if (redirects.length >= job.maxRedirects) {
          throw new FlowpoolError('FLOWPOOL_TOO_MANY_REDIRECTS', `more than ${job.maxRedirects} redirects`);
        }
        hop = nextHop(hop, response.statusCode, location, policy);
        redirects.push(`${hop.origin}${hop.path}`);
        continue;
      }
      phase = 'body';
      const read = await readBody(response, job, tag);
      const headers = flattenHeaders(response.headers);
      const body = job.transform === undefined ? read.body : await context.transforms.apply(job.transform, read.body, { status: response.statusCode, headers });
      const outcome: JobSuccess = { ok: true, status: response.statusCode, headers, body, headersMs, bytes: read.bytes };
      return redirects.length === 0 ? outcome : { ...outcome, redirects };
    }
  } catch (error) {
    return { ok: false, error: serializeError(toFlowpoolError(error, controller.signal, phase, job.timeoutMs, headersTimeoutMs)) };
  } finally {
    clearTimeout(totalTimer);
    clearTimeout(headersTimer);
  }
}

function nextHop(hop: Hop, status: number, location: string, policy: DestinationPolicy): Hop {
  const base = hop.url ?? new URL(hop.path, hop.origin);
  if (!URL.canParse(location, base.href)) {
    throw new FlowpoolError('FLOWPOOL_BLOCKED_DESTINATION', 'redirect to an invalid URL', { reason: 'invalid redirect location' });
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

/** Reads the body within the byte limit, decompressing gzip, deflate and brotli as it streams. */
async function readBody(response: Dispatcher.ResponseData, job: JobRequest, tag: object): Promise<{ body: unknown; bytes: number }> {
  const limit = job.maxResponseBytes;
  const declared = Number(response.headers['content-length']);
  const encoding = String(response.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder = createDecoder(encoding);
  if (decoder === undefined && Number.isFinite(declared) && declared > limit) {
    discardOversized(response.body, tag);
    throw tooLarge(limit);
  }
  const source: Readable = decoder === undefined ? response.body : pipeline(response.body, decoder, () => {});
  // 'data' events rather than an async iterator: one fewer promise per chunk on the hot path.
  const { chunks, bytes } = await collect(source, limit, () => discardOversized(response.body, tag));
  const buffer = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, bytes);
  if (job.responseType === 'bytes') return { body: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), bytes };
  const text = buffer.toString('utf8');
  if (job.responseType === 'text') return { body: text, bytes };
  if (text.length === 0) return { body: null, bytes };
  try {
    return { body: JSON.parse(text) as unknown, bytes };
  } catch (error) {
    // run() resolves for every status: an error page that is not JSON (a 404 in HTML) comes back as
    // its text. Only a success status that promised JSON and broke it is an invalid response.
    if (response.statusCode < 200 || response.statusCode > 299) return { body: text, bytes };
    throw new FlowpoolError('FLOWPOOL_INVALID_RESPONSE', `response is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Drops an oversized body. Its socket never goes back to the pool: if undici already parsed the whole
 * message (a small body just over the limit), the body stream is finished and destroying it would not
 * close the socket, so the socket that carried this request is destroyed explicitly.
 */
function discardOversized(body: Readable, tag: object): void {
  // A finished undici body emits UND_ERR_ABORTED when destroyed: unheard, it would kill the worker.
  body.on('error', () => {});
  body.destroy();
  destroySocketOf(tag);
}

/** Collects a stream's chunks, failing with RESPONSE_TOO_LARGE (and destroying it) past `limit` bytes. */
function collect(source: Readable, limit: number, destroyRaw: () => void): Promise<{ chunks: Buffer[]; bytes: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    source.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limit) {
        source.destroy();
        destroyRaw();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    source.once('end', () => {
      ended = true;
      resolve({ chunks, bytes });
    });
    source.once('error', reject);
    // Built only when needed: an Error captures a stack, and 'close' follows every normal 'end'.
    source.once('close', () => {
      if (!ended) reject(new FlowpoolError('FLOWPOOL_CONNECTION_FAILED', 'response body closed before it ended'));
    });
  });
}

function createDecoder(encoding: string) {
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return undefined;
  }
}

function tooLarge(limit: number): FlowpoolError {
  return new FlowpoolError('FLOWPOOL_RESPONSE_TOO_LARGE', `response body exceeds maxResponseBytes (${limit} bytes)`);
}

/** Consumes a body we do not need, so the connection can be reused; gives up past 64 KiB. */
async function discard(body: Readable): Promise<void> {
  let seen = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (seen > 65_536) {
      body.on('error', () => {});
      body.destroy();
      return;
    }
  }
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
}

function toFlowpoolError(error: unknown, signal: AbortSignal, phase: TimeoutPhase, timeoutMs: number, headersTimeoutMs: number): FlowpoolError {
  if (error instanceof FlowpoolError) return error;
  if (signal.aborted) {
    const cause = signal.reason as AbortCause | undefined;
    if (cause?.kind === 'timeout') {
      const which = cause.which === 'headers' ? 'headersTimeoutMs' : 'timeoutMs';
      const ms = cause.which === 'headers' ? headersTimeoutMs : timeoutMs;
      return new FlowpoolError('FLOWPOOL_TIMEOUT', `${which} (${ms} ms) elapsed while waiting for the ${phase}`, {
        phase: cause.which === 'headers' ? 'headers' : phase,
      });
    }
    return new FlowpoolError('FLOWPOOL_ABORTED', 'job was cancelled');
  }
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
      return new FlowpoolError('FLOWPOOL_RESPONSE_TOO_LARGE', `response headers exceed maxHeaderBytes: ${text}`, details);
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return new FlowpoolError('FLOWPOOL_RESPONSE_TOO_LARGE', text, details);
    case 'Z_DATA_ERROR':
    case 'Z_BUF_ERROR':
    case 'ERR_BROTLI_DECOMPRESSION_FAILED':
    case 'ERR__ERROR_FORMAT_PADDING_1':
      return new FlowpoolError('FLOWPOOL_INVALID_RESPONSE', `response body could not be decompressed: ${text}`, details);
    default:
      return new FlowpoolError('FLOWPOOL_CONNECTION_FAILED', text, details);
  }
}
