/** One hot host on 2 workers: it spreads over both, and connectionsPerHost holds over both together. */
import { describe, expect, it } from 'vitest';
import { createRuntime, type HttpJob } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { delayed } from '../fixtures/handlers.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('runtime: hot host', () => {
  const track = closeAfterEach();

  it('spreads 400 jobs (64 in flight) for one host over both workers, within 16 connections', async () => {
    const server = track(await startCountingServer(delayed(20), { keepAliveTimeout: 30_000 }));
    const runtime = track(createRuntime({ workers: 2, connectionsPerHost: 16, policy: LOOPBACK }));
    const origin = server.origin;
    function* jobs(): Generator<HttpJob> {
      for (let i = 0; i < 400; i++) yield { url: `${origin}/hot/${i}` };
    }
    const perWorker = [0, 0];
    for await (const result of runtime.runMany(jobs(), { concurrency: 64 })) {
      if (!result.ok) throw result.error;
      expect(result.value.status).toBe(200);
      perWorker[result.value.worker] = (perWorker[result.value.worker] ?? 0) + 1;
    }
    expect(server.requests).toBe(400);
    expect(perWorker[0]).toBeGreaterThan(0);
    expect(perWorker[1]).toBeGreaterThan(0);
    expect(server.peakOpen).toBeLessThanOrEqual(16);
    expect(server.connections).toBeLessThanOrEqual(16);
    expect(server.peakActive).toBeLessThanOrEqual(16);
  }, 30_000);
});
