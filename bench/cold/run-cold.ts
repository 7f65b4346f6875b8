/**
 * Cold start (`--only cold`): a new client's first jobs (10,000; quick 3,000) in a fresh process each, the
 * variants interleaved round by round: a new undici Agent (at its fastest, and with URL strings) against a
 * new flowpool runtime timed from `createRuntime` and from `ready()`. Reported: medians of jobs/s over the
 * first jobs and the ratio to each undici baseline.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TargetProcess } from '../../src/cli/target-process.js';
import type { BenchConfig } from '../config.js';
import { fmt, fmtInt, fmtRatio, renderTable } from '../report/table.js';
import { median } from '../stats.js';
import type { ColdResult, ColdVariant } from './cold-child.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./cold-child.js', import.meta.url));
const VARIANTS: readonly ColdVariant[] = ['undici-fastest', 'undici', 'flowpool', 'flowpool-ready'];
/** The runtime's default on this machine is what an engine gets cold. */
const WORKERS = 2;

export interface ColdRow {
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
  const results = new Map<ColdVariant, ColdResult[]>();
  for (let round = 0; round < rounds; round++) {
    for (const variant of VARIANTS) {
      await targets.reset();
      const { stdout } = await run(
        process.execPath,
        [CHILD, variant, String(WORKERS), String(jobs), targets.origins.join(',')],
        { timeout: config.variantTimeoutMs },
      );
      const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ColdResult;
      results.set(variant, [...(results.get(variant) ?? []), result]);
      log(
        `  round ${String(round + 1)} ${variant}: ${fmtInt((jobs / result.totalMs) * 1000)} jobs/s` +
          (result.readyMs === undefined ? '' : ` (ready after ${result.readyMs.toFixed(0)} ms)`),
      );
    }
  }
  const rows = VARIANTS.map((variant) => {
    const runs = results.get(variant) ?? [];
    const readies = runs.map((r) => r.readyMs).filter((v): v is number => v !== undefined);
    return {
      variant,
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
  const label: Record<ColdVariant, string> = {
    'undici-fastest': 'new Agent, agent.request({ origin, path })',
    undici: 'new Agent, request(url, { dispatcher })',
    flowpool: `new runtime (${String(WORKERS)} workers), from createRuntime`,
    'flowpool-ready': `new runtime (${String(WORKERS)} workers), from ready()`,
  };
  return renderTable(
    ['client', 'jobs/s', 'vs fastest', 'vs undici', 'ready() ms'],
    rows.map((r) => [
      r.failures > 0 ? `${label[r.variant]} (!${String(r.failures)} failed)` : label[r.variant],
      fmtInt(r.jobsPerSec),
      fmtRatio(r.jobsPerSec / fastest),
      fmtRatio(r.jobsPerSec / typical),
      fmt(r.readyMs, 0),
    ]),
    ['left', 'right', 'right', 'right', 'right'],
  );
}
