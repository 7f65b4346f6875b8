/**
 * A host that fails N times and then recovers: idempotent jobs are retried with backoff until it
 * answers; non-idempotent ones are not, unless the job says it is safe. Counts are the SERVER's.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { settle } from '../fixtures/wait.js';
import { closedPort, startScriptedServer } from '../fixtures/traffic-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const failFirst =
  (n: number, status = 503) =>
  (k: number) =>
    k <= n ? { status } : { status: 200 };

describe('traffic: retries until the host recovers', () => {
  const track = closeAfterEach();

  it('503 twice, then 200: a GET with attempts 4 resolves 200 at attempt 3; the server saw 3 requests', async () => {
    const server = track(await startScriptedServer(failFirst(2)));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, retry: { attempts: 4, minDelayMs: 10 } }));
    const result = await runtime.run({ url: `${server.origin}/flaky` });
    expect(result.status).toBe(200);
    expect(result.attempts).toBe(3);
    expect(server.requests).toBe(3);
    expect(server.arrivals.map((a) => a.method)).toEqual(['GET', 'GET', 'GET']);
    const stats = await runtime.stats();
    expect(stats.totals.retries).toBe(2);
    expect(stats.hosts.find((h) => h.origin === server.origin)).toMatchObject({
      retries: 2,
      statuses: { '5xx': 2, '2xx': 1 },
    });
  });

  it('the same host with attempts 2: the last 503 is returned as the result, attempts 2', async () => {
    const server = track(await startScriptedServer(failFirst(2)));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, retry: { attempts: 2, minDelayMs: 10 } }));
    const result = await runtime.run({ url: `${server.origin}/flaky` });
    expect(result.status).toBe(503);
    expect(result.attempts).toBe(2);
    expect(server.requests).toBe(2);
  });

  it('a POST is not retried: the 503 is returned and the server saw 1 request', async () => {
    const server = track(await startScriptedServer(failFirst(2)));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, retry: { attempts: 4, minDelayMs: 10 } }));
    const result = await runtime.run({ url: `${server.origin}/orders`, method: 'POST', json: { item: 1 } });
    expect(result.status).toBe(503);
    expect(result.attempts).toBe(1);
    expect(server.requests).toBe(1);
  });

  it('a POST marked idempotent is retried: 200 at attempt 3, the server saw 3 POSTs', async () => {
    const server = track(await startScriptedServer(failFirst(2)));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, retry: { attempts: 4, minDelayMs: 10 } }));
    const result = await runtime.run({
      url: `${server.origin}/orders`,
      method: 'POST',
      json: { item: 1 },
      idempotent: true,
    });
    expect(result.status).toBe(200);
    expect(result.attempts).toBe(3);
    expect(server.arrivals.map((a) => a.method)).toEqual(['POST', 'POST', 'POST']);
  });

  it('a status outside retry.statuses (500 by default) is not retried', async () => {
    const server = track(await startScriptedServer(failFirst(2, 500)));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, retry: { attempts: 4, minDelayMs: 10 } }));
    const result = await runtime.run({ url: `${server.origin}/broken` });
    expect(result.status).toBe(500);
    expect(server.requests).toBe(1);
  });

  it('connection refused is retried (FLOWPOOL_CONNECTION_FAILED); the rejection reports the attempts', async () => {
    const port = await closedPort();
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, retry: { attempts: 3, minDelayMs: 10 } }));
    const outcome = await settle(runtime.run({ url: `http://127.0.0.1:${port}/down` }));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('FLOWPOOL_CONNECTION_FAILED');
    expect(outcome.error.details?.attempts).toBe(3);
    const host = (await runtime.stats()).hosts.find((h) => h.origin === `http://127.0.0.1:${port}`);
    expect(host).toMatchObject({ retries: 2, errorsByCode: { FLOWPOOL_CONNECTION_FAILED: 3 } });
  });
});
