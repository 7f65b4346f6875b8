/** Jobs refused on the main thread: invalid ones, and blocked destinations (never dialled). */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { settle } from '../fixtures/wait.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('runtime: invalid and blocked jobs', () => {
  const track = closeAfterEach();

  it('rejects an invalid job with FLOWPOOL_INVALID_JOB naming job.url, and keeps serving', async () => {
    const server = track(await startCountingServer());
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    const bad = await settle(runtime.run({ url: 'nope' }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('FLOWPOOL_INVALID_JOB');
      expect(bad.error.message).toContain('job.url');
      expect(bad.error.details?.field).toBe('job.url');
    }
    const alsoBad = await settle(runtime.run({ url: `${server.origin}/`, method: 'HEAD', body: 'x' }));
    expect(alsoBad.ok).toBe(false);
    if (!alsoBad.ok) expect(alsoBad.error.code).toBe('FLOWPOOL_INVALID_JOB');
    expect(server.requests).toBe(0);

    const good = await runtime.run({ url: `${server.origin}/fine` });
    expect(good.status).toBe(200);
    expect(server.requests).toBe(1);
  });

  it('blocks loopback under the default policy: FLOWPOOL_BLOCKED_DESTINATION, no connection made', async () => {
    const server = track(await startCountingServer());
    const runtime = track(createRuntime({ workers: 1 }));
    for (const url of [`${server.origin}/`, `http://localhost:${server.port}/`, `http://2130706433:${server.port}/`]) {
      const outcome = await settle(runtime.run({ url }));
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) {
        expect(outcome.error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
        expect(typeof outcome.error.details?.reason).toBe('string');
      }
    }
    expect(server.connections).toBe(0);
    const stats = await runtime.stats();
    expect(stats.totals.failedByCode.FLOWPOOL_BLOCKED_DESTINATION).toBe(3);
  });
});
