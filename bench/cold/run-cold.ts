/**
 * Cold start (`--only cold`): a new client's first jobs (10,000; quick 3,000) in a fresh process each, the
 * variants interleaved round by round: a new undici Agent (at its fastest, and with URL strings) against a
 * new flowpool runtime (default workers) timed from `createRuntime` and from `ready()`, and one with a
 * single worker from `ready()`. Reported: medians of jobs/s over the
 * first jobs and the ratio to each undici baseline.
 */
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TargetProcess } from '../../src/cli/target-process.js';
import type { BenchConfig } from '../config.js';
import { fmt, fmtInt, fmtRatio, renderTable } from '../report/table.js';
import { median } from '../stats.js';
import type { ColdResult, ColdVariant } from './cold-child.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./cold-child.js', import.meta.url));
/** One cold client: undici (no workers) or flowpool with a worker count. */
interface ColdClient {
  readonly variant: ColdVariant;
  readonly workers: number;
}

/** Both undici forms; flowpool at the default worker count (from createRuntime and from ready()) and with one. */
function coldClients(): ColdClient[] {
  const defaultWorkers = Math.max(1, availableParallelism());
  const clients: ColdClient[] = [
    { variant: 'undici-fastest', workers: 0 },
    { variant: 'undici', workers: 0 },
    { variant: 'flowpool', workers: defaultWorkers },
    { variant: 'flowpool-ready', workers: defaultWorkers },
  ];
  if (defaultWorkers !== 1) clients.push({ variant: 'flowpool-ready', workers: 1 });
  return clients;
}

function labelOf(client: ColdClient): string {
  const workers = `${String(client.workers)} worker${client.workers === 1 ? '' : 's'}`;
  switch (client.variant) {
    case 'undici-fastest':
      return 'new Agent, agent.request({ origin, path })';
    case 'undici':
      return 'new Agent, request(url, { dispatcher })';
    case 'flowpool':
      return `new runtime (${workers}), from createRuntime`;
    case 'flowpool-ready':
      return `new runtime (${workers}), from ready()`;
  }
}

export interface ColdRow {
  readonly label: string;
  readonly variant: ColdVariant;
  readonly jobsPerSec: number;
  readonly readyMs: number | undefined;
  readonly failures: number;
}

export async function runCold(
  config: BenchConfig,
  targets: TargetProcess,
  log: (line: string) => void,
): Promise<{ jobs: number; rows: ColdRow[] }> {
  const jobs = config.mode === 'full' ? 10_000 : 3_000;
  const rounds = config.mode === 'full' ? 5 : 2;
  const clients = coldClients();
  const results = new Map<string, ColdResult[]>();
  for (let round = 0; round < rounds; round++) {
    for (const client of clients) {
      await targets.reset();
      const { stdout } = await run(
        process.execPath,
        [CHILD, client.variant, String(client.workers), String(jobs), targets.origins.join(',')],
        { timeout: config.variantTimeoutMs },
      );
      const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ColdResult;
      const label = labelOf(client);
      results.set(label, [...(results.get(label) ?? []), result]);
      log(
        `  round ${String(round + 1)} ${label}: ${fmtInt((jobs / result.totalMs) * 1000)} jobs/s` +
          (result.readyMs === undefined ? '' : ` (ready after ${result.readyMs.toFixed(0)} ms)`),
      );
    }
  }
  const rows = clients.map((client) => {
    const label = labelOf(client);
    const runs = results.get(label) ?? [];
    const readies = runs.map((r) => r.readyMs).filter((v): v is number => v !== undefined);
    return {
      label,
      variant: client.variant,
      jobsPerSec: median(runs.map((r) => (jobs / r.totalMs) * 1000)),
      readyMs: readies.length === 0 ? undefined : median(readies),
      failures: runs.reduce((sum, r) => sum + r.failures, 0),
    };
  });
  return { jobs, rows };
}

export function coldTable(rows: readonly ColdRow[]): string {
  const fastest = rows.find((r) => r.variant === 'undici-fastest')?.jobsPerSec ?? Number.NaN;
  const typical = rows.find((r) => r.variant === 'undici')?.jobsPerSec ?? Number.NaN;
  return renderTable(
    ['client', 'jobs/s', 'vs fastest', 'vs undici', 'ready() ms'],
    rows.map((r) => [
      r.failures > 0 ? `${r.label} (!${String(r.failures)} failed)` : r.label,
      fmtInt(r.jobsPerSec),
      fmtRatio(r.jobsPerSec / fastest),
      fmtRatio(r.jobsPerSec / typical),
      fmt(r.readyMs, 0),
    ]),
    ['left', 'right', 'right', 'right', 'right'],
  );
}
