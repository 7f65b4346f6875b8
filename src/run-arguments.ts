/**
 * Checks the arguments of `run()` and `runMany()` before anything is queued, so a bad one is a
 * FlowpoolError naming it, never a TypeError from deep inside and never a job left half-submitted.
 */
import { describeReceived, FlowpoolError } from './errors.js';
import { DEFAULTS } from './options.js';

/** runMany's default window of jobs in flight (from the options' one table of defaults). */
export const RUN_MANY_DEFAULT_CONCURRENCY = DEFAULTS.runManyConcurrency;

function isAbortSignal(value: unknown): value is AbortSignal {
  return value instanceof AbortSignal || Object.prototype.toString.call(value) === '[object AbortSignal]';
}

/** `run(job, options)`'s options: undefined and null mean none. */
export function parseRunOptions(value: unknown): { readonly signal?: AbortSignal } {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object') {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_OPTIONS',
      `invalid run options: expected an object, received ${describeReceived(value)}`,
      {
        field: 'options',
      },
    );
  }
  let signal: unknown;
  try {
    signal = (value as { signal?: unknown }).signal;
  } catch (error) {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_OPTIONS',
      'invalid run options: options.signal could not be read',
      {
        field: 'options.signal',
      },
      { cause: error },
    );
  }
  if (signal === undefined) return {};
  if (!isAbortSignal(signal)) {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_OPTIONS',
      `invalid run options: options.signal: expected an AbortSignal, received ${describeReceived(signal)}`,
      { field: 'options.signal' },
    );
  }
  return { signal };
}

/** `runMany(jobs, options)`'s arguments. */
export function parseRunManyArguments(
  jobs: unknown,
  options: unknown,
): { readonly concurrency: number; readonly signal?: AbortSignal } {
  if (typeof jobs !== 'object' || jobs === null || !(Symbol.iterator in jobs || Symbol.asyncIterator in jobs)) {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_OPTIONS',
      `invalid runMany arguments: jobs: expected an iterable or async iterable of jobs, received ${describeReceived(jobs)}`,
      { field: 'jobs' },
    );
  }
  const { signal } = parseRunOptions(options);
  const raw =
    options === undefined || options === null ? undefined : (options as { concurrency?: unknown }).concurrency;
  const concurrency = raw ?? RUN_MANY_DEFAULT_CONCURRENCY;
  if (typeof concurrency !== 'number' || !Number.isInteger(concurrency) || concurrency < 1) {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_OPTIONS',
      `invalid runMany options: concurrency: expected an integer >= 1, received ${describeReceived(concurrency)}`,
      { field: 'concurrency' },
    );
  }
  return signal === undefined ? { concurrency } : { concurrency, signal };
}
