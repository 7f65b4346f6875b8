/**
 * The caller's side of `responseType: 'stream'`: the stream fed from the worker (chunk-port.ts), wrapped so that
 * (1) the job's slot (its coordinator ticket: connection cap, per-worker concurrency) stays held until
 * the body ends, fails or is cancelled, (2) a failure reaches the reader as a FlowpoolError with its code
 * (it crosses as plain data), and (3) at most two chunks are read ahead of the caller, so backpressure
 * reaches the socket.
 */
import {
  deserializeError,
  FlowpoolError,
  isFlowpoolErrorCode,
  type SerializedError,
} from '../errors/flowpool-error.js';
import type { JobOutcome, JobSuccess } from '../wire/protocol.js';

/** A success whose body is a stream. */
export type StreamSuccess = JobSuccess & { readonly body: ReadableStream<Uint8Array> };

export function isStreamSuccess(outcome: JobOutcome): outcome is StreamSuccess {
  return outcome.ok === true && outcome.body instanceof ReadableStream;
}

/** The outcome with its stream wrapped; `release` runs once, when the body ends, fails or is cancelled. */
export function holdUntilBodyEnds(outcome: StreamSuccess, release: () => void): StreamSuccess {
  const reader = outcome.body.getReader();
  let released = false;
  const end = (): void => {
    if (released) return;
    released = true;
    release();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { value, done } = await reader.read();
          if (done) {
            controller.close();
            end();
          } else controller.enqueue(value);
        } catch (error) {
          controller.error(toFlowpoolError(error));
          end();
        }
      },
      async cancel(reason) {
        end();
        await reader.cancel(reason);
      },
    },
    // A few chunks read ahead keep the transfer busy while the caller handles one; more would only buffer.
    new CountQueuingStrategy({ highWaterMark: 2 }),
  );
  return { ...outcome, body };
}

function toFlowpoolError(error: unknown): FlowpoolError {
  if (error instanceof FlowpoolError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (isFlowpoolErrorCode(code)) return deserializeError(error as SerializedError);
  const message = error instanceof Error ? error.message : String(error);
  return new FlowpoolError('FLOWPOOL_CONNECTION_FAILED', `the response stream failed: ${message}`);
}
