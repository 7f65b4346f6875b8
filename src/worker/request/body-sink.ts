/**
 * Where a response body goes when it must not be gathered in memory: a file (`saveTo`) or a stream
 * handed to the caller (`responseType: 'stream'`). The response reader writes decoded chunks into it and
 * pauses the response (when that is safe, see body-backpressure.ts) while the sink is full.
 */
export interface BodySink {
  /** Takes a chunk of decoded body; false when full: the reader pauses until {@link onDrain}'s callback. */
  write(chunk: Buffer): boolean;
  /** Calls `resume` once the sink can take more (after a `write` returned false). */
  onDrain(resume: () => void): void;
  /** The body failed (limit, deadline, network, cancel): drop what was written. Idempotent. */
  discard(reason: Error): Promise<void>;
}
