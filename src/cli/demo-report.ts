/** The demo's summary: figures from both floods and the target servers' own counts, as data and as text. */
import type { FloodOutcome, RuntimeFloodOutcome } from './demo-flood.js';
import type { TargetProcess } from './target-process.js';

/** What a target server counted for one port. */
type TargetCounts = Awaited<ReturnType<TargetProcess['counts']>>[number];

export interface HostSummary {
  readonly origin: string;
  /** Connections the target server accepted during the run. */
  readonly connections: number;
  /** Most connections open at once, as the target server saw them. */
  readonly peakOpen: number;
  readonly requests: number;
}

export interface FloodSummary {
  readonly succeeded: number;
  readonly failed: number;
  readonly failedByCode: Readonly<Record<string, number>>;
  readonly durationMs: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly hosts: readonly HostSummary[];
  /** Largest `peakOpen` / `connections` over the hosts. */
  readonly maxPeakOpen: number;
  readonly maxConnections: number;
  /** Every host's peak of open connections stayed at or under the cap. */
  readonly withinCap: boolean;
}

export interface RuntimeFloodSummary extends FloodSummary {
  readonly workersPerHost: readonly { readonly origin: string; readonly workers: readonly number[] }[];
  readonly hostsPerWorker: readonly { readonly worker: number; readonly hosts: readonly string[] }[];
}

export interface DemoSummary {
  readonly jobs: number;
  readonly hosts: number;
  readonly workers: number;
  readonly connectionsPerHost: number;
  readonly concurrency: number;
  readonly flowpool: RuntimeFloodSummary;
  readonly undici: FloodSummary;
  /** flowpool's throughput over the plain Agent's, measured in the same run. */
  readonly throughputRatio: number;
}

export interface DemoSetup {
  readonly jobs: number;
  readonly origins: readonly string[];
  readonly workers: number;
  readonly connectionsPerHost: number;
  readonly concurrency: number;
}

export function summarise(
  setup: DemoSetup,
  flowpool: { readonly outcome: RuntimeFloodOutcome; readonly counts: readonly TargetCounts[] },
  undici: { readonly outcome: FloodOutcome; readonly counts: readonly TargetCounts[] },
): DemoSummary {
  const pool = summariseFlood(flowpool.outcome, flowpool.counts, setup);
  const plain = summariseFlood(undici.outcome, undici.counts, setup);
  const workersPerHost = setup.origins.map((origin) => ({
    origin,
    workers: [...(flowpool.outcome.servedBy.get(origin)?.keys() ?? [])].sort((a, b) => a - b),
  }));
  const hostsPerWorker = Array.from({ length: setup.workers }, (_, worker) => ({
    worker,
    hosts: workersPerHost.filter((host) => host.workers.includes(worker)).map((host) => host.origin),
  }));
  return {
    jobs: setup.jobs,
    hosts: setup.origins.length,
    workers: setup.workers,
    connectionsPerHost: setup.connectionsPerHost,
    concurrency: setup.concurrency,
    flowpool: { ...pool, workersPerHost, hostsPerWorker },
    undici: plain,
    throughputRatio: plain.requestsPerSecond === 0 ? 0 : round(pool.requestsPerSecond / plain.requestsPerSecond, 2),
  };
}

function summariseFlood(outcome: FloodOutcome, counts: readonly TargetCounts[], setup: DemoSetup): FloodSummary {
  const sorted = Float64Array.from(outcome.latenciesMs).sort();
  const byPort = new Map(counts.map((count) => [count.port, count]));
  const hosts = setup.origins.map((origin): HostSummary => {
    const count = byPort.get(Number(new URL(origin).port));
    return { origin, connections: count?.connections ?? 0, peakOpen: count?.peakOpen ?? 0, requests: count?.requests ?? 0 };
  });
  const maxPeakOpen = Math.max(0, ...hosts.map((host) => host.peakOpen));
  return {
    succeeded: outcome.succeeded,
    failed: outcome.failed,
    failedByCode: outcome.failedByCode,
    durationMs: round(outcome.durationMs, 1),
    requestsPerSecond: outcome.durationMs > 0 ? Math.round(((outcome.succeeded + outcome.failed) * 1000) / outcome.durationMs) : 0,
    p50Ms: round(percentile(sorted, 0.5), 2),
    p99Ms: round(percentile(sorted, 0.99), 2),
    hosts,
    maxPeakOpen,
    maxConnections: Math.max(0, ...hosts.map((host) => host.connections)),
    withinCap: maxPeakOpen <= setup.connectionsPerHost,
  };
}

/** Nearest-rank percentile of sorted values; 0 for none. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] ?? 0;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The human-readable summary. */
export function renderSummary(summary: DemoSummary): string {
  const { flowpool: pool, undici: plain } = summary;
  const cap = summary.connectionsPerHost;
  const short = (origin: string): string => origin.replace(/^https?:\/\//, '');
  const table = (rows: readonly (readonly string[])[], indent = '  '): string[] => {
    const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
    return rows.map((row) => indent + row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd((widths[column] ?? 0) + 2))).join('').trimEnd());
  };
  const failures = (flood: FloodSummary): string =>
    flood.failed === 0 ? '' : ` (${Object.entries(flood.failedByCode).map(([code, n]) => `${code} x${n}`).join(', ')})`;
  const lines = [
    `flowpool demo: ${summary.jobs} GETs over ${summary.hosts} loopback hosts (target servers in their own process), ${summary.concurrency} in flight`,
    '',
    ...table([
      ['', `flowpool runtime (${summary.workers} worker${summary.workers === 1 ? '' : 's'})`, 'plain undici Agent (main thread)'],
      ['succeeded', `${pool.succeeded} / ${summary.jobs}${failures(pool)}`, `${plain.succeeded} / ${summary.jobs}${failures(plain)}`],
      ['throughput', `${pool.requestsPerSecond} req/s`, `${plain.requestsPerSecond} req/s`],
      ['latency p50', `${pool.p50Ms.toFixed(2)} ms`, `${plain.p50Ms.toFixed(2)} ms`],
      ['latency p99', `${pool.p99Ms.toFixed(2)} ms`, `${plain.p99Ms.toFixed(2)} ms`],
      ['wall time', `${(pool.durationMs / 1000).toFixed(2)} s`, `${(plain.durationMs / 1000).toFixed(2)} s`],
      ['peak open / host', `${pool.maxPeakOpen} (cap ${cap}: ${pool.withinCap ? 'kept' : 'EXCEEDED'})`, `${plain.maxPeakOpen} (Agent connections: ${cap})`],
    ]),
    '',
    `connections per host, as counted by the target servers (peak open at once / opened; cap ${cap})`,
    ...table([
      ['host', 'flowpool', 'undici', 'flowpool worker(s)'],
      ...pool.hosts.map((host, index) => {
        const other = plain.hosts[index];
        return [
          short(host.origin),
          `${host.peakOpen} / ${host.connections}`,
          other === undefined ? '-' : `${other.peakOpen} / ${other.connections}`,
          (pool.workersPerHost[index]?.workers ?? []).join(', ') || '-',
        ];
      }),
    ]),
    '',
    'hosts per worker (from each result.worker)',
    ...pool.hostsPerWorker.map((entry) => `  worker ${entry.worker}: ${entry.hosts.map(short).join(', ') || '(none)'}`),
    '',
    `throughput ratio, flowpool / plain undici Agent: ${summary.throughputRatio.toFixed(2)}x`,
    '',
  ];
  return lines.join('\n');
}
