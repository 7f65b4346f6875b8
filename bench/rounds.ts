/**
 * Runs a load suite in rounds, variants interleaved (A B C, A B C, ...) so that a noisy minute on a
 * shared machine hits every variant alike, then takes the median of the rounds per metric. Ratios are
 * computed from those medians, against the suite's baseline measured in the same run.
 */
import { fileURLToPath } from 'node:url';
import type { TargetProcess } from '../src/cli/target-process.js';
import type { BenchConfig } from './config.js';
import type { VariantName } from './flood/protocol.js';
import { runVariant, type VariantRun } from './flood/spawn.js';
import { warmupFor, type LoadSuite } from './load-suites.js';
import { median } from './stats.js';

const HEAVY_TRANSFORM = fileURLToPath(new URL('./workloads/heavy-transform.js', import.meta.url));

/** Metrics summarised by their median over the rounds. */
export const METRICS = [
  'reqPerSec',
  'p50Ms',
  'p99Ms',
  'connections',
  'newAfterWarmup',
  'peakOpen',
  'peakRssMb',
  'mainThreadUsPerJob',
  'mainThreadCpuUsPerJob',
  'processCpuUsPerJob',
  'workerRssAtRestMb',
] as const;
export type Metric = (typeof METRICS)[number];

export interface VariantSummary {
  readonly variant: VariantName;
  /** Median over the rounds that completed. */
  readonly median: Partial<Record<Metric, number>>;
  /** Median req/s divided by the baseline's median req/s. */
  readonly ratio: number;
  /** Mean time per request over the measured run (1e6 / req/s), µs. */
  readonly usPerOp: number;
  readonly rounds: readonly (VariantRun | { readonly error: string })[];
  /** Rounds that crashed, or had non-200 responses or request errors. */
  readonly failures: number;
  readonly jobs: number;
  readonly warmup: number;
}

export interface SuiteSummary {
  readonly name: LoadSuite['name'];
  readonly title: string;
  readonly baseline: VariantName;
  readonly config: Omit<LoadSuite, 'jobsFor' | 'name' | 'title' | 'variants' | 'baseline'>;
  readonly variants: readonly VariantSummary[];
}

export async function runSuite(
  suite: LoadSuite,
  config: BenchConfig,
  targets: TargetProcess,
  log: (line: string) => void,
): Promise<SuiteSummary> {
  const origins = targets.origins.slice(0, suite.hosts);
  const raw = new Map<VariantName, (VariantRun | { error: string })[]>(suite.variants.map((v) => [v, []]));
  for (let round = 1; round <= config.rounds; round++) {
    for (const variant of suite.variants) {
      const jobs = suite.jobsFor(variant);
      const started = performance.now();
      let run: VariantRun | { error: string };
      try {
        run = await runVariant(
          {
            suite: suite.name,
            variant,
            origins,
            path: suite.path,
            workload: suite.workload,
            warmup: warmupFor(suite, jobs),
            jobs,
            inflight: suite.inflight,
            workers: suite.workers,
            connectionsPerHost: suite.connectionsPerHost,
            heavyTransform: HEAVY_TRANSFORM,
          },
          targets,
          config.variantTimeoutMs,
        );
        const bad = run.nonOk + run.errors;
        const expected = jobs + warmupFor(suite, jobs);
        if (run.serverRequests !== expected)
          log(`  note: the target answered ${run.serverRequests} requests for ${expected} jobs`);
        log(
          `  ${suite.name} round ${round}/${config.rounds} ${variant.padEnd(20)} ${Math.round(run.reqPerSec).toString().padStart(7)} req/s` +
            `  (${((performance.now() - started) / 1000).toFixed(1)} s)${bad > 0 ? `  ${run.nonOk} non-200, ${run.errors} errors: ${run.firstError ?? ''}` : ''}`,
        );
      } catch (error) {
        run = { error: error instanceof Error ? error.message : String(error) };
        log(`  ${suite.name} round ${round}/${config.rounds} ${variant.padEnd(20)} FAILED: ${run.error}`);
      }
      raw.get(variant)?.push(run);
    }
  }
  const medians = new Map<VariantName, Partial<Record<Metric, number>>>();
  for (const [variant, runs] of raw) medians.set(variant, summarise(runs.filter(isRun)));
  const baseline = medians.get(suite.baseline)?.reqPerSec ?? Number.NaN;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- left out of the copy, never called
  const { jobsFor: _jobsFor, name, title, variants, baseline: baselineName, ...rest } = suite;
  return {
    name,
    title,
    baseline: baselineName,
    config: rest,
    variants: variants.map((variant) => {
      const runs = raw.get(variant) ?? [];
      const m = medians.get(variant) ?? {};
      const jobs = suite.jobsFor(variant);
      return {
        variant,
        median: m,
        ratio: (m.reqPerSec ?? Number.NaN) / baseline,
        usPerOp: 1e6 / (m.reqPerSec ?? Number.NaN),
        rounds: runs,
        failures: runs.filter((r) => !isRun(r) || r.nonOk + r.errors > 0).length,
        jobs,
        warmup: warmupFor(suite, jobs),
      };
    }),
  };
}

function isRun(run: VariantRun | { error: string }): run is VariantRun {
  return !('error' in run);
}

function summarise(runs: readonly VariantRun[]): Partial<Record<Metric, number>> {
  const out: Partial<Record<Metric, number>> = {};
  if (runs.length === 0) return out;
  for (const metric of METRICS) {
    const values = runs.map((r) => r[metric]).filter((v): v is number => typeof v === 'number');
    if (values.length > 0) out[metric] = median(values);
  }
  return out;
}
