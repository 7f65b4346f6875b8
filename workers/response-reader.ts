/**
 * Reads one HTTP exchange through undici's dispatch API: an undici DispatchHandler that collects the
 * response body within the job's byte limit, decompressing gzip, deflate and brotli as it arrives.
 *
 * Why a handler and not `agent.request()`: request() wraps every body in a Readable stream, an
 * AsyncResource and a signal listener, which on small responses costs more CPU than the HTTP itself.
 * Here chunks go straight into an array. It also settles the "whose socket was that?" question: a
 * request aborted before undici has completed it has its socket destroyed by undici, so every refusal
 * below (too large, decode error, cancelled) happens before completion and the socket is never reused.
 * For that reason compressed chunks are decoded one at a time with the response paused: the byte
 * limit is checked on the decoded output before undici may read (and complete) any more of the message.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { createBrotliDecompress, createGunzip, createInflate, type Gunzip } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { FlowpoolError } from '../src/errors.js';

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
  /**
   * Called when the response headers arrive. Returns true for a response whose body is not wanted (a
   * redirect that will be followed): it is drained, up to {@link DRAIN_LIMIT_BYTES}, so the socket can
   * be reused, and never decoded or kept.
   */
  onHeaders(status: number, headers: IncomingHttpHeaders): boolean;
}

/** A drained body larger than this is not worth reading to save its socket: the socket is dropped. */
const DRAIN_LIMIT_BYTES = 65_536;

type Decoder = Gunzip;

export class ResponseReader implements Dispatcher.DispatchHandler {
  /** Settles once: with the whole response, or with the first failure. */
  readonly done: Promise<HopResponse>;
  /** Response headers have arrived: a failure from here on is not a refused or stale connection. */
  started = false;
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
  #bytes = 0;
  #draining = false;
  #decoder: Decoder | undefined;

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
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (this.#settled) return;
    this.started = true;
    this.#status = statusCode;
    this.#headers = headers;
    if (this.#limits.onHeaders(statusCode, headers)) {
      this.#draining = true;
      return;
    }
    const decoder = createDecoder(headers['content-encoding']);
    if (decoder === undefined) {
      const declared = Number(headers['content-length']);
      if (Number.isFinite(declared) && declared > this.#limits.maxResponseBytes) this.#refuse(controller, tooLarge(this.#limits.maxResponseBytes));
      return;
    }
    this.#decoder = decoder;
    decoder.on('data', (chunk: Buffer) => this.#take(chunk));
    decoder.once('error', (error: Error) => this.#refuse(controller, error));
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
    const decoder = this.#decoder;
    if (decoder === undefined) {
      this.#take(chunk);
      return;
    }
    // One compressed chunk at a time: undici reads nothing more (and cannot finish the message) until
    // its decoded output has been counted against the limit.
    controller.pause();
    decoder.write(chunk, () => {
      if (!this.#settled) controller.resume();
    });
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    const decoder = this.#decoder;
    if (decoder === undefined) return this.#succeed();
    decoder.once('end', () => this.#succeed());
    decoder.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#fail(error);
  }

  /** Counts decoded bytes; past the limit the exchange fails and its socket is dropped. */
  #take(chunk: Buffer): void {
    if (this.#settled) return;
    this.#bytes += chunk.length;
    if (this.#bytes > this.#limits.maxResponseBytes) {
      this.#refuse(this.#controller, tooLarge(this.#limits.maxResponseBytes));
      return;
    }
    this.#chunks.push(chunk);
  }

  /** Fails the exchange and aborts it in undici, which drops the socket of an unfinished response. */
  #refuse(controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.#settled) return;
    this.#fail(error);
    controller?.abort(error);
  }

  #succeed(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve({ status: this.#status, headers: this.#headers, chunks: this.#draining ? [] : this.#chunks, bytes: this.#bytes });
  }

  #fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#chunks = [];
    this.#decoder?.destroy();
    this.#reject(error);
  }
}

function createDecoder(header: string | string[] | undefined): Decoder | undefined {
  if (header === undefined) return undefined;
  switch (String(header).trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress() as unknown as Decoder;
    default:
      return undefined;
  }
}

export function tooLarge(limit: number): FlowpoolError {
  return new FlowpoolError('FLOWPOOL_RESPONSE_TOO_LARGE', `response body exceeds maxResponseBytes (${limit} bytes)`);
}
