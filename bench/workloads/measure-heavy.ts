/**
 * Measures the heavy workload's own cost on this machine (JSON.parse of the `/large` body, then the
 * transform), so the report can show the CPU each CPU-heavy job carries. Not a benchmark of anything
 * else: one thread, no I/O in the timed part.
 */
import { request } from 'undici';
import { median } from '../stats.js';
import heavyTransform, { HEAVY_PASSES } from './heavy-transform.js';

export interface HeavyCost {
  readonly bodyBytes: number;
  readonly passes: number;
  readonly parseMs: number;
  readonly transformMs: number;
}

export async function measureHeavy(largeUrl: string, samples = 40): Promise<HeavyCost> {
  const { statusCode, body } = await request(largeUrl);
  const text = await body.text();
  if (statusCode !== 200) throw new Error(`GET ${largeUrl}: status ${statusCode}`);
  const parse: number[] = [];
  const transform: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const doc: unknown = JSON.parse(text);
    const t1 = performance.now();
    heavyTransform(doc);
    transform.push(performance.now() - t1);
    parse.push(t1 - t0);
  }
  return {
    bodyBytes: Buffer.byteLength(text),
    passes: HEAVY_PASSES,
    parseMs: median(parse),
    transformMs: median(transform),
  };
}
