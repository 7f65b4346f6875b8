/** close() drains: every queued and running job finishes first; afterwards the runtime refuses work. */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { delayed } from '../fixtures/handlers.js';
import { settle } from '../fixtures/wait.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('runtime: close()', () => {
  const track = closeAfterEach();

  it('resolves only after all 500 in-flight and queued jobs resolved, then refuses new jobs', async () => {
    const server = track(await startCountingServer(delayed(10)));
    const runtime = track(createRuntime({ workers: 2, concurrencyPerWorker: 8, policy: LOOPBACK }));
    const origin = server.origin;
    let resolved = 0;
    const jobs = Array.from({ length: 500 }, (_, i) =>
      runtime.run({ url: `${origin}/drain/${i}` }).then((result) => {
        resolved++;
        return result;
      }),
    );
    const before = await runtime.stats();
    expect(before.totals.queued).toBeGreaterThan(0); // 16 run at once, the rest wait

    const closing = runtime.close();
    expect(runtime.close()).toBe(closing);
    let resolvedWhenClosed = -1;
    await closing.then(() => {
      resolvedWhenClosed = resolved;
    });
    expect(resolvedWhenClosed).toBe(500);

    const results = await Promise.all(jobs);
    results.forEach((result, i) => {
      expect(result.status).toBe(200);
      expect(result.body).toContain(`/drain/${i}"`);
    });
    expect(server.requests).toBe(500);

    const late = await settle(runtime.run({ url: `${origin}/late` }));
    expect(late.ok).toBe(false);
    if (!late.ok) expect(late.error.code).toBe('FLOWPOOL_CLOSED');
    expect(server.requests).toBe(500);

    // Settled and idempotent: the same promise again, already resolved.
    const again = runtime.close();
    expect(again).toBe(closing);
    await expect(again).resolves.toBeUndefined();
  }, 60_000);
});
