/**
 * runMany: a bounded window over any (async) iterable of jobs. The input is pulled only when a slot is
 * free and results are handed out as they settle, so memory holds at most `concurrency` jobs plus the
 * results the consumer has not taken yet, whatever the input's size.
 */
import { FlowpoolError } from '../errors/flowpool-error.js';
import type { HttpJob } from '../job/job.js';
import type { HttpResult } from '../job/result.js';

export interface RunManyOptions {
  /**
   * Jobs in flight at once.
   * @default 256
   */
  readonly concurrency?: number;
  /** Aborts every job of this call that has not settled yet. */
  readonly signal?: AbortSignal;
}

/** One settled job of `runMany`, in completion order; `index` is its position in the input. */
export type RunManyResult =
  | { readonly index: number; readonly ok: true; readonly value: HttpResult }
  | { readonly index: number; readonly ok: false; readonly error: FlowpoolError };

export async function* runMany(
  jobs: Iterable<HttpJob> | AsyncIterable<HttpJob>,
  options: { readonly concurrency: number; readonly signal?: AbortSignal | undefined },
  runOne: (job: HttpJob, signal: AbortSignal | undefined) => Promise<HttpResult>,
): AsyncGenerator<RunManyResult, void, undefined> {
  const concurrency = options.concurrency;
  const iterator: Iterator<HttpJob> | AsyncIterator<HttpJob> =
    Symbol.asyncIterator in jobs ? jobs[Symbol.asyncIterator]() : jobs[Symbol.iterator]();
  const ready: RunManyResult[] = [];
  let wake: (() => void) | undefined;
  let inFlight = 0;
  let index = 0;
  let exhausted = false;

  const settle = (result: RunManyResult): void => {
    inFlight--;
    ready.push(result);
    const resume = wake;
    wake = undefined;
    resume?.();
  };

  try {
    for (;;) {
      // Results not yet taken by the consumer count against the window too: a slow consumer must slow
      // the reading of the input, or a large input would be pulled in and buffered whole.
      while (!exhausted && inFlight + ready.length < concurrency) {
        const next = await pull(iterator, index);
        if (next.done === true) {
          exhausted = true;
          break;
        }
        const position = index++;
        inFlight++;
        runOne(next.value, options.signal).then(
          (value) => settle({ index: position, ok: true, value }),
          (error: unknown) => settle({ index: position, ok: false, error: error as FlowpoolError }),
        );
      }
      const result = ready.shift();
      if (result !== undefined) {
        yield result;
        continue;
      }
      if (exhausted && inFlight === 0) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    // The consumer stopped early: close the input; jobs already running still settle on their own.
    if (!exhausted) await iterator.return?.();
  }
}

/**
 * The next job, or a FlowpoolError (FLOWPOOL_INVALID_JOB, `field: 'jobs'`) with the input's own error as
 * `cause` when the caller's iterator throws: `runMany` rejects only with FlowpoolError.
 */
async function pull(
  iterator: Iterator<HttpJob> | AsyncIterator<HttpJob>,
  position: number,
): Promise<IteratorResult<HttpJob>> {
  try {
    return await iterator.next();
  } catch (error) {
    if (error instanceof FlowpoolError) throw error;
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_JOB',
      `invalid jobs: the input of runMany threw while job ${position} was read (${kindOf(error)}); the jobs already started still run`,
      { field: 'jobs' },
      { cause: error },
    );
  }
}

/** The thrown value's kind for the message (its own message is the caller's, kept only as `cause`). */
function kindOf(error: unknown): string {
  try {
    return error instanceof Error ? error.name : typeof error;
  } catch {
    return 'an object that threw while being inspected';
  }
}
