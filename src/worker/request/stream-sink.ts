/**
 * `responseType: 'stream'`: the body's chunks go to the caller's thread on a port of their own
 * (chunk-port.ts), handed over with the job's outcome once the headers are in; the caller's thread turns
 * the port into a web ReadableStream. When the reader has no room left (a window of chunks in flight),
 * the response is paused (when safe, see body-backpressure.ts) until it reads, so a slow reader holds the
 * socket back instead of filling memory. Cancelling the stream aborts the request.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { MessagePort } from 'node:worker_threads';
import { chunkChannel, type ChunkSender } from '../../wire/chunk-port.js';
import type { SerializedError } from '../../errors/flowpool-error.js';
import type { BodySink } from './body-sink.js';

export class StreamSink implements BodySink {
  /** Crosses with the outcome; the caller's thread reads the body from it. */
  readonly port: MessagePort;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly #sender: ChunkSender;

  /** `onCancel` is called once if the caller cancels the stream (or its thread goes) before its end. */
  constructor(status: number, headers: IncomingHttpHeaders, onCancel: () => void) {
    this.status = status;
    this.headers = headers;
    const { sender, remote } = chunkChannel(onCancel);
    this.#sender = sender;
    this.port = remote;
  }

  write(chunk: Buffer): boolean {
    return this.#sender.write(chunk);
  }

  onDrain(resume: () => void): void {
    this.#sender.onWritable(resume);
  }

  /** The whole body was delivered into the stream. */
  close(): void {
    this.#sender.end();
  }

  /** The body failed: the caller's next read rejects with this (plain data, rebuilt as a FlowpoolError there). */
  fail(error: SerializedError): void {
    this.#sender.fail(error);
  }

  discard(): Promise<void> {
    return Promise.resolve();
  }
}
