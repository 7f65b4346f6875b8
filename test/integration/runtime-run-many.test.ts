/**
 * runMany over a generator: 100,000 jobs through a window of 256, every index exactly once, with the
 * heap bounded while it runs; an invalid job is a result at its index, not the end of the run.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, type HttpJob } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const JOBS = 100_000;
const HEAP_BOUND = 300 * 1024 * 1024;

describe('runtime: runMany', () => {
  const track = closeAfterEach();

  it(`runs ${JOBS} jobs from a generator, each index once, heap bounded`, async () => {
    const server = track(await startCountingServer((_req, res) => res.end('ok')));
    const runtime = track(createRuntime({ workers: 2, policy: LOOPBACK }));
    const origin = server.origin;
    let pulled = 0;
    function* jobs(): Generator<HttpJob> {
      for (let i = 0; i < JOBS; i++) {
        pulled++;
        yield { url: `${origin}/n/${i}` };
      }
    }
    const seen = new Uint8Array(JOBS);
    let results = 0;
    let failures = 0;
    let firstFailure: string | undefined;
    let peakHeap = 0;
    let maxAhead = 0;
    for await (const result of runtime.runMany(jobs(), { concurrency: 256 })) {
      results++;
      seen[result.index] = (seen[result.index] ?? 0) + 1;
      if (!result.ok || result.value.status !== 200 || result.value.body !== 'ok') {
        failures++;
        if (firstFailure === undefined)
          firstFailure = result.ok ? `status ${result.value.status}` : `${result.error.code}: ${result.error.message}`;
      }
      // Jobs pulled from the generator and not yet taken as results: the window in flight plus results
      // waiting to be taken. This consumer never awaits, so at most one window of results waits.
      maxAhead = Math.max(maxAhead, pulled - results);
      if (results % 1000 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }
    expect(results).toBe(JOBS);
    expect(firstFailure).toBeUndefined();
    expect(failures).toBe(0);
    expect(seen.every((count) => count === 1)).toBe(true);
    expect(server.requests).toBe(JOBS);
    expect(maxAhead).toBeLessThanOrEqual(2 * 256);
    expect(peakHeap).toBeGreaterThan(0);
    expect(peakHeap).toBeLessThan(HEAP_BOUND);
  }, 120_000);

  it('yields an invalid job as { ok: false, FLOWPOOL_INVALID_JOB } at its index and runs the rest', async () => {
    const server = track(await startCountingServer());
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    const origin = server.origin;
    async function* jobs(): AsyncGenerator<HttpJob> {
      await Promise.resolve();
      for (let i = 0; i < 20; i++) yield i === 7 ? { url: 'not a url' } : { url: `${origin}/m/${i}` };
    }
    const byIndex = new Map<number, { ok: boolean; code?: string }>();
    for await (const result of runtime.runMany(jobs(), { concurrency: 4 })) {
      byIndex.set(result.index, result.ok ? { ok: true } : { ok: false, code: result.error.code });
    }
    expect(byIndex.size).toBe(20);
    expect(byIndex.get(7)).toEqual({ ok: false, code: 'FLOWPOOL_INVALID_JOB' });
    for (let i = 0; i < 20; i++) if (i !== 7) expect(byIndex.get(i)).toEqual({ ok: true });
    expect(server.requests).toBe(19);
  });

  // Regression: the window counted only jobs in flight, so a slow consumer let the whole input be
  // pulled and buffered (2875 of 3000 jobs ahead of the consumer). Results not yet taken count too.
  it('reads the input only as fast as results are consumed', async () => {
    const server = track(await startCountingServer((_req, res) => res.end('ok')));
    const runtime = track(createRuntime({ workers: 1, policy: { allow: ['127.0.0.0/8'] } }));
    const origin = server.origin;
    let pulled = 0;
    function* jobs(): Generator<HttpJob> {
      for (let i = 0; i < 2000; i++) {
        pulled++;
        yield { url: `${origin}/${i}` };
      }
    }
    let consumed = 0;
    let maxAhead = 0;
    for await (const result of runtime.runMany(jobs(), { concurrency: 16 })) {
      expect(result.ok).toBe(true);
      consumed++;
      maxAhead = Math.max(maxAhead, pulled - consumed);
      if (consumed <= 200) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(consumed).toBe(2000);
    expect(maxAhead).toBeLessThanOrEqual(17);
  }, 60_000);
});
