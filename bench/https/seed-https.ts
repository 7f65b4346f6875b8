/**
 * The seed's four over HTTPS, through flowpool and through a main-thread undici Agent, with tinybench
 * against the HTTPS target process: Sequential (one awaited GET), NoPooling (undici, a new TLS connection
 * per request with no session resumption, as a new Go http.Client per request), Concurrent (20 GETs to
 * one host per op), MultipleHosts (one GET to each of 8 hosts per op).
 */
import { Agent, request } from 'undici';
import type { TargetProcess } from '../../src/cli/target-process.js';
import { createRuntime } from '../../src/index.js';
import type { BenchConfig } from '../config.js';
import { CONCURRENT, getThrough, seedBench } from '../seed.js';
import { summariseTask, type TaskSummary } from '../tinybench-summary.js';

export async function runHttpsSeed(config: BenchConfig, targets: TargetProcess, ca: string): Promise<TaskSummary[]> {
  await targets.reset();
  const urls = targets.origins.map((origin) => `${origin}/item`);
  const first = urls[0] ?? '';
  const runtime = createRuntime({ workers: 2, policy: { allow: ['127.0.0.0/8'] }, tls: { ca } });
  const pooled = new Agent({ connect: { ca }, connections: 16 });
  const noPooling = new Agent({ connect: { ca, maxCachedSessions: 0 } });
  const viaFlowpool = getThrough(runtime);
  const viaUndici = async (url: string, dispatcher: Agent, reset = false): Promise<void> => {
    const { statusCode, body } = await request(url, { dispatcher, reset });
    await body.text();
    if (statusCode !== 200) throw new Error(`GET ${url}: status ${statusCode}`);
  };
  try {
    const bench = seedBench(config);
    bench
      .add('Sequential (flowpool)', () => viaFlowpool(first))
      .add('Sequential (undici)', () => viaUndici(first, pooled))
      .add('NoPooling (undici, new TLS connection per request)', () => viaUndici(first, noPooling, true))
      .add(`Concurrent (flowpool, ${CONCURRENT} GETs per op)`, async () => {
        await Promise.all(Array.from({ length: CONCURRENT }, () => viaFlowpool(first)));
      })
      .add(`Concurrent (undici, ${CONCURRENT} GETs per op)`, async () => {
        await Promise.all(Array.from({ length: CONCURRENT }, () => viaUndici(first, pooled)));
      })
      .add(`MultipleHosts (flowpool, ${urls.length} hosts per op)`, async () => {
        await Promise.all(urls.map((url) => viaFlowpool(url)));
      })
      .add(`MultipleHosts (undici, ${urls.length} hosts per op)`, async () => {
        await Promise.all(urls.map((url) => viaUndici(url, pooled)));
      });
    await bench.run();
    return bench.tasks.map(summariseTask);
  } finally {
    await runtime.close();
    await pooled.close();
    await noPooling.close();
  }
}

/** The ratios the issue sets targets for, from the medians above. */
export function httpsSeedRatios(tasks: readonly TaskSummary[]): string[] {
  const median = (prefix: string): number => tasks.find((t) => t.name.startsWith(prefix))?.medianUs ?? Number.NaN;
  const noPooling = median('NoPooling');
  const lines = [
    `NoPooling / Sequential (flowpool): ${(noPooling / median('Sequential (flowpool)')).toFixed(1)}x  (pooling's gain through flowpool; target >= 5x)`,
    `NoPooling / Sequential (undici): ${(noPooling / median('Sequential (undici)')).toFixed(1)}x`,
  ];
  for (const task of ['Sequential', 'Concurrent', 'MultipleHosts']) {
    const ratio = median(`${task} (flowpool`) / median(`${task} (undici`);
    lines.push(`${task}: flowpool / undici median time ${ratio.toFixed(2)}x  (target <= 1.3x)`);
  }
  return lines;
}
