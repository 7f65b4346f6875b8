/**
 * What the traffic layer reports after a mixed run against real loopback servers: stats().hosts,
 * runtime.metrics() (Prometheus text) and the flowpool:* diagnostics channels, checked against what the
 * SERVERS saw.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { settle } from '../fixtures/wait.js';
import { closedPort, startScriptedServer } from '../fixtures/traffic-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const CHANNELS = ['flowpool:job:start', 'flowpool:job:end', 'flowpool:job:retry', 'flowpool:circuit:change'] as const;

interface Event {
  readonly channel: string;
  readonly message: Record<string, unknown>;
}

/** The value of one sample line `name{labels} value` in a Prometheus text exposition. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{${labels}} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('traffic: observability', () => {
  const track = closeAfterEach();
  const events: Event[] = [];
  const listeners = CHANNELS.map(
    (channel) =>
      [channel, (message: unknown) => events.push({ channel, message: message as Record<string, unknown> })] as const,
  );

  afterEach(() => {
    for (const [channel, listener] of listeners) unsubscribe(channel, listener);
    events.length = 0;
  });

  it('stats().hosts, metrics() and the channels agree with what the servers saw after a mixed run', async () => {
    for (const [channel, listener] of listeners) subscribe(channel, listener);
    // /flaky/<i>: 503 on its first request, then 200. /missing: 404. Everything else: 200 after 5 ms.
    const seen = new Map<string, number>();
    const server = track(
      await startScriptedServer((_, req) => {
        const path = req.url ?? '';
        const count = (seen.get(path) ?? 0) + 1;
        seen.set(path, count);
        if (path.startsWith('/flaky/')) return count === 1 ? { status: 503 } : { status: 200 };
        if (path === '/missing') return { status: 404 };
        return { status: 200, delayMs: 5 };
      }),
    );
    const down = `http://127.0.0.1:${await closedPort()}`;
    const runtime = track(
      createRuntime({
        workers: 2,
        policy: LOOPBACK,
        retry: { attempts: 3, minDelayMs: 5, maxDelayMs: 10 },
        // failOn5xx off: the flaky 503s must not open the healthy host's circuit; refused connections do.
        circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000, failOn5xx: false },
      }),
    );

    const ok = await Promise.all(
      Array.from({ length: 10 }, (_, i) => runtime.run({ url: `${server.origin}/ok/${i}`, id: `ok-${i}` })),
    );
    const flaky = await Promise.all(
      Array.from({ length: 4 }, (_, i) => runtime.run({ url: `${server.origin}/flaky/${i}`, id: `flaky-${i}` })),
    );
    const missing = await runtime.run({ url: `${server.origin}/missing`, id: 'missing' });
    // The closed port: attempt 1 is refused, its retry is refused too (2 consecutive failures: the
    // circuit opens), so its second retry meets the open circuit and the job ends FLOWPOOL_CIRCUIT_OPEN
    // after 2 attempts. The next job to that origin fails fast without an attempt.
    const refused = await settle(runtime.run({ url: `${down}/x`, id: 'refused' }));
    const fastFail = await settle(runtime.run({ url: `${down}/y`, id: 'fast-fail' }));

    expect(ok.every((r) => r.status === 200 && r.attempts === 1)).toBe(true);
    expect(flaky.every((r) => r.status === 200 && r.attempts === 2)).toBe(true);
    expect(missing.status).toBe(404);
    expect(refused.ok ? refused.value.status : refused.error.code).toBe('FLOWPOOL_CIRCUIT_OPEN');
    expect(refused.ok ? 0 : refused.error.details?.attempts).toBe(2);
    expect(fastFail.ok ? fastFail.value.status : fastFail.error.code).toBe('FLOWPOOL_CIRCUIT_OPEN');
    expect(server.requests).toBe(10 + 4 * 2 + 1);

    // stats().hosts
    const stats = await runtime.stats();
    const up = stats.hosts.find((h) => h.origin === server.origin);
    const dead = stats.hosts.find((h) => h.origin === down);
    expect(up).toMatchObject({
      requests: 15, // jobs submitted to the host (first attempts)
      responses: 10 + 4 * 2 + 1, // attempts answered with an HTTP response, whatever the status
      retries: 4,
      retriesDenied: 0,
      statuses: { '2xx': 14, '4xx': 1, '5xx': 4 },
      errorsByCode: {},
      circuit: 'closed',
      limiterWaits: 0,
    });
    // Every answer the server sent is counted once per status class.
    expect(Object.values(up?.statuses ?? {}).reduce((a, b) => a + b, 0)).toBe(server.requests);
    expect(up?.latencyP50Ms).toBeGreaterThan(0);
    expect(up?.latencyP50Ms).toBeLessThanOrEqual(up?.latencyP99Ms ?? 0);
    expect(dead).toMatchObject({
      requests: 2,
      responses: 0,
      retries: 2,
      errorsByCode: { FLOWPOOL_CONNECTION_FAILED: 2 },
      circuit: 'open',
    });
    expect(stats.totals.retries).toBe(6);
    expect(stats.totals.failedByCode).toEqual({ FLOWPOOL_CIRCUIT_OPEN: 2 });

    // metrics()
    const text = await runtime.metrics();
    expect(sample(text, 'flowpool_host_requests_total', `origin="${server.origin}"`)).toBe(15);
    expect(sample(text, 'flowpool_host_requests_total', `origin="${down}"`)).toBe(2);
    expect(sample(text, 'flowpool_retries_total', '')).toBe(6);
    expect(sample(text, 'flowpool_host_retries_total', `origin="${server.origin}"`)).toBe(4);
    expect(sample(text, 'flowpool_host_responses_total', `origin="${server.origin}",class="5xx"`)).toBe(4);
    expect(sample(text, 'flowpool_host_errors_total', `origin="${down}",code="FLOWPOOL_CONNECTION_FAILED"`)).toBe(2);
    expect(sample(text, 'flowpool_host_circuit_state', `origin="${down}"`)).toBe(2);
    expect(sample(text, 'flowpool_host_circuit_state', `origin="${server.origin}"`)).toBe(0);
    expect(text).toContain('# TYPE flowpool_host_requests_total counter');

    // Channels: start per attempt sent to a worker, retry per scheduled retry, end once per job.
    const of = (channel: string) => events.filter((e) => e.channel === channel);
    const byJob = (channel: string, id: string) => of(channel).filter((e) => e.message.jobId === id);
    for (let i = 0; i < 10; i++) {
      expect(byJob('flowpool:job:start', `ok-${i}`)).toHaveLength(1);
      expect(byJob('flowpool:job:end', `ok-${i}`).map((e) => e.message)).toMatchObject([
        { ok: true, status: 200, attempts: 1 },
      ]);
      expect(byJob('flowpool:job:retry', `ok-${i}`)).toHaveLength(0);
    }
    for (let i = 0; i < 4; i++) {
      expect(byJob('flowpool:job:start', `flaky-${i}`).map((e) => e.message.attempt)).toEqual([1, 2]);
      expect(byJob('flowpool:job:retry', `flaky-${i}`).map((e) => e.message)).toMatchObject([
        { attempt: 1, status: 503, origin: server.origin },
      ]);
      expect(byJob('flowpool:job:end', `flaky-${i}`).map((e) => e.message)).toMatchObject([
        { ok: true, status: 200, attempts: 2 },
      ]);
    }
    expect(byJob('flowpool:job:start', 'refused').map((e) => e.message.attempt)).toEqual([1, 2]);
    expect(byJob('flowpool:job:retry', 'refused').map((e) => e.message)).toMatchObject([
      { attempt: 1, code: 'FLOWPOOL_CONNECTION_FAILED' },
      { attempt: 2, code: 'FLOWPOOL_CONNECTION_FAILED' },
    ]);
    expect(byJob('flowpool:job:end', 'refused').map((e) => e.message)).toMatchObject([
      { ok: false, code: 'FLOWPOOL_CIRCUIT_OPEN', attempts: 2 },
    ]);
    expect(byJob('flowpool:job:start', 'fast-fail')).toHaveLength(0);
    expect(byJob('flowpool:job:end', 'fast-fail').map((e) => e.message)).toMatchObject([
      { ok: false, code: 'FLOWPOOL_CIRCUIT_OPEN' },
    ]);
    expect(of('flowpool:job:start')).toHaveLength(10 + 8 + 1 + 2);
    expect(of('flowpool:job:end')).toHaveLength(17);
    expect(of('flowpool:job:retry')).toHaveLength(4 + 2);
    expect(of('flowpool:circuit:change').map((e) => e.message)).toEqual([{ origin: down, from: 'closed', to: 'open' }]);
  });
});
