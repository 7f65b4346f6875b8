/**
 * maxQueue: with one worker, one job in flight and one connection, 20 jobs submitted at once give
 * 1 running + 10 queued; the other 9 reject with FLOWPOOL_QUEUE_FULL before anything else settles.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { delayed } from '../fixtures/handlers.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const OPTIONS = { workers: 1, concurrencyPerWorker: 1, connectionsPerHost: 1, maxQueue: 10, policy: LOOPBACK } as const;

describe('runtime: queue limit', () => {
  const track = closeAfterEach();

  /** Submits 20 jobs in one turn and records the order in which they settle. */
  async function submitTwenty(rt: Runtime, origin: string): Promise<string[]> {
    const events: string[] = [];
    const jobs = Array.from({ length: 20 }, (_, i) =>
      rt.run({ url: `${origin}/q/${i}` }).then(
        () => events.push(`ok:${i}`),
        (error: unknown) => events.push(`${(error as { code?: string }).code ?? 'unknown'}:${i}`),
      ),
    );
    await Promise.all(jobs);
    return events;
  }

  const indexes = (events: readonly string[], prefix: string): number[] =>
    events.filter((e) => e.startsWith(prefix)).map((e) => Number(e.split(':')[1]));

  it('warm runtime: 1 runs, 10 queue, exactly 9 reject at once', async () => {
    const server = track(await startCountingServer(delayed(30)));
    const runtime = track(createRuntime(OPTIONS));
    // A first job proves the worker has booted (jobs wait in the coordinator until it has).
    expect((await runtime.run({ url: `${server.origin}/warm` })).status).toBe(200);
    server.reset();

    const events = await submitTwenty(runtime, server.origin);
    expect(indexes(events, 'FLOWPOOL_QUEUE_FULL:')).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(indexes(events, 'ok:')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // The rejections came before any success, and the admitted ones ran in order.
    expect(events.slice(0, 9).every((e) => e.startsWith('FLOWPOOL_QUEUE_FULL:'))).toBe(true);
    expect(server.requests).toBe(11);
    expect(server.peakActive).toBe(1);
    const stats = await runtime.stats();
    expect(stats.totals.failedByCode.FLOWPOOL_QUEUE_FULL).toBe(9);
  }, 30_000);

  it('cold runtime: jobs wait for the booting worker in the queue, so 10 queue and 10 reject', async () => {
    const server = track(await startCountingServer(delayed(30)));
    const runtime = track(createRuntime(OPTIONS));
    const events = await submitTwenty(runtime, server.origin);
    expect(indexes(events, 'FLOWPOOL_QUEUE_FULL:')).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(indexes(events, 'ok:')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(server.requests).toBe(10);
  }, 30_000);
});
