/** Many jobs at once: every one resolves with its own response. */
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('runtime: concurrency', () => {
  let server: CountingServer | undefined;
  let runtime: Runtime | undefined;

  afterEach(async () => {
    await runtime?.destroy();
    await server?.close();
    runtime = undefined;
    server = undefined;
  });

  it('resolves 300 concurrent jobs, each with the body of its own request', async () => {
    server = await startCountingServer();
    runtime = createRuntime({ workers: 2, policy: LOOPBACK });
    const origin = server.origin;
    const rt = runtime;
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => rt.run({ url: `${origin}/item/${i}?n=${i}`, responseType: 'json' })),
    );
    expect(results).toHaveLength(300);
    results.forEach((result, i) => {
      expect(result.status).toBe(200);
      expect(result.body).toEqual({ ok: true, method: 'GET', url: `/item/${i}?n=${i}` });
      expect(result.url).toBe(`${origin}/item/${i}?n=${i}`);
      expect(result.attempts).toBe(1);
    });
    expect(server.requests).toBe(300);
    // Never more connections than the cap (default connectionsPerHost 100).
    expect(server.peakOpen).toBeLessThanOrEqual(100);
  });
});
