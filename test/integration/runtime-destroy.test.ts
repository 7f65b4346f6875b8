/** destroy() aborts: running and queued jobs reject with FLOWPOOL_CLOSED at once; it is idempotent. */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { never } from '../fixtures/handlers.js';
import { settle, waitUntil } from '../fixtures/wait.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('runtime: destroy()', () => {
  const track = closeAfterEach();

  it('rejects running and queued jobs with FLOWPOOL_CLOSED; a second destroy() is harmless', async () => {
    const server = track(await startCountingServer(never));
    const runtime = track(
      createRuntime({ workers: 2, concurrencyPerWorker: 4, connectionsPerHost: 4, policy: LOOPBACK }),
    );
    const jobs = Array.from({ length: 10 }, (_, i) => settle(runtime.run({ url: `${server.origin}/never/${i}` })));
    await waitUntil(() => server.requests === 4, 'the server to receive the 4 running jobs');
    expect((await runtime.stats()).totals.queued).toBe(6);

    const first = runtime.destroy();
    const second = runtime.destroy();
    await Promise.all([first, second]);
    await runtime.destroy();

    const outcomes = await Promise.all(jobs);
    for (const outcome of outcomes) {
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.error.code).toBe('FLOWPOOL_CLOSED');
    }
    // The queued ones never reached the server.
    expect(server.requests).toBe(4);

    const late = await settle(runtime.run({ url: `${server.origin}/late` }));
    expect(late.ok).toBe(false);
    if (!late.ok) expect(late.error.code).toBe('FLOWPOOL_CLOSED');
    await expect(runtime.close()).resolves.toBeUndefined();
  }, 30_000);
});
