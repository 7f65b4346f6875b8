/**
 * `responseType: 'stream'`: the body as a web ReadableStream, transferred to the caller's thread with the
 * job's outcome once the headers are in. The stream's queue holds at most {@link QUEUE_BYTES}; past that
 * the response is paused (when safe, see body-backpressure.ts) until the caller reads, so a slow reader
 * holds the socket back instead of filling memory. Cancelling the stream aborts the request.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { SerializedError } from '../src/errors.js';
import type { BodySink } from './body-sink.js';

const QUEUE_BYTES = 1024 * 1024;
/** Size of the chunks handed to the caller (fewer, larger messages between the threads). */
const CHUNK_BYTES = 256 * 1024;

export class StreamSink implements BodySink {
  readonly stream: ReadableStream<Uint8Array>;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #resume: (() => void) | undefined;
  #done = false;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #flushScheduled = false;

  /** `onCancel` is called once if the caller cancels the stream before its end. */
  constructor(status: number, headers: IncomingHttpHeaders, onCancel: () => void) {
    this.status = status;
    this.headers = headers;
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => {
          const resume = this.#resume;
          this.#resume = undefined;
          resume?.();
        },
        cancel: () => {
          if (this.#done) return;
          this.#done = true;
          onCancel();
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: QUEUE_BYTES }),
    );
  }

  write(chunk: Buffer): boolean {
    if (this.#done) return true;
    // Each chunk costs a message between the threads: gather socket-sized chunks into larger ones, sent at
    // CHUNK_BYTES or at the end of this turn of the event loop, whichever comes first.
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= CHUNK_BYTES) this.#flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        this.#flush();
      });
    }
    return (this.#controller.desiredSize ?? 0) - this.#pendingBytes > 0;
  }

  #flush(): void {
    if (this.#done || this.#pendingBytes === 0) return;
    // One copy into a buffer of its own: a view into a larger buffer would clone all of it when it crosses.
    const joined = new Uint8Array(this.#pendingBytes);
    let offset = 0;
    for (const part of this.#pending) {
      joined.set(part, offset);
      offset += part.length;
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#controller.enqueue(joined);
  }

  onDrain(resume: () => void): void {
    if ((this.#controller.desiredSize ?? 0) > 0) resume();
    else this.#resume = resume;
  }

  /** The whole body was delivered into the stream. */
  close(): void {
    if (this.#done) return;
    this.#flush();
    this.#done = true;
    this.#controller.close();
  }

  /** The body failed: the caller's next read rejects with this (plain data, rebuilt as a FlowpoolError there). */
  fail(error: SerializedError): void {
    if (this.#done) return;
    this.#done = true;
    this.#controller.error(error);
  }

  discard(): Promise<void> {
    return Promise.resolve();
  }
}
