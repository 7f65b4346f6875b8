/** The machine-readable results: everything the tables show, the configuration, and every round raw. */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BenchConfig } from '../config.js';
import type { Machine } from '../machine.js';
import type { MixResult } from '../mix/run-mix.js';
import type { SuiteSummary } from '../rounds.js';
import type { TaskSummary } from '../tinybench-summary.js';
import type { HeavyCost } from '../workloads/measure-heavy.js';

export interface BenchResults {
  readonly schema: 1;
  readonly machine: Machine;
  readonly config: Omit<BenchConfig, 'output'>;
  readonly durationS: number;
  readonly heavyCost?: HeavyCost;
  /** Load suites: medians of the rounds per variant, ratios against the baseline, and the raw rounds. */
  readonly suites: readonly SuiteSummary[];
  readonly seed?: readonly TaskSummary[];
  readonly micro?: readonly TaskSummary[];
  /** The realistic mix: medians per client, outcomes, load averages and every block raw. */
  readonly mix?: MixResult;
}

/** Writes through a temporary file, so an interrupted run never leaves half a file behind. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

export function toJson(results: BenchResults): string {
  // NaN (a metric with no completed round) is not JSON: write null.
  return `${JSON.stringify(results, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`;
}
