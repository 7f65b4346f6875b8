/** A second wave to the same host reuses the first wave's connections: the Agent is built once per worker. */
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('runtime: agent reuse', () => {
  let server: CountingServer | undefined;
  let runtime: Runtime | undefined;

  afterEach(async () => {
    await runtime?.destroy();
    await server?.close();
    runtime = undefined;
    server = undefined;
  });

  it('opens no new connection for a second wave of 200 jobs (connectionsPerHost 8)', async () => {
    server = await startCountingServer(undefined, { keepAliveTimeout: 30_000 });
    runtime = createRuntime({ workers: 2, connectionsPerHost: 8, policy: LOOPBACK });
    const rt = runtime;
    const origin = server.origin;
    const wave = async (name: string): Promise<void> => {
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => rt.run({ url: `${origin}/${name}/${i}` })));
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
