/**
 * A stream of bytes between two threads on a MessagePort of its own (a streamed upload going to its
 * worker, a `responseType: 'stream'` body coming back), with credit-based backpressure.
 *
 * Why not Node's transferable web streams: they keep one chunk in flight (a round trip between the
 * threads per chunk), pass chunks of whatever size the producer makes
 * (one message per socket read), clone each one (structured clone's serializer is slower than the
 * socket: it was the worker's largest cost), and a read never settles when the other thread dies.
 *
 * Here the sender gathers bytes into buffers of its own and transfers them (no serialization). A full
 * buffer is handed to the reader as it is; a partly filled one (the end of a trickle) is copied out at its
 * size and the buffer sent back with the credit, for the sender to fill again, so a slow trickle does not
 * hand out 256 KiB per small chunk. A port that closes before the end of its stream fails the reader
 * instead of leaving it waiting.
 *
 * Flow control: the receiver grants the window once it is attached, then one credit back per chunk its
 * reader has taken. At most the window (plus what the producer had already handed over when it was told
 * to stop) is ever queued between the two threads.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { deserializeError, type SerializedError } from '../errors/flowpool-error.js';
import type { ChunkCredit, ChunkMessage } from './protocol.js';

/** Bytes per message: fewer, larger messages between the threads. */
export const CHUNK_BYTES = 256 * 1024;
/** Chunks in flight or queued at the receiver before the sender is told to wait. */
export const WINDOW_CHUNKS = 16;
/**
 * A sender told to wait goes on once this many credits are back, not at the first: pausing and resuming
 * a socket for every chunk the reader takes costs more than the bytes.
 */
const RESUME_CREDITS = WINDOW_CHUNKS / 2;

/**
 * The sending end. Bytes written are gathered into chunks of {@link CHUNK_BYTES}, posted when full or at
 * the end of the current turn of the event loop (so a slow trickle is not held back).
 */
export class ChunkSender {
  readonly #port: MessagePort;
  #credits = 0;
  /** Buffers the receiver sent back, ready to be filled again. */
  readonly #spare: ArrayBuffer[] = [];
  #buffer: Uint8Array | undefined;
  #filled = 0;
  #flushScheduled = false;
  #finished = false;
  #whenWritable: (() => void) | undefined;

  /** `onAbandoned` runs once if the receiver goes (cancelled, or its thread died) before the end was sent. */
  constructor(port: MessagePort, onAbandoned: () => void) {
    this.#port = port;
    port.on('message', (message: ChunkCredit) => {
      if (message.buffer !== undefined && !this.#finished) this.#spare.push(message.buffer);
      this.#credits += message.chunks;
      if (this.#credits < RESUME_CREDITS) return;
      const resume = this.#whenWritable;
      this.#whenWritable = undefined;
      resume?.();
    });
    port.once('close', () => {
      if (this.#finished) return;
      this.#finished = true;
      this.#buffer = undefined;
      const resume = this.#whenWritable;
      this.#whenWritable = undefined;
      onAbandoned();
      resume?.();
    });
    // The stream alone must not keep the process alive: the job that owns it does, while it runs.
    port.unref();
  }

  /** The receiver is gone or the end was sent: nothing more is wanted. */
  get finished(): boolean {
    return this.#finished;
  }

  /** The receiver has room for more (credits left). */
  get writable(): boolean {
    return this.#credits > 0;
  }

  /** Copies `bytes` into the outgoing chunks; false when the receiver has no room left (see onWritable). */
  write(bytes: Uint8Array): boolean {
    if (this.#finished) return true;
    let offset = 0;
    while (offset < bytes.length) {
      // Not zero-filled: every byte of it is written before it is sent.
      const buffer = (this.#buffer ??= spareOrNew(this.#spare.pop()));
      const taken = Math.min(bytes.length - offset, CHUNK_BYTES - this.#filled);
      buffer.set(bytes.subarray(offset, offset + taken), this.#filled);
      this.#filled += taken;
      offset += taken;
      if (this.#filled === CHUNK_BYTES) this.flush();
    }
    if (this.#filled > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        this.flush();
      });
    }
    return this.#credits > 0;
  }

  /** Sends what is gathered now. */
  flush(): void {
    const buffer = this.#buffer;
    if (this.#finished || buffer === undefined || this.#filled === 0) return;
    this.#credits--;
    const message: ChunkMessage = { type: 'chunk', bytes: buffer.subarray(0, this.#filled) };
    this.#buffer = undefined;
    this.#filled = 0;
    // Transferred: the receiver copies the bytes out and sends the buffer back with its credit.
    this.#port.postMessage(message, [buffer.buffer as ArrayBuffer]);
  }

  /** Calls `resume` once the receiver has room again (or is gone: check {@link finished}). */
  onWritable(resume: () => void): void {
    if (this.#credits >= RESUME_CREDITS || this.#finished) resume();
    else this.#whenWritable = resume;
  }

  /** The whole stream was written. */
  end(): void {
    if (this.#finished) return;
    this.flush();
    this.#finish({ type: 'end' });
  }

  /** The stream failed: the reader's next read rejects with this error. */
  fail(error: SerializedError): void {
    if (this.#finished) return;
    this.#finish({ type: 'error', error });
  }

  #finish(message: ChunkMessage): void {
    this.#finished = true;
    this.#buffer = undefined;
    this.#spare.length = 0;
    this.#port.postMessage(message);
    // Messages posted before close() are still delivered, then the receiver sees 'close'.
    this.#port.close();
  }
}

function spareOrNew(spare: ArrayBuffer | undefined): Uint8Array {
  return spare === undefined ? Buffer.allocUnsafeSlow(CHUNK_BYTES) : new Uint8Array(spare);
}

/**
 * The receiving end as a web stream. Nothing is read ahead of the reader beyond the window; a port
 * that closes before the end fails the stream with `peerGone()`'s error.
 */
export function receiveChunks(port: MessagePort, peerGone: () => Error): ReadableStream<Uint8Array> {
  const queue: Uint8Array[] = [];
  let ending: 'end' | Error | undefined;
  let waiting: ReadableStreamDefaultController<Uint8Array> | undefined;
  let cancelled = false;
  /** Hands the reader one chunk, the end or the failure; false when there is nothing yet. */
  const deliver = (controller: ReadableStreamDefaultController<Uint8Array>): boolean => {
    const chunk = queue.shift();
    if (chunk !== undefined) {
      if (chunk.length === chunk.buffer.byteLength) {
        // A full buffer: the reader takes it as it is (no copy); the sender fills a new one.
        controller.enqueue(chunk);
        const credit: ChunkCredit = { chunks: 1 };
        port.postMessage(credit);
      } else {
        // A part of one: the reader gets a copy of its size; the buffer goes back to be filled again.
        controller.enqueue(chunk.slice());
        const credit: ChunkCredit = { chunks: 1, buffer: chunk.buffer as ArrayBuffer };
        port.postMessage(credit, [credit.buffer as ArrayBuffer]);
      }
      return true;
    }
    if (ending === undefined) return false;
    if (ending === 'end') controller.close();
    else controller.error(ending);
    port.close();
    return true;
  };
  const settleWaiting = (): void => {
    if (waiting === undefined || !deliver(waiting)) return;
    waiting = undefined;
    // Nobody is reading now: an abandoned stream must not keep the process alive.
    port.unref();
  };
  port.on('message', (message: ChunkMessage) => {
    if (message.type === 'chunk') queue.push(message.bytes);
    else if (message.type === 'end') ending = 'end';
    else ending = deserializeError(message.error);
    settleWaiting();
  });
  port.once('close', () => {
    if (cancelled || ending !== undefined) return;
    ending = peerGone();
    settleWaiting();
  });
  port.unref();
  const window: ChunkCredit = { chunks: WINDOW_CHUNKS };
  port.postMessage(window);
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (deliver(controller)) return;
        waiting = controller;
        // A read is pending: the process waits for its bytes.
        port.ref();
      },
      cancel() {
        cancelled = true;
        queue.length = 0;
        port.close();
      },
    },
    // Chunks wait in the queue above, counted by the window; the stream itself holds none.
    { highWaterMark: 0 },
  );
}

/** A new channel: the sender keeps the first port, the second crosses to the other thread. */
export function chunkChannel(onAbandoned: () => void): { sender: ChunkSender; remote: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  return { sender: new ChunkSender(port1, onAbandoned), remote: port2 };
}
