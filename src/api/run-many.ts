/**
 * runMany: a bounded window over any (async) iterable of jobs. The input is pulled only when a slot is
 * free and results are handed out as they settle, so memory holds at most `concurrency` jobs plus the
 * results the consumer has not taken yet, whatever the input's size.
 */
import { FlowpoolError } from '../errors/flowpool-error.js';
import type { HttpJob } from '../job/http-job.js';
import type { HttpResult } from '../job/result.js';
import type { ResultOf } from './result-types.js';

export interface RunManyOptions {
  /**
   * Jobs in flight at once.
   * @default 256
   */
  readonly concurrency?: number;
  /** Aborts every job of this call that has not settled yet. */
  readonly signal?: AbortSignal;
}

/**
 * One settled job of `runMany`, in completion order; `index` is its position in the input. The value is
 * typed by the jobs' type `J` as `run()` types it (see `BodyOf`): text jobs give `string` bodies,
 * JSON jobs `T` (`unknown` unless the caller says), bytes jobs `Uint8Array`; jobs only known as `HttpJob`
 * give {@link HttpResult}.
 */
export type RunManyResult<J extends HttpJob = HttpJob, T = unknown> =
  | { readonly index: number; readonly ok: true; readonly value: ResultOf<J, T> }
  | { readonly index: number; readonly ok: false; readonly error: FlowpoolError };

/**
 * The window itself. `R` is the result type the caller declares (its return type decides it): the worker
 * produced the body each job asked for, which the runtime cannot see in the types.
 */
export async function* runMany<R extends RunManyResult = RunManyResult>(
  jobs: Iterable<HttpJob> | AsyncIterable<HttpJob>,
  options: { readonly concurrency: number; readonly signal?: AbortSignal | undefined },
  runOne: (job: HttpJob, signal: AbortSignal | undefined) => Promise<HttpResult>,
): AsyncGenerator<R, void, undefined> {
  const concurrency = options.concurrency;
  const iterator: Iterator<HttpJob> | AsyncIterator<HttpJob> =
    Symbol.asyncIterator in jobs ? jobs[Symbol.asyncIterator]() : jobs[Symbol.iterator]();
  const ready: R[] = [];
  let wake: (() => void) | undefined;
  let inFlight = 0;
  let index = 0;
  let exhausted = false;

  const settle = (result: RunManyResult): void => {
    inFlight--;
    // The declared R: the body is the one the job asked for (the worker decoded it so).
    ready.push(result as R);
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
