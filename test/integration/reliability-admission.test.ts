/**
 * Admission under a flood: with `maxQueue: 100` and a server holding every answer, 5,000 `run()` calls
 * made at once are admitted up to (running + 100); the rest reject with FLOWPOOL_QUEUE_FULL before any
 * job finished (the server has answered nothing yet), and keep nothing alive: the heap after 55,000
 * refused jobs is what it was after the first 5,000. `runMany` over the same full queue waits instead:
 * it queues past maxQueue (its own window bounds it) and never rejects with FLOWPOOL_QUEUE_FULL.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, type HttpJob } from '../../dist/src/index.js';
import { allWithin, MB, settledHeap } from '../fixtures/bounded.js';
import { rawGate } from '../fixtures/raw-behaviours.js';
import { startRawServer } from '../fixtures/raw-server.js';
import { settle, waitUntil } from '../fixtures/wait.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const MAX_QUEUE = 100;
const BURST = 5_000;
const MORE_BURSTS = 10;

describe('reliability: admission (maxQueue) and runMany backpressure', () => {
  const track = closeAfterEach();

  it('rejects the overflow of 5,000 run() calls at once with FLOWPOOL_QUEUE_FULL, heap flat; the admitted ones succeed', async () => {
    const gate = rawGate();
    const server = track(await startRawServer(gate.behaviour));
    const runtime = track(createRuntime({ workers: 2, maxQueue: MAX_QUEUE, policy: { allow: ['127.0.0.1'] } }));
    const url = `${server.origin}/admitted`;
    // Warm the runtime (workers up, code paths compiled) so the heap baseline is not its start-up.
    gate.release();
    await runtime.run({ url });
    gate.hold();
    // Both workers must be taking jobs before the burst: one that finishes booting during it would
    // take queued jobs (the origin spills to it) and the queue would no longer be full.
    for (let attempt = 0; attempt < 250; attempt++) {
      if ((await runtime.stats()).workers.every((w) => w.threadId !== undefined)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await runtime.stats()).workers.map((w) => w.threadId !== undefined)).toEqual([true, true]);
    const baseline = settledHeap();

    let queueFull = 0;
    let otherErrors = 0;
    const admitted: Promise<unknown>[] = [];
    const count = (error: unknown): void => {
      if ((error as { code?: unknown }).code === 'FLOWPOOL_QUEUE_FULL') queueFull++;
      else otherErrors++;
    };
    // Refused promises are counted and dropped; admitted ones are kept (they must resolve later).
    for (let i = 0; i < BURST; i++) {
      const promise = runtime.run({ url: `${url}/${i}` });
      promise.catch(count);
      admitted.push(promise);
    }
    // One macrotask later: every refusal has landed, and no job has finished (the server answered none).
    await new Promise((resolve) => setImmediate(resolve));
    const stats = await runtime.stats();
    const running = stats.totals.running;
    expect(running).toBeGreaterThan(0);
    expect(stats.totals.queued).toBe(MAX_QUEUE);
    expect(queueFull).toBe(BURST - (running + MAX_QUEUE));
    expect(otherErrors).toBe(0);
    expect(stats.totals.succeeded).toBe(1); // the warm-up only
    expect(stats.totals.failedByCode.FLOWPOOL_QUEUE_FULL).toBe(queueFull);
    const afterBurst = settledHeap();

    // Keep flooding the full queue: 50,000 more, every one refused, none retained.
    for (let burst = 0; burst < MORE_BURSTS; burst++) {
      for (let i = 0; i < BURST; i++) runtime.run({ url: `${url}/more/${burst}/${i}` }).catch(count);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(queueFull).toBe(BURST - (running + MAX_QUEUE) + MORE_BURSTS * BURST);
    const afterFlood = settledHeap();
    const heap = `heap: baseline ${(baseline / MB).toFixed(1)} MB, after the burst ${(afterBurst / MB).toFixed(1)} MB, after 50,000 more refusals ${(afterFlood / MB).toFixed(1)} MB`;
    // 200 admitted jobs cost little; 50,000 refused ones cost nothing that lasts.
    expect(afterBurst - baseline, heap).toBeLessThan(16 * MB);
    expect(afterFlood - afterBurst, heap).toBeLessThan(4 * MB);
    await waitUntil(() => gate.held === running, `the server to hold the ${running} running requests`);

    gate.release();
    const settled = await allWithin(
      admitted.map((p) => settle(p)),
      'jobs of the burst',
    );
    const ok = settled.filter((s) => s.ok).length;
    expect(ok).toBe(running + MAX_QUEUE);
    expect(settled.length - ok).toBe(BURST - (running + MAX_QUEUE));
    expect(server.requests).toBe(1 + running + MAX_QUEUE);
  }, 60_000);

  it('runMany over a full queue waits instead of rejecting: 5,000 jobs, queue past maxQueue, no FLOWPOOL_QUEUE_FULL', async () => {
    const gate = rawGate();
    const server = track(await startRawServer(gate.behaviour));
    const runtime = track(createRuntime({ workers: 2, maxQueue: MAX_QUEUE, policy: { allow: ['127.0.0.1'] } }));
    const origin = server.origin;
    let pulled = 0;
    function* jobs(): Generator<HttpJob> {
      for (let i = 0; i < BURST; i++) {
        pulled++;
        yield { url: `${origin}/many/${i}` };
      }
    }
    const codes = new Map<string, number>();
    let ok = 0;
    const consumed = (async () => {
      for await (const result of runtime.runMany(jobs(), { concurrency: 1_000 })) {
        if (result.ok) ok++;
        else codes.set(result.error.code, (codes.get(result.error.code) ?? 0) + 1);
      }
    })();

    // The window is full: the running jobs are held, the rest wait in the queue, past maxQueue.
    await waitUntil(() => pulled === 1_000, 'runMany to fill its window of 1,000');
    const stats = await runtime.stats();
    await waitUntil(() => gate.held === stats.totals.running, 'the server to hold the running requests');
    expect(stats.totals.running + stats.totals.queued).toBe(1_000);
    expect(stats.totals.queued).toBeGreaterThan(MAX_QUEUE);
    // Backpressure: nothing more was pulled from the input while nothing finished.
    expect(pulled).toBe(1_000);

    gate.release();
    await allWithin([consumed], 'runMany');
    expect(ok).toBe(BURST);
    expect([...codes]).toEqual([]);
    expect(pulled).toBe(BURST);
    expect((await runtime.stats()).totals.failedByCode.FLOWPOOL_QUEUE_FULL).toBeUndefined();
  }, 60_000);
});
