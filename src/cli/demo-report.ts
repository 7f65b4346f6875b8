/** The demo's summary: figures from both floods and the target servers' own counts, as data and as text. */
import type { FloodOutcome, RuntimeFloodOutcome } from './demo-flood.js';
import type { TargetProcess } from './target-process.js';

/** What a target server counted for one port. */
type TargetCounts = Awaited<ReturnType<TargetProcess['counts']>>[number];

export interface HostSummary {
  readonly origin: string;
  /** Connections the target server accepted during the run, warm-up included. */
  readonly connections: number;
  /** Of those, the ones accepted during the measured flood (after the warm-up). */
  readonly newAfterWarmup: number;
  /** Most connections open at once, as the target server saw them. */
  readonly peakOpen: number;
  /** Requests the target server answered, warm-up included. */
  readonly requests: number;
}

/** The warm-up flood before the measured one: cold isolates and connections, reported apart. */
export interface WarmupSummary {
  readonly jobs: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly failedByCode: Readonly<Record<string, number>>;
  readonly durationMs: number;
  readonly requestsPerSecond: number;
  /** Connections the target servers accepted during the warm-up, all hosts together. */
  readonly connections: number;
}

/** The measured flood (after the warm-up, if any) and the servers' counts for the whole run. */
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
  /** Connections opened during the measured flood, all hosts together: 0 when the warm-up's were all reused. */
  readonly newConnectionsAfterWarmup: number;
  readonly warmup: WarmupSummary | null;
}

export interface RuntimeFloodSummary extends FloodSummary {
  readonly workersPerHost: readonly { readonly origin: string; readonly workers: readonly number[] }[];
  readonly hostsPerWorker: readonly { readonly worker: number; readonly hosts: readonly string[] }[];
}

export interface DemoSummary {
  readonly jobs: number;
  /** Requests in each client's warm-up flood (0: none). */
  readonly warmup: number;
  readonly hosts: number;
  readonly workers: number;
  readonly connectionsPerHost: number;
  readonly concurrency: number;
  readonly flowpool: RuntimeFloodSummary;
  readonly undici: FloodSummary;
  /** flowpool's throughput over the plain Agent's in the measured floods. */
  readonly throughputRatio: number;
  /** The same ratio for the warm-up floods; null without a warm-up. */
  readonly warmupThroughputRatio: number | null;
}

export interface DemoSetup {
  readonly jobs: number;
  readonly warmup: number;
  readonly origins: readonly string[];
  readonly workers: number;
  readonly connectionsPerHost: number;
  readonly concurrency: number;
}

/** One client's floods: the warm-up (if any) and the measured one, each with the servers' counts after it. */
export interface DemoPhases<T extends FloodOutcome> {
  readonly warmup: { readonly outcome: FloodOutcome; readonly counts: readonly TargetCounts[] } | undefined;
  readonly outcome: T;
  /** The counts at the end: warm-up and measured flood together (nothing is reset between them). */
  readonly counts: readonly TargetCounts[];
}

export function summarise(
  setup: DemoSetup,
  flowpool: DemoPhases<RuntimeFloodOutcome>,
  undici: DemoPhases<FloodOutcome>,
): DemoSummary {
  const pool = summariseFlood(flowpool, setup);
  const plain = summariseFlood(undici, setup);
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
    warmup: setup.warmup,
    hosts: setup.origins.length,
    workers: setup.workers,
    connectionsPerHost: setup.connectionsPerHost,
    concurrency: setup.concurrency,
    flowpool: { ...pool, workersPerHost, hostsPerWorker },
    undici: plain,
    throughputRatio: ratio(pool.requestsPerSecond, plain.requestsPerSecond),
    warmupThroughputRatio:
      pool.warmup === null || plain.warmup === null
        ? null
        : ratio(pool.warmup.requestsPerSecond, plain.warmup.requestsPerSecond),
  };
}

function ratio(ours: number, theirs: number): number {
  return theirs === 0 ? 0 : round(ours / theirs, 2);
}

function requestsPerSecond(outcome: FloodOutcome): number {
  return outcome.durationMs > 0 ? Math.round(((outcome.succeeded + outcome.failed) * 1000) / outcome.durationMs) : 0;
}

function summariseFlood(phases: DemoPhases<FloodOutcome>, setup: DemoSetup): FloodSummary {
  const { outcome, warmup } = phases;
  const sorted = Float64Array.from(outcome.latenciesMs).sort();
  const portOf = (origin: string): number => Number(new URL(origin).port);
  const atEnd = new Map(phases.counts.map((count) => [count.port, count]));
  const atWarm = new Map((warmup?.counts ?? []).map((count) => [count.port, count]));
  const hosts = setup.origins.map((origin): HostSummary => {
    const count = atEnd.get(portOf(origin));
    const connections = count?.connections ?? 0;
    const newAfterWarmup = connections - (atWarm.get(portOf(origin))?.connections ?? 0);
    return { origin, connections, newAfterWarmup, peakOpen: count?.peakOpen ?? 0, requests: count?.requests ?? 0 };
  });
  const maxPeakOpen = Math.max(0, ...hosts.map((host) => host.peakOpen));
  const newConnectionsAfterWarmup = hosts.reduce((sum, host) => sum + host.newAfterWarmup, 0);
  return {
    succeeded: outcome.succeeded,
    failed: outcome.failed,
    failedByCode: outcome.failedByCode,
    durationMs: round(outcome.durationMs, 1),
    requestsPerSecond: requestsPerSecond(outcome),
    p50Ms: round(percentile(sorted, 0.5), 2),
    p99Ms: round(percentile(sorted, 0.99), 2),
    hosts,
    maxPeakOpen,
    maxConnections: Math.max(0, ...hosts.map((host) => host.connections)),
    withinCap: maxPeakOpen <= setup.connectionsPerHost,
    newConnectionsAfterWarmup,
    warmup:
      warmup === undefined
        ? null
        : {
            jobs: setup.warmup,
            succeeded: warmup.outcome.succeeded,
            failed: warmup.outcome.failed,
            failedByCode: warmup.outcome.failedByCode,
            durationMs: round(warmup.outcome.durationMs, 1),
            requestsPerSecond: requestsPerSecond(warmup.outcome),
            connections: hosts.reduce((sum, host) => sum + host.connections - host.newAfterWarmup, 0),
          },
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
    return rows.map(
      (row) =>
        indent +
        row
          .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd((widths[column] ?? 0) + 2)))
          .join('')
          .trimEnd(),
    );
  };
  const failures = (flood: {
    readonly failed: number;
    readonly failedByCode: Readonly<Record<string, number>>;
  }): string =>
    flood.failed === 0
      ? ''
      : ` (${Object.entries(flood.failedByCode)
          .map(([code, n]) => `${code} x${n}`)
          .join(', ')})`;
  const warmupCell = (warmup: WarmupSummary | null): string =>
    warmup === null
      ? '-'
      : `${warmup.succeeded} / ${warmup.jobs}${failures(warmup)}, ${warmup.requestsPerSecond} req/s, ${warmup.connections} conn${warmup.connections === 1 ? '' : 's'} opened`;
  const warmed = summary.warmup > 0;
  const lines = [
    `flowpool demo: ${summary.jobs} GETs over ${summary.hosts} loopback hosts (target servers in their own process), ${summary.concurrency} in flight` +
      (warmed ? `, after a warm-up of ${summary.warmup}` : ''),
    '',
    ...table([
      [
        '',
        `flowpool runtime (${summary.workers} worker${summary.workers === 1 ? '' : 's'})`,
        'plain undici Agent (main thread)',
      ],
      [
        'succeeded',
        `${pool.succeeded} / ${summary.jobs}${failures(pool)}`,
        `${plain.succeeded} / ${summary.jobs}${failures(plain)}`,
      ],
      ['throughput', `${pool.requestsPerSecond} req/s`, `${plain.requestsPerSecond} req/s`],
      ['latency p50', `${pool.p50Ms.toFixed(2)} ms`, `${plain.p50Ms.toFixed(2)} ms`],
      ['latency p99', `${pool.p99Ms.toFixed(2)} ms`, `${plain.p99Ms.toFixed(2)} ms`],
      ['wall time', `${(pool.durationMs / 1000).toFixed(2)} s`, `${(plain.durationMs / 1000).toFixed(2)} s`],
      [
        'peak open / host',
        `${pool.maxPeakOpen} (cap ${cap}: ${pool.withinCap ? 'kept' : 'EXCEEDED'})`,
        `${plain.maxPeakOpen} (Agent connections: ${cap})`,
      ],
      ...(warmed
        ? [
            [
              'new connections',
              `${pool.newConnectionsAfterWarmup} after the warm-up`,
              `${plain.newConnectionsAfterWarmup} after the warm-up`,
            ],
            ['warm-up (cold)', warmupCell(pool.warmup), warmupCell(plain.warmup)],
          ]
        : []),
    ]),
    '',
    `connections per host, as counted by the target servers (peak open at once / opened${warmed ? ', warm-up included' : ''}; cap ${cap})`,
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
    `throughput ratio, flowpool / plain undici Agent: ${summary.throughputRatio.toFixed(2)}x` +
      (summary.warmupThroughputRatio === null ? '' : ` (warm-up, cold: ${summary.warmupThroughputRatio.toFixed(2)}x)`),
    '',
  ];
  return lines.join('\n');
}
