/**
 * The mix's load loop, the same for both clients: `inflight` lanes take the next job of the list until
 * `count` are done, count each job's outcome (its status, or its error's code) and time the quiet
 * tenants' jobs to fast hosts from submission to the parsed body. Nothing is retried.
 */
import { mainThreadCpuUs } from '../flood/thread-cpu.js';
import { quantileSorted } from '../stats.js';
import type { MixJob } from './jobs.js';
import type { OutcomeCounts } from './protocol.js';

export interface MixRun {
  readonly jobs: number;
  readonly elapsedMs: number;
  readonly eluActiveMs: number;
  /** Process CPU (user + system, every thread), µs. */
  readonly cpuUs: number;
  /** Main-thread CPU, µs; undefined where the platform does not tell. */
  readonly mainCpuUs: number | undefined;
  readonly quietP50Ms: number;
  readonly quietP99Ms: number;
  readonly quietSamples: number;
  readonly outcomes: OutcomeCounts;
}

export async function driveMix(
  fire: (job: MixJob) => Promise<number>,
  jobs: readonly MixJob[],
  count: number,
  inflight: number,
): Promise<MixRun> {
  const quiet: number[] = [];
  const outcomes = new Map<string, number>();
  const count1 = (key: string): void => {
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  };
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const job = jobs[next++ % jobs.length];
      if (job === undefined) continue;
      const started = performance.now();
      try {
        count1(String(await fire(job)));
      } catch (error) {
        count1(errorCode(error));
      }
      if (job.quietFast) quiet.push(performance.now() - started);
    }
  };
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const mainCpu = mainThreadCpuUs();
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(inflight, count) }, lane));
  const elapsedMs = performance.now() - started;
  const cpuUsed = process.cpuUsage(cpu);
  const mainCpuEnd = mainThreadCpuUs();
  const eluUsed = performance.eventLoopUtilization(elu);
  const sorted = Float64Array.from(quiet).sort();
  return {
    jobs: count,
    elapsedMs,
    eluActiveMs: eluUsed.active,
    cpuUs: cpuUsed.user + cpuUsed.system,
    mainCpuUs: mainCpu === undefined || mainCpuEnd === undefined ? undefined : mainCpuEnd - mainCpu,
    quietP50Ms: quantileSorted(sorted, 0.5),
    quietP99Ms: quantileSorted(sorted, 0.99),
    quietSamples: sorted.length,
    outcomes: Object.fromEntries([...outcomes].sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** An error's `code` (FlowpoolError, undici and Node errors all carry one), else its name. */
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'unknown error';
}
