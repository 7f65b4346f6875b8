/** Sequential jobs to one host ride one keep-alive connection. */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('runtime: connection reuse', () => {
  const track = closeAfterEach();

  it('runs 50 sequential jobs over exactly one connection', async () => {
    const server = track(await startCountingServer());
    const runtime = track(createRuntime({ workers: 2, policy: LOOPBACK }));
    const workers = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const result = await runtime.run({ url: `${server.origin}/seq/${i}` });
      expect(result.status).toBe(200);
      expect(result.body).toBe(JSON.stringify({ ok: true, method: 'GET', url: `/seq/${i}` }));
      workers.add(result.worker);
    }
    expect(server.requests).toBe(50);
    expect(server.connections).toBe(1);
    expect(workers.size).toBe(1);
    const stats = await runtime.stats();
    expect(stats.totals.succeeded).toBe(50);
    expect(stats.workers.reduce((sum, w) => sum + w.connectionsOpened, 0)).toBe(1);
    expect(stats.workers.reduce((sum, w) => sum + w.requestsOnReusedConnections, 0)).toBe(49);
  });
});
