/** destroy() aborts: running and queued jobs reject with FLOWPOOL_CLOSED at once; it is idempotent. */
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { never } from '../fixtures/handlers.js';
import { settle, waitUntil } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('runtime: destroy()', () => {
  let server: CountingServer | undefined;
  let runtime: Runtime | undefined;

  afterEach(async () => {
    await runtime?.destroy();
    await server?.close();
    runtime = undefined;
    server = undefined;
  });

  it('rejects running and queued jobs with FLOWPOOL_CLOSED; a second destroy() is harmless', async () => {
    server = await startCountingServer(never);
    const srv = server;
    runtime = createRuntime({ workers: 2, concurrencyPerWorker: 4, connectionsPerHost: 4, policy: LOOPBACK });
    const rt = runtime;
    const jobs = Array.from({ length: 10 }, (_, i) => settle(rt.run({ url: `${srv.origin}/never/${i}` })));
    await waitUntil(() => srv.requests === 4, 'the server to receive the 4 running jobs');
    expect((await rt.stats()).totals.queued).toBe(6);

    const first = rt.destroy();
    const second = rt.destroy();
    await Promise.all([first, second]);
    await rt.destroy();

    const outcomes = await Promise.all(jobs);
    for (const outcome of outcomes) {
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.error.code).toBe('FLOWPOOL_CLOSED');
    }
    // The queued ones never reached the server.
    expect(srv.requests).toBe(4);

    const late = await settle(rt.run({ url: `${srv.origin}/late` }));
    expect(late.ok).toBe(false);
    if (!late.ok) expect(late.error.code).toBe('FLOWPOOL_CLOSED');
    await expect(rt.close()).resolves.toBeUndefined();
  }, 30_000);
});
