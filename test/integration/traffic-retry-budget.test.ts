/**
 * Retries, the retry budget and the breaker together, against real loopback hosts: a flaky host that
 * recovers is ridden out by retries; an outage past the breaker's threshold is cut short by it; a host
 * that fails every request gets at most its budget's share of retries. Counts are the SERVER's.
 *
 * Set FLOWPOOL_TRAFFIC_EVIDENCE=1 to print each case's stats().hosts entry as JSON.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type HostView, type HttpJob, type RunManyResult, type Runtime } from '../../dist/src/index.js';
import { startScriptedServer, type ScriptedServer } from '../fixtures/traffic-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

async function collect(results: AsyncIterable<RunManyResult>, max: number): Promise<RunManyResult[]> {
  const out: RunManyResult[] = [];
  for await (const result of results) {
    out.push(result);
    if (out.length > max) throw new Error(`runMany yielded more than ${max} results`);
  }
  return out;
}

async function hostOf(runtime: Runtime, origin: string): Promise<HostView> {
  const host = (await runtime.stats()).hosts.find((h) => h.origin === origin);
  if (host === undefined) throw new Error(`no stats for ${origin}`);
  return host;
}

function evidence(label: string, server: ScriptedServer, host: HostView): void {
  if (process.env.FLOWPOOL_TRAFFIC_EVIDENCE === undefined) return;
  console.log(`${label}\n${JSON.stringify({ serverSawRequests: server.requests, host }, null, 2)}`);
}

const outcome = (r: RunManyResult): number | string => (r.ok ? r.value.status : r.error.code);

describe('traffic: retries, budget and breaker together', () => {
  const track = closeAfterEach();
  const changes: string[] = [];
  const onChange = (message: unknown): void => {
    const { from, to } = message as { from: string; to: string };
    changes.push(`${from}->${to}`);
  };

  afterEach(() => {
    unsubscribe('flowpool:circuit:change', onChange);
    changes.length = 0;
  });

  it('a flaky host recovers: 50 jobs at once, its first 10 answers 503, every job resolves 200 within its retries and the budget', async () => {
    subscribe('flowpool:circuit:change', onChange);
    const server = track(await startScriptedServer((n) => (n <= 10 ? { status: 503 } : { status: 200 })));
    const runtime = track(
      createRuntime({
        workers: 2,
        policy: LOOPBACK,
        retry: { attempts: 4, minDelayMs: 10, maxDelayMs: 50 },
        retryBudget: { ratio: 0.2, minRetries: 10, windowMs: 60_000 },
        circuitBreaker: { failureThreshold: 20, cooldownMs: 300 },
      }),
    );
    const jobs: HttpJob[] = Array.from({ length: 50 }, (_, i) => ({ url: `${server.origin}/item/${i}` }));
    const results = await collect(runtime.runMany(jobs), 50);
    expect(results.map(outcome)).toEqual(Array(50).fill(200));
    const host = await hostOf(runtime, server.origin);
    evidence('flaky host recovers', server, host);
    // Every 503 the server sent was retried, and nothing else was sent.
    expect(server.requests).toBe(50 + (host.retries ?? 0));
    expect(host.retries).toBeGreaterThanOrEqual(10);
    expect(host.statuses).toEqual({ '5xx': 10, '2xx': 50 });
    // The budget's share: ratio x requests + minRetries.
    expect(host.retries ?? Infinity).toBeLessThanOrEqual(0.2 * (host.requests ?? 0) + 10);
    expect(host.retriesDenied).toBe(0);
    expect(host.circuit).toBe('closed');
    expect(changes).toEqual([]);
    const attempts = results.map((r) => (r.ok ? r.value.attempts : 0));
    expect(attempts.filter((a) => a > 1).length).toBeGreaterThanOrEqual(1);
    expect(attempts.reduce((a, b) => a + b, 0)).toBe(server.requests);
  });

  it('an outage past the threshold: the breaker opens under 20 concurrent jobs and stops their retries; after recovery one probe closes it', async () => {
    subscribe('flowpool:circuit:change', onChange);
    let down = true;
    const server = track(await startScriptedServer(() => (down ? { status: 503 } : { status: 200 })));
    const runtime = track(
      createRuntime({
        workers: 2,
        policy: LOOPBACK,
        retry: { attempts: 3, minDelayMs: 10, maxDelayMs: 20 },
        circuitBreaker: { failureThreshold: 5, cooldownMs: 1_000 },
      }),
    );
    const jobs = (n: number): HttpJob[] => Array.from({ length: n }, (_, i) => ({ url: `${server.origin}/item/${i}` }));
    const during = await collect(runtime.runMany(jobs(20)), 20);
    // All 20 were admitted while closed and reached the server. A retry can reach it only if it was
    // admitted before the 5th failure opened the circuit (at most 4); the others fail fast, since the
    // cool-down (1 s) outlasts every backoff (< 20 ms).
    expect(server.requests).toBeGreaterThanOrEqual(20);
    expect(server.requests).toBeLessThanOrEqual(24);
    // A job ends either with its last 503 (its retry refused by the budget, default share 0.2 x 20 + 10,
    // or its attempts used up) or with FLOWPOOL_CIRCUIT_OPEN (its retry met the open circuit).
    const kinds = during.map(outcome);
    expect(kinds.every((k) => k === 503 || k === 'FLOWPOOL_CIRCUIT_OPEN')).toBe(true);
    const failedFast = kinds.filter((k) => k === 'FLOWPOOL_CIRCUIT_OPEN').length;
    const outage = await hostOf(runtime, server.origin);
    expect(failedFast).toBe((outage.retries ?? 0) - (server.requests - 20));
    expect(failedFast).toBeGreaterThan(0);
    expect(outage.circuit).toBe('open');
    expect(changes).toEqual(['closed->open']);

    down = false;
    const before = server.requests;
    // Bounded wait for the cool-down, read through stats() (which half-opens a cooled circuit).
    for (let i = 0; i < 100 && (await hostOf(runtime, server.origin)).circuit !== 'half-open'; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect((await runtime.run({ url: `${server.origin}/probe` })).status).toBe(200);
    expect(server.requests).toBe(before + 1);
    const after = await collect(runtime.runMany(jobs(20)), 20);
    expect(after.map(outcome)).toEqual(Array(20).fill(200));
    expect(server.requests).toBe(before + 21);
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
    const host = await hostOf(runtime, server.origin);
    evidence('outage past the breaker threshold, then recovery', server, host);
    expect(host.circuit).toBe('closed');
  });

  it('the retry budget holds: 100 jobs (attempts 5) against a host failing every request reach it at most 100 + 20 times', async () => {
    const server = track(await startScriptedServer(() => ({ status: 503 })));
    const runtime = track(
      createRuntime({
        workers: 2,
        policy: LOOPBACK,
        retry: { attempts: 5, minDelayMs: 1, maxDelayMs: 10 },
        retryBudget: { ratio: 0.2, minRetries: 0, windowMs: 60_000 },
      }),
    );
    const jobs: HttpJob[] = Array.from({ length: 100 }, (_, i) => ({ url: `${server.origin}/item/${i}` }));
    const results = await collect(runtime.runMany(jobs), 100);
    expect(results.map(outcome)).toEqual(Array(100).fill(503));
    const host = await hostOf(runtime, server.origin);
    evidence('retry budget holds on a host failing every request', server, host);
    // Without the budget this would be 500 requests.
    expect(server.requests).toBeLessThanOrEqual(120);
    expect(server.requests).toBe(100 + (host.retries ?? 0));
    expect(host.requests).toBe(100);
    expect(host.retries ?? Infinity).toBeLessThanOrEqual(0.2 * 100);
    expect(host.retriesDenied).toBeGreaterThan(0);
    expect(host.statuses).toEqual({ '5xx': server.requests });
    const totals = (await runtime.stats()).totals;
    expect(totals.retries).toBe(host.retries);
  });
});
