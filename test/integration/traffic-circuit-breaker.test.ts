/**
 * The circuit breaker against a real host that stays down, then recovers: it opens after the threshold,
 * fails fast without reaching the server, half-opens after the cool-down with exactly one probe, and
 * closes when the probe succeeds. Reaching the server is counted AT the server.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { settle, type Settled } from '../fixtures/wait.js';
import { closedPort, startScriptedServer } from '../fixtures/traffic-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const COOLDOWN_MS = 300;

interface CircuitChange {
  readonly origin: string;
  readonly from: string;
  readonly to: string;
}

/** Polls stats() (which reads the breaker's state) until the origin's circuit is `state`; bounded. */
async function circuitBecomes(runtime: Runtime, origin: string, state: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const host = (await runtime.stats()).hosts.find((h) => h.origin === origin);
    if (host?.circuit === state) return;
    if (Date.now() > deadline)
      throw new Error(`circuit of ${origin} not ${state} within ${timeoutMs} ms (is ${String(host?.circuit)})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const codes = (outcomes: readonly Settled<{ status: number }>[]) =>
  outcomes.map((o) => (o.ok ? o.value.status : o.error.code));

describe('traffic: circuit breaker', () => {
  const track = closeAfterEach();
  const changes: CircuitChange[] = [];
  const onChange = (message: unknown): void => {
    changes.push(message as CircuitChange);
  };

  afterEach(() => {
    unsubscribe('flowpool:circuit:change', onChange);
    changes.length = 0;
  });

  it('opens after 3 failures, fails fast, probes once per cool-down, and closes when the host recovers', async () => {
    subscribe('flowpool:circuit:change', onChange);
    let down = true;
    const server = track(await startScriptedServer(() => (down ? { status: 503 } : { status: 200 })));
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, circuitBreaker: { failureThreshold: 3, cooldownMs: COOLDOWN_MS } }),
    );
    const url = `${server.origin}/health`;
    const burst = (n: number) => Promise.all(Array.from({ length: n }, () => settle(runtime.run({ url }))));

    // 1. Three failures (503 counts: failOn5xx defaults to true) are returned as results and open it.
    for (let i = 0; i < 3; i++) expect((await runtime.run({ url })).status).toBe(503);
    expect(server.requests).toBe(3);
    expect(changes).toEqual([{ origin: server.origin, from: 'closed', to: 'open' }]);

    // 2. Open: jobs reject FLOWPOOL_CIRCUIT_OPEN and never reach the server.
    const fast = await burst(5);
    expect(codes(fast)).toEqual(Array(5).fill('FLOWPOOL_CIRCUIT_OPEN'));
    for (const o of fast) {
      if (o.ok) continue;
      expect(o.error.details?.retryInMs).toBeGreaterThan(0);
      expect(o.error.details?.retryInMs).toBeLessThanOrEqual(COOLDOWN_MS);
    }
    expect(server.requests).toBe(3);

    // 3. After the cool-down, 5 jobs at once while still down: exactly one probe reaches the server,
    //    fails, and re-opens the circuit for a full cool-down.
    await circuitBecomes(runtime, server.origin, 'half-open');
    const probe1 = await burst(5);
    expect(codes(probe1).filter((c) => c === 503)).toHaveLength(1);
    expect(codes(probe1).filter((c) => c === 'FLOWPOOL_CIRCUIT_OPEN')).toHaveLength(4);
    expect(server.requests).toBe(4);
    expect((await runtime.stats()).hosts.find((h) => h.origin === server.origin)?.circuit).toBe('open');

    // 4. The host recovers; after the next cool-down one probe reaches it, succeeds, and closes the circuit.
    down = false;
    await circuitBecomes(runtime, server.origin, 'half-open');
    const probe2 = await burst(5);
    expect(codes(probe2).filter((c) => c === 200)).toHaveLength(1);
    expect(codes(probe2).filter((c) => c === 'FLOWPOOL_CIRCUIT_OPEN')).toHaveLength(4);
    expect(server.requests).toBe(5);

    // 5. Closed: jobs flow again.
    const flowing = await burst(10);
    expect(codes(flowing)).toEqual(Array(10).fill(200));
    expect(server.requests).toBe(15);

    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual([
      'closed->open',
      'open->half-open',
      'half-open->open',
      'open->half-open',
      'half-open->closed',
    ]);
    expect(changes.every((c) => c.origin === server.origin)).toBe(true);
    const host = (await runtime.stats()).hosts.find((h) => h.origin === server.origin);
    expect(host?.circuit).toBe('closed');
    expect((await runtime.stats()).totals.failedByCode.FLOWPOOL_CIRCUIT_OPEN).toBe(13);
  });

  it('connection refused opens it too; open jobs fail fast; the breaker is per origin', async () => {
    subscribe('flowpool:circuit:change', onChange);
    const port = await closedPort();
    const server = track(await startScriptedServer(() => ({ status: 200 })));
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, circuitBreaker: { failureThreshold: 3, cooldownMs: 60_000 } }),
    );
    const down = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 3; i++) {
      const o = await settle(runtime.run({ url: `${down}/x` }));
      expect(o.ok ? o.value.status : o.error.code).toBe('FLOWPOOL_CONNECTION_FAILED');
    }
    const o = await settle(runtime.run({ url: `${down}/x` }));
    expect(o.ok ? o.value.status : o.error.code).toBe('FLOWPOOL_CIRCUIT_OPEN');
    // Another origin on the same IP is unaffected.
    expect((await runtime.run({ url: `${server.origin}/ok` })).status).toBe(200);
    expect(server.requests).toBe(1);
    expect(changes).toEqual([{ origin: down, from: 'closed', to: 'open' }]);
  });

  it('4xx answers do not open it, and with failOn5xx: false neither do 5xx', async () => {
    const server = track(await startScriptedServer((n) => ({ status: n % 2 === 0 ? 404 : 500 })));
    const runtime = track(
      createRuntime({
        workers: 1,
        policy: LOOPBACK,
        circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000, failOn5xx: false },
      }),
    );
    for (let i = 0; i < 10; i++) await runtime.run({ url: `${server.origin}/x` });
    expect(server.requests).toBe(10);
    expect((await runtime.stats()).hosts.find((h) => h.origin === server.origin)?.circuit).toBe('closed');
  });
});
