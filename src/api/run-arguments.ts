/**
 * Validation of what `run()` and `runMany()` take besides a job: their options and, for runMany, the job
 * source. A stranger's `{ signal: {} }` must fail here, before anything is queued, as a FlowpoolError naming
 * the field; handed on, it would throw a TypeError from deep inside the runtime after the job was
 * registered and leave it behind.
 */
import { FlowpoolError } from '../errors/flowpool-error.js';
import type { HttpJob } from '../job/http-job.js';
import { DEFAULTS } from '../config/options.js';
import { describeKind } from '../errors/received-kind.js';
import { guardedOptions } from '../errors/validation.js';

/** `run()`'s options, validated. */
export interface ParsedRunOptions {
  readonly signal?: AbortSignal;
}

/** `runMany()`'s arguments, validated, with the default concurrency applied. */
export interface ParsedRunManyArguments {
  readonly jobs: Iterable<HttpJob> | AsyncIterable<HttpJob>;
  readonly concurrency: number;
  readonly signal?: AbortSignal;
}

/** The largest `concurrency` of one runMany call: beyond it the window is no bound at all. */
const MAX_RUN_MANY_CONCURRENCY = 1_000_000;

/**
 * Validates `run(job, options)`'s second argument. `undefined` and `null` mean no options. Throws
 * `FLOWPOOL_INVALID_OPTIONS` naming `options` or `options.signal`.
 */
export function parseRunOptions(value: unknown): ParsedRunOptions {
  return guardedOptions(() => {
    const options = optionsObject(value, 'run');
    if (options === undefined) return {};
    const signal = readSignal(options, 'run');
    return signal === undefined ? {} : { signal };
  });
}

/**
 * Validates `runMany(jobs, options)`: `jobs` an iterable or async iterable (not a string), `options`
 * an object or nothing, `concurrency` an integer >= 1 (default `DEFAULTS.runManyConcurrency`).
 * Throws `FLOWPOOL_INVALID_JOB` naming `jobs`, or `FLOWPOOL_INVALID_OPTIONS` naming the option.
 */
export function parseRunManyArguments(jobs: unknown, options: unknown): ParsedRunManyArguments {
  return guardedOptions(() => {
    if (!isJobSource(jobs)) {
      throw new FlowpoolError(
        'FLOWPOOL_INVALID_JOB',
        `invalid runMany jobs: jobs: expected an iterable or async iterable of jobs, received ${describeKind(jobs)}`,
        { field: 'jobs' },
      );
    }
    const parsed = optionsObject(options, 'runMany');
    if (parsed === undefined) return { jobs, concurrency: DEFAULTS.runManyConcurrency };
    const concurrency = readConcurrency(parsed);
    const signal = readSignal(parsed, 'runMany');
    return signal === undefined ? { jobs, concurrency } : { jobs, concurrency, signal };
  });
}

function isJobSource(value: unknown): value is Iterable<HttpJob> | AsyncIterable<HttpJob> {
  // A string is iterable, but its characters are not jobs: refuse it rather than fail once per character.
  if (typeof value !== 'object' || value === null) return false;
  const source = value as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown };
  return typeof source[Symbol.asyncIterator] === 'function' || typeof source[Symbol.iterator] === 'function';
}

function optionsObject(value: unknown, call: string): object | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_OPTIONS',
      `invalid ${call} options: options: expected an object or undefined, received ${describeKind(value)}`,
      { field: 'options' },
    );
  }
  return value;
}

function readSignal(options: object, call: string): AbortSignal | undefined {
  const signal = (options as { signal?: unknown }).signal;
  if (signal === undefined) return undefined;
  if (!isAbortSignal(signal)) {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_OPTIONS',
      `invalid ${call} options: options.signal: expected an AbortSignal or undefined, received ${describeKind(signal)}`,
      { field: 'options.signal' },
    );
  }
  return signal;
}

/**
 * A real AbortSignal: `instanceof` alone passes an `Object.create(AbortSignal.prototype)`, whose `aborted`
 * getter then throws (it checks the receiver's internal slot); reading it here is what proves the brand.
 */
function isAbortSignal(value: unknown): value is AbortSignal {
  if (!(value instanceof AbortSignal)) return false;
  try {
    return typeof value.aborted === 'boolean';
  } catch {
    return false;
  }
}

function readConcurrency(options: object): number {
  const concurrency = (options as { concurrency?: unknown }).concurrency;
  if (concurrency === undefined) return DEFAULTS.runManyConcurrency;
  if (
    typeof concurrency !== 'number' ||
    !Number.isInteger(concurrency) ||
    concurrency < 1 ||
    concurrency > MAX_RUN_MANY_CONCURRENCY
  ) {
    const received = typeof concurrency === 'number' ? String(concurrency) : describeKind(concurrency);
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_OPTIONS',
      `invalid runMany options: options.concurrency: expected an integer from 1 to ${String(MAX_RUN_MANY_CONCURRENCY)}, received ${received}`,
      { field: 'options.concurrency' },
    );
  }
  return concurrency;
}
