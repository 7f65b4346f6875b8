/**
 * TrafficController without threads: options parsed as createRuntime parses them, jobs normalised as
 * the runtime normalises them, a fake clock, a fixed wall clock (for Retry-After dates) and a fixed
 * random draw.
 */
import { describe, expect, it } from 'vitest';
import { normalizeJob, type NormalizedJob } from '../../dist/src/job/job.js';
import { parseOptions, type RuntimeOptions } from '../../dist/src/config/options.js';
import type { CircuitState } from '../../dist/src/traffic/circuit-breaker.js';
import { TrafficController, type AttemptResult } from '../../dist/src/traffic/traffic-controller.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const ORIGIN = 'http://api.test';
const HOST = 'api.test';
/** The controller's wall clock (Retry-After HTTP dates are absolute): Wed, 01 Jan 2025 00:00:00 GMT. */
const WALL = Date.UTC(2025, 0, 1, 0, 0, 0);

function controller(options: RuntimeOptions = {}, random = () => 0.5) {
  const resolved = parseOptions({ workers: 1, ...options });
  const clock = new FakeClock();
  const changes: [string, CircuitState, CircuitState][] = [];
  const traffic = new TrafficController(
    resolved,
    clock,
    { onCircuitChange: (origin, from, to) => changes.push([origin, from, to]) },
    random,
    () => WALL,
  );
  const job = (input: Record<string, unknown> = {}): NormalizedJob =>
    normalizeJob({ url: `${ORIGIN}/x`, ...input }, resolved);
  const host = () => traffic.snapshot().hosts.find((h) => h.origin === ORIGIN);
  return { traffic, clock, changes, job, host };
}

const status = (code: number, headers: Record<string, string> = {}): AttemptResult => ({
  ok: true,
  status: code,
  headers,
});
const failure = (
  code: 'FLOWPOOL_CONNECTION_FAILED' | 'FLOWPOOL_TIMEOUT' | 'FLOWPOOL_ABORTED' | 'FLOWPOOL_RESPONSE_TOO_LARGE',
): AttemptResult => ({ ok: false, code });

describe('TrafficController.retryDelay: what is retried', () => {
  it('does not retry by default (attempts 1)', () => {
    const t = controller();
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(503), 60_000)).toBeUndefined();
  });

  it('retries a GET on a listed status with backoff: base x 2^(attempt-1) x draw', () => {
    const t = controller({ retry: { attempts: 4, minDelayMs: 100, maxDelayMs: 10_000 } });
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(502), 60_000)).toBe(50);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 2, status(504), 60_000)).toBe(100);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 3, status(503), 60_000)).toBe(200);
  });

  it('does not retry a non-idempotent method (POST, PATCH) unless the job says idempotent', () => {
    const t = controller({ retry: { attempts: 3 } });
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    expect(t.traffic.retryDelay(ORIGIN, t.job({ method: 'POST' }), 1, status(503), 60_000)).toBeUndefined();
    expect(
      t.traffic.retryDelay(ORIGIN, t.job({ method: 'PATCH' }), 1, failure('FLOWPOOL_CONNECTION_FAILED'), 60_000),
    ).toBeUndefined();
    expect(
      t.traffic.retryDelay(ORIGIN, t.job({ method: 'POST', idempotent: true }), 1, status(503), 60_000),
    ).toBeDefined();
    expect(t.traffic.retryDelay(ORIGIN, t.job({ method: 'PUT' }), 1, status(503), 60_000)).toBeDefined();
    expect(t.traffic.retryDelay(ORIGIN, t.job({ method: 'DELETE' }), 1, status(503), 60_000)).toBeDefined();
  });

  it('does not retry a status that is not in the list (404, 500 by default; 200)', () => {
    const t = controller({ retry: { attempts: 3 } });
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    for (const code of [200, 404, 500])
      expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(code), 60_000)).toBeUndefined();
  });

  it('uses the job statuses / error codes when given, field by field over the runtime settings', () => {
    const t = controller({ retry: { attempts: 2, minDelayMs: 10 } });
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    const own = t.job({ retry: { statuses: [500], errorCodes: ['FLOWPOOL_TIMEOUT'] } });
    expect(t.traffic.retryDelay(ORIGIN, own, 1, status(500), 60_000)).toBe(5); // runtime minDelayMs, job statuses
    expect(t.traffic.retryDelay(ORIGIN, own, 1, status(503), 60_000)).toBeUndefined();
    expect(t.traffic.retryDelay(ORIGIN, own, 1, failure('FLOWPOOL_TIMEOUT'), 60_000)).toBeDefined();
    expect(t.traffic.retryDelay(ORIGIN, own, 1, failure('FLOWPOOL_CONNECTION_FAILED'), 60_000)).toBeUndefined();
    // A job may raise attempts above the runtime's.
    expect(t.traffic.retryDelay(ORIGIN, t.job({ retry: { attempts: 5 } }), 3, status(503), 60_000)).toBeDefined();
  });

  it('retries connection failures by default, not timeouts or other errors', () => {
    const t = controller({ retry: { attempts: 3 } });
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, failure('FLOWPOOL_CONNECTION_FAILED'), 60_000)).toBeDefined();
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, failure('FLOWPOOL_TIMEOUT'), 60_000)).toBeUndefined();
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, failure('FLOWPOOL_RESPONSE_TOO_LARGE'), 60_000)).toBeUndefined();
  });

  it('stops when the attempts are used up (attempts counts the first run)', () => {
    const t = controller({ retry: { attempts: 3 } });
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 2, status(503), 60_000)).toBeDefined();
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 3, status(503), 60_000)).toBeUndefined();
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 4, status(503), 60_000)).toBeUndefined();
  });
});

describe('TrafficController.retryDelay: Retry-After and the deadline', () => {
  it('waits Retry-After (seconds) for 429 and 503, instead of the backoff', () => {
    const t = controller({ retry: { attempts: 3, minDelayMs: 10 } });
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(429, { 'retry-after': '2' }), 60_000)).toBe(2_000);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(503, { 'retry-after': '3' }), 60_000)).toBe(3_000);
  });

  it('waits until an HTTP-date Retry-After, measured on the injected wall clock', () => {
    const t = controller({ retry: { attempts: 3 } });
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    expect(
      t.traffic.retryDelay(ORIGIN, t.job(), 1, status(429, { 'retry-after': 'Wed, 01 Jan 2025 00:00:06 GMT' }), 60_000),
    ).toBe(6_000);
    expect(
      t.traffic.retryDelay(
        ORIGIN,
        t.job(),
        1,
        status(503, { 'retry-after': new Date(WALL + 2_000).toUTCString() }),
        60_000,
      ),
    ).toBe(2_000);
    // A date already past means "now".
    expect(
      t.traffic.retryDelay(ORIGIN, t.job(), 1, status(429, { 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }), 60_000),
    ).toBe(0);
  });

  it('ignores Retry-After on other statuses (502 backs off)', () => {
    const t = controller({ retry: { attempts: 3, minDelayMs: 10 } });
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(502, { 'retry-after': '30' }), 60_000)).toBe(5);
  });

  it('falls back to the backoff when Retry-After is absent or garbage', () => {
    const t = controller({ retry: { attempts: 3, minDelayMs: 10 } });
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(429), 60_000)).toBe(5);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(429, { 'retry-after': 'later' }), 60_000)).toBe(5);
    // Not an HTTP-date, although V8's Date.parse reads it as one (in 2001, i.e. "retry now").
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(429, { 'retry-after': '1.5' }), 60_000)).toBe(5);
  });

  it('refuses a Retry-After that reaches past the remaining deadline (the response is returned instead)', () => {
    const t = controller({ retry: { attempts: 3 } });
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(429, { 'retry-after': '5' }), 4_999)).toBeUndefined();
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(429, { 'retry-after': '5' }), 5_000)).toBeUndefined();
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(429, { 'retry-after': '5' }), 5_001)).toBe(5_000);
    // A refusal for the deadline is not a budget denial.
    expect(t.host()?.retriesDenied).toBe(0);
  });

  it('refuses a backoff that reaches past the remaining deadline', () => {
    const t = controller({ retry: { attempts: 3, minDelayMs: 1_000 } }, () => 0.9);
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(503), 500)).toBeUndefined();
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(503), 1_000)).toBe(900);
  });
});

describe('TrafficController.retryDelay: the retry budget', () => {
  it('denies retries beyond ratio x requests + minRetries and counts the denials', () => {
    const t = controller({
      retry: { attempts: 5, minDelayMs: 0 },
      retryBudget: { ratio: 0.2, minRetries: 0, windowMs: 60_000 },
    });
    for (let i = 0; i < 10; i++) t.traffic.recordFirstAttempt(ORIGIN, HOST);
    const outcomes = Array.from({ length: 5 }, () => t.traffic.retryDelay(ORIGIN, t.job(), 1, status(503), 60_000));
    expect(outcomes.filter((d) => d !== undefined)).toHaveLength(2);
    expect(t.host()).toMatchObject({ requests: 10, retries: 2, retriesDenied: 3 });
  });

  it('earns retries back as the window slides', () => {
    const t = controller({
      retry: { attempts: 5, minDelayMs: 0 },
      retryBudget: { ratio: 0, minRetries: 1, windowMs: 1_000 },
    });
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(503), 60_000)).toBe(0);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(503), 60_000)).toBeUndefined();
    t.clock.advance(1_000);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(503), 60_000)).toBe(0);
    expect(t.host()).toMatchObject({ retries: 2, retriesDenied: 1 });
  });

  it('is per host: one host spending its budget leaves another untouched', () => {
    const t = controller({
      retry: { attempts: 5, minDelayMs: 0 },
      retryBudget: { ratio: 0, minRetries: 1, windowMs: 60_000 },
    });
    const other = 'http://other.test';
    t.traffic.recordFirstAttempt(ORIGIN, HOST);
    t.traffic.recordFirstAttempt(other, 'other.test');
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(503), 60_000)).toBe(0);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, status(503), 60_000)).toBeUndefined();
    const otherJob = normalizeJob(
      { url: `${other}/y` },
      parseOptions({ workers: 1, retry: { attempts: 5, minDelayMs: 0 } }),
    );
    expect(t.traffic.retryDelay(other, otherJob, 1, status(503), 60_000)).toBe(0);
  });
});

describe('TrafficController: breaker, limits and counters', () => {
  const breakerOptions = { circuitBreaker: { failureThreshold: 2, cooldownMs: 1_000 } } as const;

  it('admits while closed, fails fast while open (with retryInMs), and reports changes by origin', () => {
    const t = controller(breakerOptions);
    expect(t.traffic.admit(ORIGIN, HOST)).toEqual({ kind: 'go', pass: 'pass' });
    expect(t.traffic.admit(ORIGIN, HOST)).toEqual({ kind: 'go', pass: 'pass' });
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_CONNECTION_FAILED'), 5, 'pass');
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_TIMEOUT'), 5, 'pass');
    expect(t.traffic.admit(ORIGIN, HOST)).toEqual({ kind: 'circuit-open', retryInMs: 1_000 });
    t.clock.advance(1_000);
    expect(t.traffic.admit(ORIGIN, HOST)).toEqual({ kind: 'go', pass: 'probe' });
    expect(t.traffic.admit(ORIGIN, HOST)).toMatchObject({ kind: 'circuit-open' });
    t.traffic.recordAttempt(ORIGIN, status(200), 5, 'probe');
    expect(t.host()?.circuit).toBe('closed');
    expect(t.changes).toEqual([
      [ORIGIN, 'closed', 'open'],
      [ORIGIN, 'open', 'half-open'],
      [ORIGIN, 'half-open', 'closed'],
    ]);
  });

  it('counts 5xx as breaker failures when failOn5xx (the default), not otherwise', () => {
    const on = controller(breakerOptions);
    on.traffic.admit(ORIGIN, HOST);
    on.traffic.recordAttempt(ORIGIN, status(503), 1, 'pass');
    on.traffic.recordAttempt(ORIGIN, status(500), 1, 'pass');
    expect(on.host()?.circuit).toBe('open');
    const off = controller({ circuitBreaker: { failureThreshold: 2, cooldownMs: 1_000, failOn5xx: false } });
    off.traffic.admit(ORIGIN, HOST);
    off.traffic.recordAttempt(ORIGIN, status(503), 1, 'pass');
    off.traffic.recordAttempt(ORIGIN, status(500), 1, 'pass');
    expect(off.host()?.circuit).toBe('closed');
  });

  it('treats 4xx (429 included) as a sign of life, and aborts as neutral', () => {
    const t = controller(breakerOptions);
    t.traffic.admit(ORIGIN, HOST);
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_CONNECTION_FAILED'), 1, 'pass');
    t.traffic.recordAttempt(ORIGIN, status(429), 1, 'pass');
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_CONNECTION_FAILED'), 1, 'pass');
    expect(t.host()?.circuit).toBe('closed');
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_ABORTED'), 1, 'pass');
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_CONNECTION_FAILED'), 1, 'pass');
    expect(t.host()?.circuit).toBe('open');
  });

  it('reports circuit "off" when no breaker is configured, and never fails fast', () => {
    const t = controller();
    expect(t.traffic.admit(ORIGIN, HOST)).toEqual({ kind: 'go', pass: 'pass' });
    for (let i = 0; i < 20; i++) t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_CONNECTION_FAILED'), 1, 'pass');
    expect(t.traffic.admit(ORIGIN, HOST)).toEqual({ kind: 'go', pass: 'pass' });
    expect(t.host()?.circuit).toBe('off');
  });

  it("only the probe's outcome decides a half-open circuit; a straggler admitted while closed does not", () => {
    const t = controller(breakerOptions);
    expect(t.traffic.admit(ORIGIN, HOST)).toEqual({ kind: 'go', pass: 'pass' }); // a slow one, in flight below
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_TIMEOUT'), 5, 'pass');
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_TIMEOUT'), 5, 'pass');
    t.clock.advance(1_000);
    expect(t.traffic.admit(ORIGIN, HOST)).toEqual({ kind: 'go', pass: 'probe' });
    t.traffic.recordAttempt(ORIGIN, status(200), 5, 'pass'); // the straggler answers
    expect(t.host()?.circuit).toBe('half-open');
    expect(t.traffic.admit(ORIGIN, HOST)).toMatchObject({ kind: 'circuit-open', retryInMs: 0 });
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_TIMEOUT'), 5, 'probe');
    expect(t.host()?.circuit).toBe('open');
  });

  it('releaseAdmission gives a probe that never ran its slot back; the circuit stays half-open', () => {
    const t = controller(breakerOptions);
    expect(t.traffic.admit(ORIGIN, HOST)).toEqual({ kind: 'go', pass: 'pass' });
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_TIMEOUT'), 5, 'pass');
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_TIMEOUT'), 5, 'pass');
    t.clock.advance(1_000);
    expect(t.traffic.admit(ORIGIN, HOST)).toEqual({ kind: 'go', pass: 'probe' });
    expect(t.traffic.admit(ORIGIN, HOST)).toMatchObject({ kind: 'circuit-open' });
    t.traffic.releaseAdmission(ORIGIN, 'probe');
    expect(t.host()?.circuit).toBe('half-open');
    expect(t.traffic.admit(ORIGIN, HOST)).toEqual({ kind: 'go', pass: 'probe' });
    expect(t.traffic.admit(ORIGIN, HOST)).toMatchObject({ kind: 'circuit-open' });
    expect(t.changes.map(([, from, to]) => `${from}->${to}`)).toEqual(['closed->open', 'open->half-open']);
  });

  it('releaseAdmission of a closed-circuit pass is neutral: it neither counts as a failure nor resets the count', () => {
    const t = controller(breakerOptions);
    expect(t.traffic.admit(ORIGIN, HOST)).toEqual({ kind: 'go', pass: 'pass' });
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_CONNECTION_FAILED'), 1, 'pass');
    t.traffic.releaseAdmission(ORIGIN, 'pass');
    t.traffic.releaseAdmission(ORIGIN, 'pass');
    expect(t.host()?.circuit).toBe('closed');
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_CONNECTION_FAILED'), 1, 'pass');
    expect(t.host()?.circuit).toBe('open');
    // An origin the controller never saw: nothing to release, nothing thrown.
    expect(() => t.traffic.releaseAdmission('http://unknown.test', 'probe')).not.toThrow();
  });

  it('hands the coordinator the matching hostLimits: concurrency and a rate gate (burst defaults to ceil(rps))', () => {
    const t = controller({
      hostLimits: {
        '*.test': { rps: 2.5 },
        'api.test': { rps: 10, burst: 3, concurrency: 4 },
        '*': { concurrency: 7 },
      },
    });
    const api = t.traffic.originRules(ORIGIN, HOST);
    expect(api.concurrency).toBe(4);
    expect([api.rate?.take(), api.rate?.take(), api.rate?.take()]).toEqual([0, 0, 0]);
    expect(api.rate?.take()).toBe(100);
    const suffix = t.traffic.originRules('http://b.test', 'b.test');
    expect(suffix.concurrency).toBe(Infinity);
    expect([suffix.rate?.take(), suffix.rate?.take(), suffix.rate?.take()]).toEqual([0, 0, 0]);
    expect(suffix.rate?.take()).toBeGreaterThan(0);
    const fallback = t.traffic.originRules('http://x.org', 'x.org');
    expect([fallback.concurrency, fallback.rate]).toEqual([7, undefined]);
  });

  it('counts requests, responses (any status), statuses by class, errors by code and latency per host', () => {
    const t = controller();
    for (let i = 0; i < 4; i++) t.traffic.recordFirstAttempt(ORIGIN, HOST);
    t.traffic.recordAttempt(ORIGIN, status(200), 10, 'pass');
    t.traffic.recordAttempt(ORIGIN, status(204), 20, 'pass');
    t.traffic.recordAttempt(ORIGIN, status(503), 30, 'pass');
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_TIMEOUT'), 1_000, 'pass');
    t.traffic.recordAttempt(ORIGIN, failure('FLOWPOOL_TIMEOUT'), 1_000, 'pass');
    const host = t.host();
    expect(host).toMatchObject({
      requests: 4,
      responses: 3,
      statuses: { '2xx': 2, '5xx': 1 },
      errorsByCode: { FLOWPOOL_TIMEOUT: 2 },
      retries: 0,
      retriesDenied: 0,
      circuit: 'off',
      limiterWaits: 0,
    });
    expect(host?.latencyP50Ms).toBeGreaterThanOrEqual(20);
    expect(host?.latencyP50Ms).toBeLessThanOrEqual(host?.latencyP99Ms ?? 0);
  });

  it('counts limiter waits from the host rate gate', () => {
    const t = controller({ hostLimits: { 'api.test': { rps: 1, burst: 1 } } });
    const gate = t.traffic.originRules(ORIGIN, HOST).rate;
    gate?.take();
    gate?.take();
    gate?.take();
    expect(t.host()?.limiterWaits).toBe(2);
  });

  it('keeps a host until the coordinator forgets its origin, then drops it (one eviction rule)', () => {
    const t = controller({ maxOrigins: 3 });
    for (const name of ['a', 'b', 'c', 'd']) t.traffic.recordFirstAttempt(`http://${name}.test`, `${name}.test`);
    // No cap of its own: the coordinator's table bounds the origins.
    expect(t.traffic.snapshot().hosts).toHaveLength(4);
    t.traffic.forget('http://b.test');
    expect(
      t.traffic
        .snapshot()
        .hosts.map((h) => h.origin)
        .sort(),
    ).toEqual(['http://a.test', 'http://c.test', 'http://d.test']);
    expect(t.traffic.snapshot(2).hosts).toHaveLength(2);
  });
});
