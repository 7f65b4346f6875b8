/**
 * The demo's two floods over the same loopback targets: one through the flowpool runtime (`runMany`),
 * one through a plain undici Agent on the main thread, both with the same number of requests in flight.
 * Latency is measured the same way for both: from submission to the last body byte on the main thread.
 */
import { request, type Agent } from 'undici';
import type { HttpJob, Runtime } from '../index.js';

export interface FloodOutcome {
  readonly succeeded: number;
  readonly failed: number;
  /** Failures by flowpool code (or undici / Node code, or `HTTP_<status>` for a status other than 200). */
  readonly failedByCode: Readonly<Record<string, number>>;
  readonly durationMs: number;
  /** Latencies of the succeeded requests, in ms, unsorted. */
  readonly latenciesMs: Float64Array;
}

export interface RuntimeFloodOutcome extends FloodOutcome {
  /** origin -> worker -> jobs it served (from each result's `worker`). */
  readonly servedBy: ReadonlyMap<string, ReadonlyMap<number, number>>;
}

export interface FloodPlan {
  readonly origins: readonly string[];
  readonly jobs: number;
  readonly concurrency: number;
}

/** Job `i` goes to origin `i % hosts`: every host gets the same share, interleaved. */
function urlOf(plan: FloodPlan, index: number): string {
  return `${plan.origins[index % plan.origins.length] ?? ''}/items/${index}`;
}

export async function floodRuntime(
  runtime: Runtime,
  plan: FloodPlan,
  progress: (done: number) => void,
): Promise<RuntimeFloodOutcome> {
  const latencies = new Float64Array(plan.jobs);
  const failedByCode: Record<string, number> = {};
  const servedBy = new Map<string, Map<number, number>>();
  let succeeded = 0;
  let failed = 0;
  function* jobs(): Generator<HttpJob> {
    for (let index = 0; index < plan.jobs; index++) yield { url: urlOf(plan, index) };
  }
  const started = performance.now();
  for await (const result of runtime.runMany(jobs(), { concurrency: plan.concurrency })) {
    if (!result.ok) {
      failed++;
      failedByCode[result.error.code] = (failedByCode[result.error.code] ?? 0) + 1;
    } else if (result.value.status !== 200) {
      failed++;
      const code = `HTTP_${result.value.status}`;
      failedByCode[code] = (failedByCode[code] ?? 0) + 1;
    } else {
      latencies[succeeded++] = result.value.timings.totalMs;
      const origin = plan.origins[result.index % plan.origins.length] ?? '';
      let workers = servedBy.get(origin);
      if (workers === undefined) servedBy.set(origin, (workers = new Map<number, number>()));
      workers.set(result.value.worker, (workers.get(result.value.worker) ?? 0) + 1);
    }
    progress(succeeded + failed);
  }
  return {
    succeeded,
    failed,
    failedByCode,
    durationMs: performance.now() - started,
    latenciesMs: latencies.subarray(0, succeeded),
    servedBy,
  };
}

/** The plain-Agent flood; the caller owns `agent`, so a warm-up and the measured flood share its sockets. */
export async function floodUndici(
  agent: Agent,
  plan: FloodPlan,
  progress: (done: number) => void,
): Promise<FloodOutcome> {
  const latencies = new Float64Array(plan.jobs);
  const failedByCode: Record<string, number> = {};
  let succeeded = 0;
  let failed = 0;
  let next = 0;
  const fail = (code: string): void => {
    failed++;
    failedByCode[code] = (failedByCode[code] ?? 0) + 1;
  };
  // `concurrency` lanes, each taking the next job when its last one finished: the same window as runMany.
  const lane = async (): Promise<void> => {
    for (let index = next++; index < plan.jobs; index = next++) {
      const started = performance.now();
      try {
        const response = await request(urlOf(plan, index), { dispatcher: agent });
        await response.body.text();
        if (response.statusCode === 200) latencies[succeeded++] = performance.now() - started;
        else fail(`HTTP_${response.statusCode}`);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        fail(typeof code === 'string' ? code : 'ERROR');
      }
      progress(succeeded + failed);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(plan.concurrency, plan.jobs) }, lane));
  return {
    succeeded,
    failed,
    failedByCode,
    durationMs: performance.now() - started,
    latenciesMs: latencies.subarray(0, succeeded),
  };
}
