/** Reads the figures the report uses out of a finished tinybench task. */
import type { Task } from 'tinybench';

export interface TaskSummary {
  readonly name: string;
  /** Median latency per op, µs. */
  readonly medianUs: number;
  readonly meanUs: number;
  readonly p99Us: number;
  /** Median throughput, ops/s. */
  readonly opsPerSec: number;
  readonly samples: number;
  readonly error?: string;
}

export function summariseTask(task: Task): TaskSummary {
  const result = task.result;
  if (result === undefined)
    return {
      name: task.name,
      medianUs: Number.NaN,
      meanUs: Number.NaN,
      p99Us: Number.NaN,
      opsPerSec: Number.NaN,
      samples: 0,
      error: 'no result',
    };
  const error = result.error === undefined ? {} : { error: result.error.message };
  return {
    name: task.name,
    medianUs: (result.latency.p50 ?? Number.NaN) * 1000,
    meanUs: result.latency.mean * 1000,
    p99Us: (result.latency.p99 ?? Number.NaN) * 1000,
    opsPerSec: result.throughput.p50 ?? Number.NaN,
    samples: result.latency.samples.length,
    ...error,
  };
}
