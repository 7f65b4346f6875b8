/**
 * 429 / 503 with Retry-After against a real loopback server: the job succeeds after the stated wait,
 * not before. The wait is checked on the SERVER's clock (when its second request arrived); that is a
 * lower bound only, never a speed claim.
 *
 * Why >= 990 ms and not >= 1000 ms for "Retry-After: 1": the runtime starts its 1000 ms timer only once
 * the 429 is back on the main thread, so the true gap at the server is 1000 ms plus the 429's trip back
 * plus the retry's trip out. The 10 ms slack covers clock granularity alone: libuv timers count whole
 * milliseconds from a loop time cached at the start of each loop turn, so a timer can fire up to ~1 ms
 * early against performance.now(), and the server's own timestamps are taken in its request callback.
 * A retry sent at 990 ms would still be caught; one sent at the backoff's ~50 ms would fail by far.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { settle } from '../fixtures/wait.js';
import { startScriptedServer } from '../fixtures/traffic-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const GRANULARITY_MS = 10;

describe('traffic: Retry-After', () => {
  const track = closeAfterEach();

  it.each([429, 503])(
    '%i with Retry-After: 1 (seconds), then 200: resolves 200 at attempt 2, the retry >= 1 s after the first request',
    async (first) => {
      const server = track(
        await startScriptedServer((n) =>
          n === 1 ? { status: first, headers: { 'retry-after': '1' } } : { status: 200 },
        ),
      );
      // minDelayMs 1: if Retry-After were ignored the retry would come within a few ms and fail the bound.
      const runtime = track(
        createRuntime({ workers: 1, policy: LOOPBACK, retry: { attempts: 3, minDelayMs: 1, maxDelayMs: 5 } }),
      );
      const result = await runtime.run({ url: `${server.origin}/limited`, timeoutMs: 10_000 });
      expect(result.status).toBe(200);
      expect(result.attempts).toBe(2);
      expect(server.requests).toBe(2);
      const [a, b] = server.arrivals;
      expect((b?.at ?? 0) - (a?.at ?? 0)).toBeGreaterThanOrEqual(1_000 - GRANULARITY_MS);
    },
  );

  it('429 with an HTTP-date Retry-After: the retry arrives at the server no earlier than that date', async () => {
    let stated = 0;
    const server = track(
      await startScriptedServer((n) => {
        if (n > 1) return { status: 200 };
        // HTTP dates have whole seconds: the next full second plus one, so 1-2 s from now.
        stated = (Math.floor(Date.now() / 1_000) + 2) * 1_000;
        return { status: 429, headers: { 'retry-after': new Date(stated).toUTCString() } };
      }),
    );
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, retry: { attempts: 3, minDelayMs: 1, maxDelayMs: 5 } }),
    );
    const result = await runtime.run({ url: `${server.origin}/dated`, timeoutMs: 10_000 });
    expect(result.status).toBe(200);
    expect(result.attempts).toBe(2);
    expect(server.requests).toBe(2);
    const [a, b] = server.arrivals;
    expect(stated - (a?.wall ?? 0)).toBeGreaterThanOrEqual(1_000 - GRANULARITY_MS); // the date really was ahead
    expect(b?.wall ?? 0).toBeGreaterThanOrEqual(stated - GRANULARITY_MS);
  });

  it('a Retry-After longer than the job deadline: the 429 is the result, no retry, the server saw 1 request', async () => {
    const server = track(await startScriptedServer(() => ({ status: 429, headers: { 'retry-after': '5' } })));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, retry: { attempts: 3 } }));
    const result = await runtime.run({ url: `${server.origin}/later`, timeoutMs: 2_000 });
    expect(result.status).toBe(429);
    expect(result.attempts).toBe(1);
    expect(result.headers['retry-after']).toBe('5');
    expect(server.requests).toBe(1);
    const stats = await runtime.stats();
    expect(stats.totals.retries).toBe(0);
    expect(stats.hosts.find((h) => h.origin === server.origin)?.retriesDenied).toBe(0);
  });

  it('Retry-After is honoured from a job-level retry setting too', async () => {
    const server = track(
      await startScriptedServer((n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 })),
    );
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK })); // no retries at runtime level
    const result = await runtime.run({
      url: `${server.origin}/own`,
      timeoutMs: 10_000,
      retry: { attempts: 2, minDelayMs: 1 },
    });
    expect(result.status).toBe(200);
    expect(result.attempts).toBe(2);
    const [a, b] = server.arrivals;
    expect((b?.at ?? 0) - (a?.at ?? 0)).toBeGreaterThanOrEqual(1_000 - GRANULARITY_MS);
  });

  it('without retries configured, a 429 with Retry-After is simply returned', async () => {
    const server = track(await startScriptedServer(() => ({ status: 429, headers: { 'retry-after': '1' } })));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    const outcome = await settle(runtime.run({ url: `${server.origin}/none`, timeoutMs: 5_000 }));
    expect(outcome.ok && outcome.value.status).toBe(429);
    expect(server.requests).toBe(1);
  });
});
