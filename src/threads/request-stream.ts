/**
 * Streamed request bodies: a Node Readable, a web ReadableStream or an async iterable of Uint8Array,
 * turned into one web ReadableStream of bytes, whose chunks go to the worker on a port of their own
 * (chunk-port.ts). Nothing is buffered here: the stream is pulled only as fast as the worker writes to
 * the socket, so a 500 MB upload from a generator holds a few chunks at a time. Its length is unknown,
 * so undici sends it chunked.
 */
import { Readable } from 'node:stream';
import type { MessagePort } from 'node:worker_threads';
import { bodySlot, jobCount, type JobsMessage } from '../wire/codec.js';
import { chunkChannel } from '../wire/chunk-port.js';
import { FlowpoolError, serializeError } from '../errors/flowpool-error.js';

/** A body that is read as it is sent, once. */
export type StreamBody = Readable | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export function isStreamBody(value: unknown): value is StreamBody {
  if (value instanceof ReadableStream || value instanceof Readable) return true;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/**
 * One web stream of bytes, pulled on demand. A web ReadableStream is passed on as it is; a Readable or
 * an async iterable is read through its iterator, one chunk per pull (strings become UTF-8; anything
 * else fails the request naming what came).
 */
export function toByteStream(source: StreamBody): ReadableStream<Uint8Array> {
  if (source instanceof ReadableStream) return source;
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next: IteratorResult<unknown> = await iterator.next();
        const value: unknown = next.value;
        if (next.done === true) {
          controller.close();
          return;
        }
        if (value instanceof Uint8Array) controller.enqueue(value);
        else if (typeof value === 'string') controller.enqueue(Buffer.from(value));
        else {
          const error = new FlowpoolError(
            'FLOWPOOL_INVALID_JOB',
            `invalid job: job.body: expected a stream of Uint8Array chunks, received a chunk of type ${typeof value}`,
            { field: 'job.body' },
          );
          await iterator.return?.();
          controller.error(error);
        }
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    // Pulled only when the worker asks: one chunk at a time crosses, the rest stays with the producer.
    { highWaterMark: 0 },
  );
}

/**
 * Starts feeding `source` to the port returned, for the worker's side of the stream. Nothing is read
 * before the worker grants room; if the worker goes first (the request failed or was cancelled, or the
 * thread died) the source is cancelled, so a generator's `finally` runs.
 */
export function sendChunks(source: ReadableStream<Uint8Array>): MessagePort {
  const reader = source.getReader();
  const { sender, remote } = chunkChannel(() => {
    reader.cancel().catch(() => undefined);
  });
  const pump = async (): Promise<void> => {
    for (;;) {
      if (!sender.writable) await new Promise<void>((resume) => sender.onWritable(resume));
      if (sender.finished) return;
      const { value, done } = await reader.read();
      if (done) {
        sender.end();
        return;
      }
      sender.write(value);
    }
  };
  pump().catch((error: unknown) => {
    sender.fail(serializeError(asFlowpoolError(error)));
  });
  return remote;
}

function asFlowpoolError(error: unknown): FlowpoolError {
  if (error instanceof FlowpoolError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new FlowpoolError('FLOWPOOL_INVALID_JOB', `invalid job: job.body: the stream failed: ${message}`, {
    field: 'job.body',
  });
}

/** The port each streamed request body is fed to, made once (a batch that could not be posted is posted again). */
const portsOfBodies = new WeakMap<ReadableStream<Uint8Array>, MessagePort>();

const NO_TRANSFER: readonly MessagePort[] = Object.freeze([]);

/**
 * Makes a jobs message ready to post: each streamed request body is replaced in it by the port its chunks go
 * out on; returns those ports, to transfer. Jobs without a streamed body (nearly all) cost one instanceof each.
 */
export function transferStreamBodies(message: JobsMessage): readonly MessagePort[] {
  let transfer: MessagePort[] | undefined;
  const count = jobCount(message);
  for (let i = 0; i < count; i++) {
    const slot = bodySlot(i);
    const body = message[slot];
    if (!(body instanceof ReadableStream)) continue;
    let port = portsOfBodies.get(body as ReadableStream<Uint8Array>);
    if (port === undefined) {
      port = sendChunks(body as ReadableStream<Uint8Array>);
      portsOfBodies.set(body as ReadableStream<Uint8Array>, port);
    }
    (transfer ??= []).push(port);
    message[slot] = port;
  }
  return transfer ?? NO_TRANSFER;
}
