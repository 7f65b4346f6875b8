/** Many jobs at once: every one resolves with its own response. */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('runtime: concurrency', () => {
  const track = closeAfterEach();

  it('resolves 300 concurrent jobs, each with the body of its own request', async () => {
    const server = track(await startCountingServer());
    const runtime = track(createRuntime({ workers: 2, policy: LOOPBACK }));
    const origin = server.origin;
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => runtime.run({ url: `${origin}/item/${i}?n=${i}`, responseType: 'json' })),
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
