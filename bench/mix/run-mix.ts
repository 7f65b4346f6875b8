/**
 * The realistic mix (`--only mix`): its own target process (40 loopback hosts of five kinds, layout.ts),
 * and ONE child process holding both clients, flowpool and a main-thread undici Agent, taking turns over
 * the same seeded job list (mix-child.ts). Reported per client: medians over the rounds, ratios
 * flowpool/undici, the outcomes by class, and the load average at the start and end of the suite.
 */
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTargetProcess } from '../../src/cli/target-process.js';
import type { BenchConfig } from '../config.js';
import { median } from '../stats.js';
import { hostKinds } from './layout.js';
import type { MixBlock, MixClientName, MixReport, MixSpec, OutcomeCounts } from './protocol.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./mix-child.js', import.meta.url));
const TARGETS = new URL('./mix-target-server.js', import.meta.url);
const CLIENTS: readonly MixClientName[] = ['flowpool', 'undici'];

/** A client's medians over its blocks, its outcomes summed over them. */
export interface MixRow {
  readonly label: MixClientName;
  readonly blocks: number;
  readonly jobsPerSec: number;
  readonly eluUsPerJob: number;
  readonly mainCpuUsPerJob: number | undefined;
  readonly cpuUsPerJob: number;
  readonly quietP50Ms: number;
  readonly quietP99Ms: number;
  readonly outcomes: OutcomeCounts;
}

export interface MixResult {
  readonly title: string;
  readonly spec: Omit<MixSpec, 'origins'>;
  /** 1, 5 and 15-minute load averages when the suite started and when it ended. */
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly rows: readonly MixRow[];
  /** Every block raw, by round, in the order they ran. */
  readonly rounds: readonly (readonly MixBlock[])[];
}

/** Sizes by mode: smoke is a brief check that both clients run the mix, not a measurement. */
function mixSpec(config: BenchConfig, origins: readonly string[]): MixSpec {
  const common = { origins, inflight: 512, connectionsPerHost: 16, workers: 2 };
  if (config.mode === 'smoke') return { ...common, jobs: 300, warmup: 0, rounds: 1 };
  if (config.mode === 'quick') return { ...common, jobs: 3_000, warmup: 1_000, rounds: Math.max(2, config.rounds) };
  return { ...common, jobs: 30_000, warmup: 10_000, rounds: Math.max(5, config.rounds) };
}

export async function runMix(config: BenchConfig, log: (line: string) => void): Promise<MixResult> {
  const start = loadavg();
  const targets = await startTargetProcess(hostKinds().length, TARGETS);
  try {
    const spec = mixSpec(config, targets.origins);
    const title = `Realistic mix: ${String(spec.jobs)} jobs per block (80% GET, 20% JSON POST, responseType json) from 200 tenants (one with 60%) over 40 hosts (fast, slow, flaky, rate-limited, refusing), ${String(spec.inflight)} in flight, 16 connections per host, flowpool with ${String(spec.workers)} workers`;
    log(`\n${title} (${String(spec.rounds)} round(s), one process)`);
    const stdout = await runChild(spec, config.variantTimeoutMs * 4);
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as MixReport;
    for (const [i, blocks] of report.rounds.entries()) {
      log(
        `  round ${String(i + 1)}: ${blocks.map((b) => `${b.label} ${Math.round(b.jobsPerSec).toLocaleString('en-US')}/s`).join(' | ')}`,
      );
    }
    const { origins: _origins, ...sizes } = spec;
    return {
      title,
      spec: sizes,
      loadAverage: { start: rounded(start), end: rounded(loadavg()) },
      rows: summarize(report.rounds),
      rounds: report.rounds,
    };
  } finally {
    await targets.stop();
  }
}

/** The child's output; a child that fails is reported by its exit and its error line, not its argv. */
async function runChild(spec: MixSpec, timeoutMs: number): Promise<string> {
  try {
    return (await run(process.execPath, [CHILD, JSON.stringify(spec)], { timeout: timeoutMs, maxBuffer: 1 << 22 }))
      .stdout;
  } catch (error) {
    const { code, signal, stderr } = error as { code?: unknown; signal?: unknown; stderr?: unknown };
    // Node prints its version last: the line that names the error is the one to show.
    const lines = typeof stderr === 'string' ? stderr.trim().split('\n') : [];
    const cause = lines.find((line) => /^mix child:|Error\b/.test(line)) ?? lines.at(-1) ?? '';
    throw new Error(`the mix child failed (exit ${String(code)}, signal ${String(signal)}): ${cause}`);
  }
}

function rounded(values: readonly number[]): number[] {
  return values.map((v) => Math.round(v * 100) / 100);
}

function summarize(rounds: readonly (readonly MixBlock[])[]): MixRow[] {
  return CLIENTS.map((label) => {
    const blocks = rounds.flatMap((round) => round.filter((b) => b.label === label));
    const mains = blocks.map((b) => b.mainCpuUsPerJob).filter((v): v is number => v !== undefined);
    const outcomes: Record<string, number> = {};
    for (const block of blocks) {
      for (const [key, n] of Object.entries(block.outcomes)) outcomes[key] = (outcomes[key] ?? 0) + n;
    }
    return {
      label,
      blocks: blocks.length,
      jobsPerSec: median(blocks.map((b) => b.jobsPerSec)),
      eluUsPerJob: median(blocks.map((b) => b.eluUsPerJob)),
      mainCpuUsPerJob: mains.length === 0 ? undefined : median(mains),
      cpuUsPerJob: median(blocks.map((b) => b.cpuUsPerJob)),
      quietP50Ms: median(blocks.map((b) => b.quietP50Ms)),
      quietP99Ms: median(blocks.map((b) => b.quietP99Ms)),
      outcomes,
    };
  });
}
