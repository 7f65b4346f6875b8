/**
 * The seed's four benchmarks, through flowpool, with tinybench against the loopback target process:
 * Sequential (one awaited GET), NoPooling (one GET on a fresh connection through undici: the seed's
 * comparison), Concurrent (20 concurrent GETs to one host per op), MultipleHosts (one GET to each of 8
 * hosts per op).
 */
import { Bench } from 'tinybench';
import { Agent, request } from 'undici';
import type { TargetProcess } from '../src/cli/target-process.js';
import { createRuntime, type Runtime } from '../src/index.js';
import type { BenchConfig } from './config.js';
import { summariseTask, type TaskSummary } from './tinybench-summary.js';

/** GETs per op of the Concurrent task (the seed's figure). */
export const CONCURRENT = 20;

/** The seed's tinybench settings, shared by the HTTP and HTTPS runs. */
export function seedBench(config: BenchConfig): Bench {
  return new Bench({ time: config.tinybenchTimeMs, warmupTime: Math.min(250, config.tinybenchTimeMs), throws: true });
}

/** One GET through flowpool that throws on anything but 200 (tinybench then reports the task failed). */
export function getThrough(runtime: Runtime): (url: string) => Promise<void> {
  return async (url) => {
    const result = await runtime.run({ url });
    if (result.status !== 200) throw new Error(`GET ${url}: status ${result.status}`);
  };
}

export async function runSeed(config: BenchConfig, targets: TargetProcess): Promise<TaskSummary[]> {
  await targets.reset();
  const urls = targets.origins.map((origin) => `${origin}/item`);
  const first = urls[0] ?? '';
  const runtime = createRuntime({ workers: 2, policy: { allow: ['127.0.0.0/8'] } });
  const noPooling = new Agent();
  const get = getThrough(runtime);
  try {
    const bench = seedBench(config);
    bench
      .add('Sequential', () => get(first))
      .add('NoPooling (undici, reset: true)', async () => {
        const { statusCode, body } = await request(first, { dispatcher: noPooling, reset: true });
        await body.text();
        if (statusCode !== 200) throw new Error(`GET ${first}: status ${statusCode}`);
      })
      .add(`Concurrent (${CONCURRENT} GETs per op)`, async () => {
        await Promise.all(Array.from({ length: CONCURRENT }, () => get(first)));
      })
      .add(`MultipleHosts (${urls.length} hosts per op)`, async () => {
        await Promise.all(urls.map((url) => get(url)));
      });
    await bench.run();
    return bench.tasks.map(summariseTask);
  } finally {
    await runtime.close();
    await noPooling.close();
  }
}
