/**
 * Reads one HTTP exchange through undici's dispatch API: an undici DispatchHandler that collects the
 * response body within the job's byte limit, decompressing gzip, deflate and brotli as it arrives.
 *
 * Why a handler and not `agent.request()`: request() wraps every body in a Readable stream, an
 * AsyncResource and a signal listener, which on small responses costs more CPU than the HTTP itself.
 * Here chunks go straight into an array (small ones gathered into blocks first, see coalescer.ts: a
 * server framing one byte per chunk must not cost a Buffer, or a zlib round trip, per byte). It speaks
 * undici's older handler interface (`onConnect`, `onHeaders`, `onData`, `onComplete`, `onError`): a handler
 * of the newer one (`onRequestStart`, ...) is wrapped by undici in an UnwrapHandler that parses every
 * response's headers into an object. No promise either: the reader reports to its owner by direct calls.
 *
 * Sockets: a request aborted before undici has completed its message has its socket destroyed by
 * undici, so a body refused while it is still arriving (too large, cancelled, timed out) never leaves
 * its socket half-read in the pool. A compressed body may be refused after the message completed
 * (its decoded size or its validity is known only once zlib has run): that socket has carried a whole
 * message and is clean to reuse.
 *
 * A body gathered in memory is never paused: undici 7 asserts that its parser is not paused when a
 * `Connection: close` response's socket ends (nodejs/undici#5360), which would throw from a socket
 * event and kill the worker. Instead, the compressed bytes accepted are capped too: decoded output
 * can only be smaller than its encoding by the format's framing, so a compressed body larger than
 * the limit (plus slack for framing) cannot decode to one within it, and zlib's input queue stays
 * bounded by the same limit. A body written to a sink (a file, a stream) is paused while the sink is
 * full, only when that is safe (see body-backpressure.ts).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { createBrotliDecompress, createGunzip, createInflate, type Zlib } from 'node:zlib';
import type { Transform } from 'node:stream';
import { FlowpoolError } from '../../errors/flowpool-error.js';
import { Coalescer } from './coalescer.js';
import type { BodySink } from './body-sink.js';
import { pauseIsSafe } from './body-backpressure.js';
import { ResponseHeaders } from './response-headers.js';

/** A zlib decompression stream: `bytesWritten` counts the encoded bytes it consumed. */
type Decoder = Transform & Zlib;

/** Who reads through a ResponseReader: the limits it applies and where it reports (one job's execution). */
export interface ReaderOwner {
  readonly maxResponseBytes: number;
  /** false: keep the body as sent (the job asked for `decompress: false`). */
  readonly decode: boolean;
  /**
   * Called when the final response headers arrive (1xx interim responses are skipped). Returns true
   * for a response whose body is not wanted (a redirect that will be followed): it is drained, up to
   * {@link DRAIN_LIMIT_BYTES}, so the socket can be reused, and never decoded or kept.
   */
  onReaderHeaders(reader: ResponseReader): boolean;
  /** Asked first when the final response headers arrive: an error fails the hop there, its body unread. */
  refuse(status: number): FlowpoolError | undefined;
  /** Where a wanted body goes instead of memory (saveTo, stream); asked once its headers are accepted. */
  sinkFor(reader: ResponseReader): BodySink | undefined;
  /** The exchange ended well: `reader.status`, `headers`, `chunks` and `bytes` hold the response. */
  onReaderDone(reader: ResponseReader): void;
  /** The exchange failed (once, and never after onReaderDone). */
  onReaderFailed(reader: ResponseReader, error: unknown): void;
}

/** undici's abort function for one request (old handler interface). */
type Abort = (reason?: Error) => void;

/** A drained body larger than this is not worth reading to save its socket: the socket is dropped. */
const DRAIN_LIMIT_BYTES = 65_536;
/** Compressed bytes accepted beyond maxResponseBytes: room for headers, trailers and block framing. */
const ENCODED_SLACK_BYTES = 65_536;
/** Small body chunks are gathered into blocks of this size (see coalescer.ts). */
const BLOCK_BYTES = 65_536;

type Encoding = 'gzip' | 'deflate' | 'br';

export class ResponseReader {
  /** The response's first byte has arrived (onResponseStarted): a failure from here on is not a refused or stale connection. */
  started = false;
  /**
   * undici began writing the request to a socket: it calls onConnect right before writing, and writes
   * nothing when the handler aborts there. False means no byte of this request reached the network.
   */
  requestSent = false;
  status = 0;
  headers: ResponseHeaders | undefined;
  /** The decoded body, or empty when the response was drained instead. */
  chunks: Buffer[] = [];
  /** Bytes of decoded body received. */
  bytes = 0;
  readonly #owner: ReaderOwner;
  #abort: Abort | undefined;
  #resume: (() => void) | undefined;
  /** Set by abort() before undici handed us its abort function: applied as soon as it does. */
  #pendingAbort: Error | undefined;
  #settled = false;
  #draining = false;
  #encoding: Encoding | undefined;
  /** Created on the first body byte, so a bodiless response (HEAD, 204, 304) never meets zlib. */
  #decoder: Decoder | undefined;
  /** Encoded body bytes received; more than the decoder consumed when its stream ends are bytes after it. */
  #encodedBytes = 0;
  /** Body bytes as they arrive, gathered into blocks: kept (identity) or fed to the decoder. Made on first use. */
  #incoming: Coalescer | undefined;
  #messageEnded = false;
  #decoderEnded = false;
  #sink: BodySink | undefined;
  #paused = false;

  constructor(owner: ReaderOwner) {
    this.#owner = owner;
  }

  get settled(): boolean {
    return this.#settled;
  }

  /**
   * Fails the exchange with `reason` at once. undici learns of it now if the request is on a socket
   * (and destroys that socket if the response is unfinished), or as soon as it gets one.
   */
  abort(reason: Error): void {
    if (this.#settled) return;
    this.#fail(reason);
    if (this.#abort !== undefined) this.#abort(reason);
    else this.#pendingAbort = reason;
  }

  onConnect(abort: Abort): void {
    this.#abort = abort;
    if (this.#pendingAbort !== undefined) abort(this.#pendingAbort);
    else this.requestSent = true;
  }

  /** undici: the first byte of the response has arrived. */
  onResponseStarted(): void {
    this.started = true;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx interim responses (100 Continue, 103 Early Hints): the real one follows.
    if (this.#settled || statusCode < 200) return true;
    this.#resume = resume;
    this.status = statusCode;
    const headers = new ResponseHeaders(rawHeaders);
    this.headers = headers;
    const owner = this.#owner;
    const refused = owner.refuse(statusCode);
    if (refused !== undefined) {
      this.#refuse(refused);
      return true;
    }
    if (owner.onReaderHeaders(this)) {
      this.#draining = true;
      return true;
    }
    this.#encoding = owner.decode ? encodingOf(headers.get('content-encoding')) : undefined;
    const declared = Number(headers.get('content-length'));
    const wireLimit = owner.maxResponseBytes + (this.#encoding === undefined ? 0 : ENCODED_SLACK_BYTES);
    if (Number.isFinite(declared) && declared > wireLimit) {
      this.#refuse(tooLarge(owner.maxResponseBytes));
      return true;
    }
    // Only for a body that is wanted and not refused already (a stream's result is handed over from here).
    this.#sink = owner.sinkFor(this);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#settled) return true;
    if (this.#draining) {
      this.bytes += chunk.length;
      if (this.bytes > DRAIN_LIMIT_BYTES) {
        // Not worth reading: the hop is done, its socket goes (the abort destroys it, unfinished).
        this.#succeed();
        this.#abort?.(new FlowpoolError('FLOWPOOL_ABORTED', 'redirect body dropped'));
      }
      return true;
    }
    const limit = this.#owner.maxResponseBytes;
    if (this.#encoding === undefined) {
      // Counted as it arrives, so a refusal does not wait for a block to fill.
      this.bytes += chunk.length;
      if (this.bytes > limit) {
        this.#refuse(tooLarge(limit));
        return true;
      }
      // The usual small body in one piece: kept as it is, no coalescer.
      if (this.#incoming === undefined && this.#sink === undefined && this.chunks.length === 0) {
        this.chunks.push(chunk);
        return true;
      }
    } else {
      this.#encodedBytes += chunk.length;
      if (this.#encodedBytes > limit + ENCODED_SLACK_BYTES) {
        this.#refuse(tooLarge(limit));
        return true;
      }
    }
    this.#coalescer().push(chunk);
    return !this.#paused;
  }

  onComplete(): void {
    if (this.#settled) return;
    this.#messageEnded = true;
    this.#incoming?.flush();
    // flush() may have settled the exchange (a refused block), which TypeScript cannot see through the call.
    if (this.#isSettled()) return;
    const decoder = this.#decoder;
    if (decoder === undefined || this.#decoderEnded) {
      this.#succeed();
      return;
    }
    decoder.end();
  }

  onError(error: Error): void {
    this.#fail(error);
  }

  #coalescer(): Coalescer {
    if (this.#incoming !== undefined) return this.#incoming;
    const incoming = new Coalescer(BLOCK_BYTES, (block) => this.#accept(block));
    this.#incoming = incoming;
    // A first chunk kept as it is (above) goes through the coalescer from now on, in order.
    const first = this.chunks;
    if (first.length > 0 && this.#encoding === undefined) {
      this.chunks = [];
      for (const chunk of first) incoming.push(chunk);
    }
    return incoming;
  }

  #decoderFor(encoding: Encoding): Decoder {
    if (this.#decoder !== undefined) return this.#decoder;
    const decoder = createDecoder(encoding);
    this.#decoder = decoder;
    decoder.on('data', (chunk: Buffer) => this.#take(chunk));
    decoder.once('end', () => {
      this.#decoderEnded = true;
      // inflate and brotli stop at the end of their stream and drop what follows; gzip reads it as a next
      // member and fails on anything but zero padding, which it skips (so gzip is not checked here).
      // Received but not consumed: given to the decoder after its end, or still gathering for it.
      const unread = this.#encodedBytes - decoder.bytesWritten;
      if (encoding !== 'gzip' && unread > 0) {
        this.#refuse(bytesAfterStream(unread, encoding));
        return;
      }
      if (this.#messageEnded) this.#succeed();
    });
    decoder.once('error', (error: Error & { code?: string }) => {
      const detail = error.code === undefined ? {} : { causeCode: error.code };
      this.#refuse(
        new FlowpoolError(
          'FLOWPOOL_INVALID_RESPONSE',
          `response body could not be decompressed: ${error.message}`,
          detail,
        ),
      );
    });
    return decoder;
  }

  /** A block of body bytes: kept as it is (identity, already counted), or decoded. */
  #accept(block: Buffer): void {
    if (this.#settled) return;
    const encoding = this.#encoding;
    if (encoding === undefined) this.#keep(block);
    else if (!this.#decoderEnded) this.#decoderFor(encoding).write(block);
    else if (encoding !== 'gzip' || !isZeroPadding(block)) {
      // The stream has ended and more arrives: a body is one stream, so it is corrupt (or something
      // smuggled behind it); only gzip's zero padding is allowed, as Node allows it inside a block.
      this.#refuse(bytesAfterStream(block.length, encoding));
    }
  }

  /** Counts decoded bytes; past the limit the exchange fails (and an unfinished one loses its socket). */
  #take(chunk: Buffer): void {
    if (this.#settled) return;
    this.bytes += chunk.length;
    if (this.bytes > this.#owner.maxResponseBytes) {
      this.#refuse(tooLarge(this.#owner.maxResponseBytes));
      return;
    }
    this.#keep(chunk);
  }

  /** Decoded bytes, counted already: into memory, or into the sink (pausing the response while it is full). */
  #keep(chunk: Buffer): void {
    const sink = this.#sink;
    if (sink === undefined) {
      this.chunks.push(chunk);
      return;
    }
    if (sink.write(chunk) || this.#paused) return;
    const resume = this.#resume;
    const wire = this.#encoding === undefined ? this.bytes : this.#encodedBytes;
    if (resume === undefined || this.#messageEnded || !pauseIsSafe(this.#headerObject(), wire)) return;
    // Takes effect when onData returns (undici's older interface pauses by that return value).
    this.#paused = true;
    sink.onDrain(() => {
      this.#paused = false;
      if (!this.#settled) resume();
    });
  }

  #headerObject(): IncomingHttpHeaders {
    return this.headers?.toObject() ?? {};
  }

  /** Fails the exchange and aborts it in undici, which drops the socket of an unfinished response. */
  #refuse(error: Error): void {
    if (this.#settled) return;
    this.#fail(error);
    this.#abort?.(error);
  }

  #isSettled(): boolean {
    return this.#settled;
  }

  #succeed(): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#draining) this.chunks = [];
    this.#owner.onReaderDone(this);
  }

  #fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.chunks = [];
    this.#decoder?.destroy();
    this.#owner.onReaderFailed(this, error);
  }
}

/** The one coding we decode, or undefined: identity, and anything else, is passed through as bytes. */
function encodingOf(header: string | string[] | undefined): Encoding | undefined {
  if (header === undefined) return undefined;
  switch (String(header).trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return 'gzip';
    case 'deflate':
      return 'deflate';
    case 'br':
      return 'br';
    default:
      return undefined;
  }
}

function createDecoder(encoding: Encoding): Decoder {
  switch (encoding) {
    case 'gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
  }
}

function bytesAfterStream(count: number, encoding: Encoding): FlowpoolError {
  return new FlowpoolError(
    'FLOWPOOL_INVALID_RESPONSE',
    `response body has ${count} bytes after the end of its ${encoding} stream`,
  );
}

function isZeroPadding(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

export function tooLarge(limit: number): FlowpoolError {
  return new FlowpoolError('FLOWPOOL_RESPONSE_TOO_LARGE', `response body exceeds maxResponseBytes (${limit} bytes)`);
}
