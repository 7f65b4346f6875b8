/**
 * The one place that knows which parts of a cross-thread message are transferred rather than copied:
 * web ReadableStreams (a streamed request body going to a worker, a streamed response coming back).
 * Structured clone refuses a stream that is not in the transfer list, and a transferred stream keeps
 * its backpressure across the threads.
 */
import type { JobBatch, OutcomeBatch } from './protocol.js';

/** Streamed request bodies in a batch of jobs. */
export function batchTransferables(batch: JobBatch): ReadableStream[] {
  const streams: ReadableStream[] = [];
  for (const job of batch.jobs) if (job.body instanceof ReadableStream) streams.push(job.body);
  return streams;
}

/** Streamed response bodies in a batch of outcomes. */
export function outcomeTransferables(batch: OutcomeBatch): ReadableStream[] {
  const streams: ReadableStream[] = [];
  for (const outcome of batch.outcomes)
    if (outcome.ok === true && outcome.body instanceof ReadableStream) streams.push(outcome.body);
  return streams;
}
