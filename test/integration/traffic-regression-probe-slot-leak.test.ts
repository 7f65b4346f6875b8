/**
 * Regression: a half-open circuit's probe that never reaches a worker gives its probe slot back.
 *
 * Was: the probe slot was taken at admission (runtime #admit -> traffic.admit -> CircuitBreaker.tryPass)
 * but freed only by `recordAttempt` when a WORKER answered. A probe job that settled before reaching a
 * worker - aborted while queued, timed out while queued, or refused FLOWPOOL_QUEUE_FULL - never freed
 * it. The circuit then stayed half-open with the slot taken forever: every later job to the host failed
 * FLOWPOOL_CIRCUIT_OPEN with `retryInMs: 0`, even after the host was healthy, until the runtime was
 * recreated.
 * Fixed: admission returns how the job passed ('pass' or 'probe'); the runtime keeps it on the pending
 * job, reports the attempt with it, and `#cleanup` calls `TrafficController.releaseAdmission(origin,
 * pass)` (a neutral outcome: frees the slot, stays half-open) for an admitted job that settles without
 * a running attempt.
 * Reproduced with a rate limit that keeps the probe queued (it waits for a token).
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { settle } from '../fixtures/wait.js';
import { startScriptedServer, type ScriptedServer } from '../fixtures/traffic-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const COOLDOWN_MS = 300;

async function circuitOf(runtime: Runtime, origin: string): Promise<string | undefined> {
  return (await runtime.stats()).hosts.find((h) => h.origin === origin)?.circuit;
}

async function untilHalfOpen(runtime: Runtime, origin: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await circuitOf(runtime, origin)) === 'half-open') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`circuit of ${origin} did not half-open`);
}

describe('circuit breaker: a probe that never reaches a worker', () => {
  const track = closeAfterEach();

  /**
   * Opens the circuit with 3 quick 503s (the burst of 3 tokens) and waits for half-open; the next job
   * must queue for a token (0.5 rps: the next is ~2 s away).
   */
  async function openCircuit(
    extra: {
      maxQueue?: number;
      resolve?: Record<string, string[]>;
      hostLimits?: Record<string, { rps: number; burst: number }>;
    } = {},
  ) {
    let down = true;
    const server = track(await startScriptedServer(() => (down ? { status: 503 } : { status: 200 })));
    const runtime = track(
      createRuntime({
        workers: 1,
        policy: LOOPBACK,
        ...(extra.maxQueue === undefined ? {} : { maxQueue: extra.maxQueue }),
        ...(extra.resolve === undefined ? {} : { resolve: extra.resolve }),
        hostLimits: { '127.0.0.1': { rps: 0.5, burst: 3 }, ...extra.hostLimits },
        circuitBreaker: { failureThreshold: 3, cooldownMs: COOLDOWN_MS },
      }),
    );
    const url = `${server.origin}/x`;
    for (let i = 0; i < 3; i++) expect((await runtime.run({ url })).status).toBe(503);
    await untilHalfOpen(runtime, server.origin);
    return {
      url,
      server,
      runtime,
      recover: () => {
        down = false;
      },
    };
  }

  /** The host is healthy now; the next job must become the probe (it may wait for a token, within its deadline), reach the server and close the circuit. */
  async function nextJobClosesTheCircuit({
    url,
    server,
    runtime,
  }: {
    url: string;
    server: ScriptedServer;
    runtime: Runtime;
  }): Promise<void> {
    const next = await settle(runtime.run({ url, timeoutMs: 5_000 }));
    expect(next.ok ? next.value.status : `${next.error.code} retryInMs=${String(next.error.details?.retryInMs)}`).toBe(
      200,
    );
    expect(server.requests).toBe(4);
    expect(await circuitOf(runtime, server.origin)).toBe('closed');
  }

  it('a probe aborted while queued frees the probe slot', async () => {
    const { url, recover, server, runtime } = await openCircuit();
    const controller = new AbortController();
    const probe = settle(runtime.run({ url, timeoutMs: 10_000 }, { signal: controller.signal }));
    recover();
    controller.abort();
    const aborted = await probe;
    expect(aborted.ok ? aborted.value.status : aborted.error.code).toBe('FLOWPOOL_ABORTED');
    expect(server.requests).toBe(3);
    expect(await circuitOf(runtime, server.origin)).toBe('half-open');
    await nextJobClosesTheCircuit({ url, server, runtime });
  });

  it('a probe that times out while queued frees the probe slot', async () => {
    const { url, recover, server, runtime } = await openCircuit();
    const probe = settle(runtime.run({ url, timeoutMs: 100 }));
    recover();
    const timedOut = await probe;
    expect(timedOut.ok ? timedOut.value.status : timedOut.error.code).toBe('FLOWPOOL_TIMEOUT');
    expect(server.requests).toBe(3);
    await nextJobClosesTheCircuit({ url, server, runtime });
  });

  it('a probe refused by a full queue (FLOWPOOL_QUEUE_FULL) frees the probe slot', async () => {
    // maxQueue 1, taken by a job to another (rate-limited) host that waits for its token.
    const filler = track(await startScriptedServer(() => ({ status: 200 })));
    const fillerUrl = `http://filler.test:${filler.counting.port}`;
    const { url, recover, server, runtime } = await openCircuit({
      maxQueue: 1,
      resolve: { 'filler.test': ['127.0.0.1'] },
      hostLimits: { 'filler.test': { rps: 0.5, burst: 1 } },
    });
    const rt = runtime;
    expect((await rt.run({ url: `${fillerUrl}/token` })).status).toBe(200); // takes the filler's only token
    const fillerAbort = new AbortController();
    const queued = settle(rt.run({ url: `${fillerUrl}/queued`, timeoutMs: 10_000 }, { signal: fillerAbort.signal }));

    const refused = await settle(rt.run({ url, timeoutMs: 10_000 }));
    expect(refused.ok ? refused.value.status : refused.error.code).toBe('FLOWPOOL_QUEUE_FULL');
    expect(server.requests).toBe(3);
    expect(await circuitOf(rt, server.origin)).toBe('half-open');

    // Empty the queue again, then the host recovers.
    fillerAbort.abort();
    const filled = await queued;
    expect(filled.ok ? filled.value.status : filled.error.code).toBe('FLOWPOOL_ABORTED');
    expect(filler.requests).toBe(1);
    recover();
    await nextJobClosesTheCircuit({ url, server, runtime });
  });
});
