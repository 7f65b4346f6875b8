/**
 * Reads one HTTP exchange through undici's dispatch API: an undici DispatchHandler that collects the
 * response body within the job's byte limit, decompressing gzip, deflate and brotli as it arrives.
 *
 * Why a handler and not `agent.request()`: request() wraps every body in a Readable stream, an
 * AsyncResource and a signal listener, which on small responses costs more CPU than the HTTP itself.
 * Here chunks go straight into an array (small ones gathered into blocks first, see coalescer.ts: a
 * server framing one byte per chunk must not cost a Buffer, or a zlib round trip, per byte).
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

/** A zlib decompression stream: `bytesWritten` counts the encoded bytes it consumed. */
type Decoder = Transform & Zlib;
import type { Dispatcher } from 'undici';
import { FlowpoolError } from '../../errors/flowpool-error.js';
import { Coalescer } from './coalescer.js';
import type { BodySink } from './body-sink.js';
import { pauseIsSafe } from './body-backpressure.js';

export interface HopResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The decoded body, or empty when the response was drained instead (see `onHeaders`). */
  readonly chunks: readonly Buffer[];
  /** Bytes of decoded body received. */
  readonly bytes: number;
}

export interface ReadLimits {
  readonly maxResponseBytes: number;
  /** false: keep the body as sent (the job asked for `decompress: false`). @default true */
  readonly decode?: boolean;
  /**
   * Called when the final response headers arrive (1xx interim responses are skipped). Returns true
   * for a response whose body is not wanted (a redirect that will be followed): it is drained, up to
   * {@link DRAIN_LIMIT_BYTES}, so the socket can be reused, and never decoded or kept.
   */
  onHeaders(status: number, headers: IncomingHttpHeaders): boolean;
  /** Asked first when the final response headers arrive: an error fails the hop there, its body unread. */
  refuse?(status: number): FlowpoolError | undefined;
  /** Where a wanted body goes instead of memory (saveTo, stream); asked once its headers are accepted. */
  sinkFor?(status: number, headers: IncomingHttpHeaders): BodySink | undefined;
}

/** A drained body larger than this is not worth reading to save its socket: the socket is dropped. */
const DRAIN_LIMIT_BYTES = 65_536;
/** Compressed bytes accepted beyond maxResponseBytes: room for headers, trailers and block framing. */
const ENCODED_SLACK_BYTES = 65_536;
/** Small body chunks are gathered into blocks of this size (see coalescer.ts). */
const BLOCK_BYTES = 65_536;

type Encoding = 'gzip' | 'deflate' | 'br';

export class ResponseReader implements Dispatcher.DispatchHandler {
  /** Settles once: with the whole response, or with the first failure. */
  readonly done: Promise<HopResponse>;
  /** The response's first byte has arrived (onResponseStarted): a failure from here on is not a refused or stale connection. */
  started = false;
  /**
   * undici began writing the request to a socket: it calls onRequestStart right before writing, and writes
   * nothing when the handler aborts there. False means no byte of this request reached the network.
   */
  requestSent = false;
  readonly #limits: ReadLimits;
  #controller: Dispatcher.DispatchController | undefined;
  /** Set by abort() before undici handed us a controller: applied as soon as it does. */
  #pendingAbort: Error | undefined;
  #settled = false;
  #resolve!: (response: HopResponse) => void;
  #reject!: (error: unknown) => void;
  #status = 0;
  #headers: IncomingHttpHeaders = {};
  #chunks: Buffer[] = [];
  /** Decoded body bytes. */
  #bytes = 0;
  #draining = false;
  #encoding: Encoding | undefined;
  /** Created on the first body byte, so a bodiless response (HEAD, 204, 304) never meets zlib. */
  #decoder: Decoder | undefined;
  /** Encoded body bytes received; more than the decoder consumed when its stream ends are bytes after it. */
  #encodedBytes = 0;
  /** Body bytes as they arrive, gathered into blocks: kept (identity) or fed to the decoder. */
  readonly #incoming = new Coalescer(BLOCK_BYTES, (block) => this.#accept(block));
  #messageEnded = false;
  #decoderEnded = false;
  #sink: BodySink | undefined;
  #paused = false;

  constructor(limits: ReadLimits) {
    this.#limits = limits;
    this.done = new Promise<HopResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /**
   * Fails the exchange with `reason` at once. undici learns of it now if the request is on a socket
   * (and destroys that socket if the response is unfinished), or as soon as it gets one.
   */
  abort(reason: Error): void {
    if (this.#settled) return;
    this.#fail(reason);
    if (this.#controller !== undefined) this.#controller.abort(reason);
    else this.#pendingAbort = reason;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#pendingAbort !== undefined) controller.abort(this.#pendingAbort);
    else this.requestSent = true;
  }

  /** undici: the first byte of the response has arrived. */
  onResponseStarted(): void {
    this.started = true;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    // 1xx interim responses (100 Continue, 103 Early Hints): the real one follows.
    if (this.#settled || statusCode < 200) return;
    this.#status = statusCode;
    this.#headers = headers;
    const refused = this.#limits.refuse?.(statusCode);
    if (refused !== undefined) {
      this.#refuse(refused);
      return;
    }
    if (this.#limits.onHeaders(statusCode, headers)) {
      this.#draining = true;
      return;
    }
    this.#encoding = this.#limits.decode === false ? undefined : encodingOf(headers['content-encoding']);
    const declared = Number(headers['content-length']);
    const wireLimit = this.#limits.maxResponseBytes + (this.#encoding === undefined ? 0 : ENCODED_SLACK_BYTES);
    if (Number.isFinite(declared) && declared > wireLimit) {
      this.#refuse(tooLarge(this.#limits.maxResponseBytes));
      return;
    }
    // Only for a body that is wanted and not refused already (a stream's result is handed over from here).
    this.#sink = this.#limits.sinkFor?.(statusCode, headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    if (this.#draining) {
      this.#bytes += chunk.length;
      if (this.#bytes > DRAIN_LIMIT_BYTES) {
        // Not worth reading: the hop is done, its socket goes (the abort destroys it, unfinished).
        this.#succeed();
        controller.abort(new FlowpoolError('FLOWPOOL_ABORTED', 'redirect body dropped'));
      }
      return;
    }
    if (this.#encoding === undefined) {
      // Counted as it arrives, so a refusal does not wait for a block to fill.
      this.#bytes += chunk.length;
      if (this.#bytes > this.#limits.maxResponseBytes) {
        this.#refuse(tooLarge(this.#limits.maxResponseBytes));
        return;
      }
    } else {
      this.#encodedBytes += chunk.length;
      if (this.#encodedBytes > this.#limits.maxResponseBytes + ENCODED_SLACK_BYTES) {
        this.#refuse(tooLarge(this.#limits.maxResponseBytes));
        return;
      }
    }
    this.#incoming.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#messageEnded = true;
    this.#incoming.flush();
    // flush() may have settled the exchange (a refused block), which TypeScript cannot see through the call.
    if (this.#isSettled()) return;
    const decoder = this.#decoder;
    if (decoder === undefined || this.#decoderEnded) {
      this.#succeed();
      return;
    }
    decoder.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#fail(error);
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
    this.#bytes += chunk.length;
    if (this.#bytes > this.#limits.maxResponseBytes) {
      this.#refuse(tooLarge(this.#limits.maxResponseBytes));
      return;
    }
    this.#keep(chunk);
  }

  /** Decoded bytes, counted already: into memory, or into the sink (pausing the response while it is full). */
  #keep(chunk: Buffer): void {
    const sink = this.#sink;
    if (sink === undefined) {
      this.#chunks.push(chunk);
      return;
    }
    if (sink.write(chunk) || this.#paused) return;
    const controller = this.#controller;
    const wire = this.#encoding === undefined ? this.#bytes : this.#encodedBytes;
    if (controller === undefined || this.#messageEnded || !pauseIsSafe(this.#headers, wire)) return;
    this.#paused = true;
    controller.pause();
    sink.onDrain(() => {
      this.#paused = false;
      if (!this.#settled) controller.resume();
    });
  }

  /** Fails the exchange and aborts it in undici, which drops the socket of an unfinished response. */
  #refuse(error: Error): void {
    if (this.#settled) return;
    this.#fail(error);
    this.#controller?.abort(error);
  }

  #isSettled(): boolean {
    return this.#settled;
  }

  #succeed(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve({
      status: this.#status,
      headers: this.#headers,
      chunks: this.#draining ? [] : this.#chunks,
      bytes: this.#bytes,
    });
  }

  #fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#chunks = [];
    this.#decoder?.destroy();
    this.#reject(error);
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
