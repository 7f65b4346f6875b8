/**
 * A job waiting in a worker's outbox, as the threads see it. The main thread's record of the job writes its
 * own wire record at the moment its batch leaves (no request object per job in between), and is told which
 * worker link took it: when that link's thread dies, the jobs posted on it and not answered are found by
 * that mark, with no per-job bookkeeping in the link.
 */
import type { JobsMessage } from '../wire/codec.js';

export interface OutgoingJob {
  readonly id: number;
  /** Appends the job's record (wire/codec.ts `writeJob`) to a batch leaving at `now` (performance.now()). */
  writeTo(message: JobsMessage, now: number): void;
  /** Its batch was posted on the job port of the worker link numbered `link`. */
  posted(link: number): void;
}
