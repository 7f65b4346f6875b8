/**
 * The cost of the caller's hooks per job: the same plain GETs through a runtime without hooks, one whose
 * `beforeRequest` returns the job as it came (the least a hook can do: what the runtime itself adds), and
 * one whose `beforeRequest` adds a header (what a token hook does). All three runtimes live in one process
 * and take turns round by round against the loopback target process. Reported per job: wall time and the
 * main thread's CPU (where hooks run), medians over rounds, each as a ratio to "no hooks" in the same run.
 */
import { createRuntime, type Runtime, type RuntimeHooks } from '../src/index.js';
import type { BenchConfig } from './config.js';
import { mainThreadCpuUs } from './flood/thread-cpu.js';
import { median } from './stats.js';

export interface HooksVariantSummary {
  readonly variant: HooksVariant;
  readonly wallUsPerJob: number;
  /** NaN where the main thread's CPU cannot be read (no /proc). */
  readonly cpuUsPerJob: number;
  readonly wallRatio: number;
  readonly cpuRatio: number;
}

type HooksVariant = 'no hooks' | 'beforeRequest, identity' | 'beforeRequest, adds a header';

const INFLIGHT = 64;

const VARIANTS: readonly { readonly variant: HooksVariant; readonly hooks: RuntimeHooks | undefined }[] = [
  { variant: 'no hooks', hooks: undefined },
  { variant: 'beforeRequest, identity', hooks: { beforeRequest: (job) => job } },
  {
    variant: 'beforeRequest, adds a header',
    hooks: { beforeRequest: (job) => ({ ...job, headers: { ...job.headers, authorization: 'Bearer bench' } }) },
  },
];

export async function runHooks(config: BenchConfig, origin: string): Promise<HooksVariantSummary[]> {
  const jobs = hooksJobs(config);
  const rounds = hooksRounds(config);
  const runtimes = VARIANTS.map(({ hooks }) =>
    createRuntime({ workers: 1, policy: { allow: ['127.0.0.0/8'] }, ...(hooks === undefined ? {} : { hooks }) }),
  );
  const samples = VARIANTS.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  try {
    // Warm-up: workers, connections, the JIT of both paths.
    for (const runtime of runtimes) await batch(runtime, origin, Math.min(jobs, 2_000));
    for (let round = 0; round < rounds; round++) {
      // The order rotates every round, so no variant always runs right after another.
      for (let turn = 0; turn < VARIANTS.length; turn++) {
        const index = (turn + round) % VARIANTS.length;
        const runtime = runtimes[index];
        const sample = samples[index];
        if (runtime === undefined || sample === undefined) continue;
        const cpuBefore = mainThreadCpuUs();
        const started = performance.now();
        await batch(runtime, origin, jobs);
        const wallMs = performance.now() - started;
        const cpuAfter = mainThreadCpuUs();
        sample.wall.push((wallMs * 1000) / jobs);
        sample.cpu.push(cpuBefore === undefined || cpuAfter === undefined ? NaN : (cpuAfter - cpuBefore) / jobs);
      }
    }
  } finally {
    await Promise.all(runtimes.map((runtime) => runtime.close()));
  }
  const baseWall = median(samples[0]?.wall ?? []);
  const baseCpu = median(samples[0]?.cpu ?? []);
  return VARIANTS.map(({ variant }, index) => {
    const wall = median(samples[index]?.wall ?? []);
    const cpu = median(samples[index]?.cpu ?? []);
    return { variant, wallUsPerJob: wall, cpuUsPerJob: cpu, wallRatio: wall / baseWall, cpuRatio: cpu / baseCpu };
  });
}

/** `jobs` GETs of the target's `/item`, INFLIGHT at a time; throws if any did not answer 200. */
async function batch(runtime: Runtime, origin: string, jobs: number): Promise<void> {
  let next = 0;
  const url = `${origin}/item`;
  const lane = async (): Promise<void> => {
    while (next < jobs) {
      next++;
      const result = await runtime.run({ url });
      if (result.status !== 200) throw new Error(`hooks bench: a job answered ${String(result.status)}`);
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, lane));
}

/** Rounds per variant: cheap enough to take five even in quick mode. */
export function hooksRounds(config: BenchConfig): number {
  return Math.max(5, config.rounds);
}

/** Enough jobs per round that the main thread's CPU (read in 10 ms ticks) is measured to a few percent. */
export function hooksJobs(config: BenchConfig): number {
  return config.mode === 'full' ? 20_000 : 5_000;
}

export function hooksTable(rows: readonly HooksVariantSummary[], config: BenchConfig): string {
  const lines = rows.map(
    (row) =>
      `${row.variant.padEnd(30)} ${row.wallUsPerJob.toFixed(1).padStart(9)} us/job wall (${row.wallRatio.toFixed(2)}x)  ${row.cpuUsPerJob.toFixed(1).padStart(9)} us/job main-thread CPU (${row.cpuRatio.toFixed(2)}x)`,
  );
  const title = `hooks cost per job (${hooksJobs(config)} GETs per round, ${INFLIGHT} in flight, 1 worker, medians of ${hooksRounds(config)} rounds; ratios to "no hooks")`;
  return [title, ...lines].join('\n');
}
