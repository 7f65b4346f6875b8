/**
 * The same-process A/B harness (`--only ab`), beside the per-process one: for each workload (flood, CPU-heavy,
 * sequential), ONE child process holds every client at once (undici at its fastest, undici as typically
 * written, flowpool with 1, 2 and availableParallelism workers), long-lived, taking turns in rotating order
 * (ab-child.ts). Reported per client: medians over the rounds, and ratios to both undici baselines computed
 * from those medians. This is also the default-`workers` table.
 */
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TargetProcess } from '../../src/cli/target-process.js';
import type { BenchConfig } from '../config.js';
import { fmt, fmtInt, fmtRatio, renderTable } from '../report/table.js';
import { median } from '../stats.js';
import type { AbBlock, AbClient, AbReport, AbSpec } from './protocol.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./ab-child.js', import.meta.url));
const HEAVY_TRANSFORM = fileURLToPath(new URL('../workloads/heavy-transform.js', import.meta.url));

export interface AbWorkloadResult {
  readonly name: 'flood' | 'cpu-heavy' | 'sequential';
  readonly title: string;
  readonly rows: readonly AbRow[];
}

/** A client's medians over its blocks (failures summed): the shape of one block. */
export type AbRow = AbBlock;

const FASTEST = 'undici-fastest';
const TYPICAL = 'undici';

/** The clients every workload compares: both undici baselines and flowpool at each worker count. */
export function abClients(): AbClient[] {
  const counts = [...new Set([1, 2, availableParallelism()])].sort((a, b) => a - b);
  return [
    { label: FASTEST, variant: 'undici-fastest', workers: 0 },
    { label: TYPICAL, variant: 'undici', workers: 0 },
    ...counts.map((workers) => ({
      label: `flowpool, ${String(workers)} worker${workers === 1 ? '' : 's'}`,
      variant: 'flowpool' as const,
      workers,
    })),
  ];
}

export async function runAb(config: BenchConfig, targets: TargetProcess, log: (line: string) => void) {
  const small = config.mode !== 'full';
  const rounds = small ? 2 : 5;
  const clients = abClients();
  const common = { origins: targets.origins, connectionsPerHost: 16, heavyTransform: HEAVY_TRANSFORM, clients };
  const workloads: { name: AbWorkloadResult['name']; title: string; spec: AbSpec }[] = [
    {
      name: 'flood',
      title: 'A/B flood: GETs of ~229 B over 8 hosts, 256 in flight, 16 connections per host',
      spec: {
        ...common,
        path: '/item',
        workload: 'small',
        inflight: 256,
        rounds,
        ...sizes(small, 2_000, 10_000, 5_000, 20_000),
      },
    },
    {
      name: 'cpu-heavy',
      title: 'A/B CPU-heavy: GETs of ~50 KB JSON, parsed and transformed (~5 ms CPU), 64 in flight over 8 hosts',
      spec: {
        ...common,
        path: '/large',
        workload: 'heavy',
        inflight: 64,
        rounds: small ? 2 : 3,
        ...sizes(small, 64, 200, 150, 500),
      },
    },
    {
      name: 'sequential',
      title: 'A/B sequential: awaited GETs of ~229 B to one host, one at a time',
      spec: {
        ...common,
        origins: targets.origins.slice(0, 1),
        path: '/item',
        workload: 'small',
        inflight: 1,
        rounds,
        ...sizes(small, 1_000, 5_000, 300, 2_000),
      },
    },
  ];
  const results: AbWorkloadResult[] = [];
  for (const workload of workloads) {
    log(`\n${workload.title} (${String(workload.spec.rounds)} rounds, one process)`);
    await targets.reset();
    const { stdout } = await run(process.execPath, [CHILD, JSON.stringify(workload.spec)], {
      timeout: config.variantTimeoutMs * 4,
      maxBuffer: 1 << 20,
    });
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as AbReport;
    for (const [i, blocks] of report.rounds.entries()) {
      log(`  round ${String(i + 1)}: ${blocks.map((b) => `${b.label} ${fmtInt(b.reqPerSec)}/s`).join(' | ')}`);
    }
    results.push({ name: workload.name, title: workload.title, rows: summarize(clients, report.rounds) });
  }
  return results;
}

/** Warm-up and block sizes, quick or full. */
function sizes(
  small: boolean,
  quickWarmup: number,
  fullWarmup: number,
  quickBlock: number,
  fullBlock: number,
): { warmup: number; block: number } {
  return small ? { warmup: quickWarmup, block: quickBlock } : { warmup: fullWarmup, block: fullBlock };
}

function summarize(clients: readonly AbClient[], rounds: readonly (readonly AbBlock[])[]): AbRow[] {
  return clients.map(({ label }) => {
    const blocks = rounds.flatMap((round) => round.filter((b) => b.label === label));
    const mains = blocks.map((b) => b.mainCpuUsPerJob).filter((v): v is number => v !== undefined);
    return {
      label,
      reqPerSec: median(blocks.map((b) => b.reqPerSec)),
      usPerJob: median(blocks.map((b) => b.usPerJob)),
      cpuUsPerJob: median(blocks.map((b) => b.cpuUsPerJob)),
      mainCpuUsPerJob: mains.length === 0 ? undefined : median(mains),
      failures: blocks.reduce((sum, b) => sum + b.failures, 0),
    };
  });
}

/** Throughput (flood, CPU-heavy) or time per job (sequential), each against both undici baselines. */
export function abTable(result: AbWorkloadResult): string {
  const fastest = result.rows.find((r) => r.label === FASTEST);
  const typical = result.rows.find((r) => r.label === TYPICAL);
  const sequential = result.name === 'sequential';
  const rows = result.rows.map((r) => {
    const speed = (base: AbRow | undefined): number =>
      base === undefined ? Number.NaN : sequential ? r.usPerJob / base.usPerJob : r.reqPerSec / base.reqPerSec;
    return [
      r.failures > 0 ? `${r.label} (!${String(r.failures)} failed)` : r.label,
      sequential ? fmtInt(r.usPerJob) : fmtInt(r.reqPerSec),
      fmtRatio(speed(fastest)),
      fmtRatio(speed(typical)),
      fmt(r.cpuUsPerJob, 1),
      fmtRatio(fastest === undefined ? Number.NaN : r.cpuUsPerJob / fastest.cpuUsPerJob),
      fmt(r.mainCpuUsPerJob, 1),
    ];
  });
  return renderTable(
    [
      'client',
      sequential ? 'µs/job' : 'req/s',
      sequential ? 'time vs fastest' : 'vs fastest',
      sequential ? 'time vs undici' : 'vs undici',
      'all CPU µs/job',
      'CPU vs fastest',
      'main CPU µs/job',
    ],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}

/** Failed requests in any block: the orchestrator's exit code counts them. */
export function abFailures(results: readonly AbWorkloadResult[]): string[] {
  return results.flatMap((r) => r.rows.filter((row) => row.failures > 0).map((row) => `ab/${r.name}/${row.label}`));
}
