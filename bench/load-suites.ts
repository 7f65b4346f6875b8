/**
 * What the three load suites run: the flood (pure I/O), the CPU-heavy flood and the sequential
 * round-trip. Each variant of each suite runs in its own child process (flood/spawn.ts).
 */
import type { BenchConfig } from './config.js';
import type { VariantName, Workload } from './flood/protocol.js';

export interface LoadSuite {
  readonly name: 'flood' | 'cpu-heavy' | 'sequential' | 'https-flood' | 'h2-flood';
  readonly title: string;
  readonly variants: readonly VariantName[];
  /** The variant every ratio is taken against. */
  readonly baseline: VariantName;
  readonly hosts: number;
  readonly path: string;
  readonly workload: Workload;
  readonly inflight: number;
  /** Warm-up jobs at least, whatever the measured count (see {@link warmupFor}). */
  readonly minWarmup: number;
  readonly workers: number;
  readonly connectionsPerHost: number;
  /** Measured jobs of a variant. */
  jobsFor(variant: VariantName): number;
  /** HTTPS suites: the CA the clients trust and whether they negotiate h2. */
  readonly tls?: { readonly ca: string; readonly allowH2: boolean };
}

export const BASELINE: VariantName = 'undici';

export function loadSuites(config: BenchConfig): LoadSuite[] {
  const pick = (variants: readonly VariantName[]): VariantName[] =>
    config.onlyVariants === undefined ? [...variants] : variants.filter((v) => config.onlyVariants?.includes(v));
  const suites: LoadSuite[] = [
    {
      name: 'flood',
      title: `Flood (pure I/O): ${config.floodJobs} GETs of ~229 B over 8 hosts, 256 in flight, 16 connections per host, 2 workers`,
      variants: pick([
        'flowpool',
        'flowpool-least-busy',
        'flowpool-tenants',
        'undici',
        'undici-fastest',
        'no-pooling',
        'naive-piscina',
        'fetch',
        'axios',
      ]),
      baseline: BASELINE,
      hosts: 8,
      path: '/item',
      workload: 'small',
      inflight: 256,
      minWarmup: 0,
      workers: 2,
      connectionsPerHost: 16,
      // A new connection per request: a quarter of the jobs keeps clear of ephemeral-port exhaustion.
      jobsFor: (variant) => (variant === 'no-pooling' ? Math.ceil(config.floodJobs / 4) : config.floodJobs),
    },
    {
      name: 'cpu-heavy',
      title: `CPU-heavy: ${config.heavyJobs} GETs of ~50 KB JSON, parsed and transformed (~5 ms CPU each), 64 in flight over 8 hosts, 2 workers`,
      variants: pick(['flowpool', 'flowpool-large-nursery', 'undici', 'naive-piscina']),
      baseline: BASELINE,
      hosts: 8,
      path: '/large',
      workload: 'heavy',
      inflight: 64,
      minWarmup: 0,
      workers: 2,
      connectionsPerHost: 16,
      jobsFor: () => config.heavyJobs,
    },
    {
      name: 'sequential',
      title: `Sequential: ${config.sequentialJobs} awaited GETs of ~229 B to one host`,
      variants: pick(['flowpool', 'undici', 'no-pooling', 'fetch', 'axios']),
      baseline: BASELINE,
      hosts: 1,
      path: '/item',
      workload: 'small',
      inflight: 1,
      // One job at a time warms slowly: flowpool's first three thousand awaited jobs ran at 733, 326
      // and 174 us/op, then 155-260 (one-process run, chunks of 1,000).
      minWarmup: config.mode === 'full' ? 5_000 : 1_000,
      workers: 2,
      connectionsPerHost: 16,
      jobsFor: () => config.sequentialJobs,
    },
  ];
  return suites.filter((suite) => (config.suites as readonly string[]).includes(suite.name));
}

/**
 * Warm-up before the snapshot: half the measured jobs, at least two waves of the in-flight window, and
 * at least the suite's own minimum.
 * Measured steady state is what an embedded, long-lived runtime lives in. A tenth was too short for a
 * runtime spread over three isolates (main thread and two workers each JIT-compile their own copy of
 * the hot path): after 2,000 warm-up jobs flowpool's measured 20,000 ran at 18k req/s, after 5,000 at
 * 22k, after 10,000 and 20,000 at 25k (one-process runs, same build), while main-thread undici moved
 * by a few percent. Every variant gets the same warm-up.
 */
export function warmupFor(suite: LoadSuite, jobs: number): number {
  return Math.max(Math.ceil(jobs / 2), 2 * suite.inflight, suite.minWarmup);
}
