/**
 * The load loop every variant runs through, so that only the client differs: `inflight` lanes take the
 * next job index until `jobs` are done (bounded), each timing its request from submission to the body
 * read. A request that throws is counted, not retried.
 */
import { quantileSorted } from '../stats.js';
import { mainThreadCpuUs } from './thread-cpu.js';

/** Runs job `index` and resolves with its HTTP status once the body has been consumed. */
export type Fire = (index: number) => Promise<number>;

export interface LoadRun {
  readonly jobs: number;
  readonly elapsedMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly nonOk: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  /** Main-thread event-loop active time over the run, ms. */
  readonly eluActiveMs: number;
  /** Process CPU (user + system, all threads) over the run, µs. */
  readonly cpuUs: number;
  /** Main-thread CPU over the run, µs; undefined where the platform does not tell. */
  readonly mainCpuUs: number | undefined;
}

export async function drive(fire: Fire, jobs: number, inflight: number, firstIndex: number): Promise<LoadRun> {
  const latencies = new Float64Array(jobs);
  let next = 0;
  let nonOk = 0;
  let errors = 0;
  let firstError: string | undefined;
  const lane = async (): Promise<void> => {
    while (next < jobs) {
      const i = next++;
      const started = performance.now();
      try {
        const status = await fire(firstIndex + i);
        if (status !== 200) nonOk++;
      } catch (error) {
        errors++;
        firstError ??= describe(error);
      }
      latencies[i] = performance.now() - started;
    }
  };
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const mainCpu = mainThreadCpuUs();
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(inflight, jobs) }, lane));
  const elapsedMs = performance.now() - started;
  const cpuUsed = process.cpuUsage(cpu);
  const mainCpuEnd = mainThreadCpuUs();
  const eluUsed = performance.eventLoopUtilization(elu);
  latencies.sort();
  return {
    jobs,
    elapsedMs,
    p50Ms: quantileSorted(latencies, 0.5),
    p99Ms: quantileSorted(latencies, 0.99),
    nonOk,
    errors,
    firstError,
    eluActiveMs: eluUsed.active,
    cpuUs: cpuUsed.user + cpuUsed.system,
    mainCpuUs: mainCpu === undefined || mainCpuEnd === undefined ? undefined : mainCpuEnd - mainCpu,
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
