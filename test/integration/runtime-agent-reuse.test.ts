/** A second wave to the same host reuses the first wave's connections: the Agent is built once per worker. */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('runtime: agent reuse', () => {
  const track = closeAfterEach();

  it('opens no new connection for a second wave of 200 jobs (connectionsPerHost 8)', async () => {
    const server = track(await startCountingServer(undefined, { keepAliveTimeout: 30_000 }));
    const runtime = track(createRuntime({ workers: 2, connectionsPerHost: 8, policy: LOOPBACK }));
    const origin = server.origin;
    const wave = async (name: string): Promise<void> => {
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => runtime.run({ url: `${origin}/${name}/${i}` })),
      );
      for (const result of results) expect(result.status).toBe(200);
    };

    await wave('first');
    const afterFirst = server.connections;
    expect(afterFirst).toBeGreaterThanOrEqual(1);
    expect(afterFirst).toBeLessThanOrEqual(8);

    await wave('second');
    expect(server.requests).toBe(400);
    expect(server.connections).toBe(afterFirst);
    expect(server.peakOpen).toBeLessThanOrEqual(8);
  });
});
