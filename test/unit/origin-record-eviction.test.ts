/**
 * One eviction rule for an origin's one record: the coordinator forgets an origin only when it is idle, its
 * sockets have closed and its traffic state retains nothing (no open circuit, no retries in the budget's
 * window); forgetting it drops its traffic state too. Without threads: the traffic controller and the
 * coordinator wired as the runtime wires them, a fake clock and a fake connection view.
 */
import { describe, expect, it } from 'vitest';
import { type ConnectionView, type Ticket } from '../../dist/src/scheduling/coordinator.js';
import { placingCoordinator } from '../fixtures/placing-coordinator.js';
import { normalizeJob } from '../../dist/src/job/job.js';
import { parseOptions, type RuntimeOptions } from '../../dist/src/config/options.js';
import { TrafficController } from '../../dist/src/traffic/traffic-controller.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const ORIGIN = 'http://api.test';

function wired(options: RuntimeOptions) {
  const resolved = parseOptions({ workers: 1, ...options });
  const clock = new FakeClock();
  const traffic = new TrafficController(resolved, clock, { onCircuitChange: () => {} }, () => 0);
  let sockets = 0;
  const view: ConnectionView = { total: () => sockets, open: () => sockets };
  const dispatched: Ticket<string>[] = [];
  const forgotten: string[] = [];
  const coordinator = placingCoordinator<string>(
    {
      workers: 1,
      connectionsPerHost: 10,
      concurrencyPerWorker: 10,
      maxQueue: 10,
      maxOrigins: 10,
      balancing: 'affinity',
      originRules: (origin) => traffic.originRules(origin, new URL(origin).hostname),
      onForget: (origin) => {
        forgotten.push(origin);
        traffic.forget(origin);
      },
    },
    view,
    (ticket) => dispatched.push(ticket),
  );
  /** One job to the origin, run to completion with the given attempt result. */
  const runOnce = (fail: boolean): void => {
    traffic.recordFirstAttempt(ORIGIN, 'api.test');
    const admission = traffic.admit(ORIGIN, 'api.test');
    const ticket = coordinator.submit(ORIGIN, 'job');
    expect(ticket?.state).toBe('running');
    if (ticket !== undefined) coordinator.release(ticket);
    traffic.recordAttempt(
      ORIGIN,
      fail ? { ok: false, code: 'FLOWPOOL_CONNECTION_FAILED' } : { ok: true, status: 200, headers: {} },
      1,
      admission.kind === 'go' ? admission.pass : 'pass',
    );
  };
  const hostStats = () => traffic.snapshot().hosts.find((h) => h.origin === ORIGIN);
  return {
    traffic,
    clock,
    coordinator,
    forgotten,
    runOnce,
    hostStats,
    setSockets: (n: number) => (sockets = n),
    job: () => normalizeJob({ url: `${ORIGIN}/x` }, resolved),
  };
}

describe('origin record: one eviction rule', () => {
  it('an idle origin without sockets is forgotten, and its traffic state goes with it', () => {
    const t = wired({});
    t.runOnce(false);
    expect(t.hostStats()?.requests).toBe(1);
    t.setSockets(1);
    expect(t.coordinator.sweep()).toBe(0);
    t.setSockets(0);
    expect(t.coordinator.sweep()).toBe(1);
    expect(t.forgotten).toEqual([ORIGIN]);
    expect(t.hostStats()).toBeUndefined();
  });

  it('an open circuit is never forgotten: it would close by forgetting', () => {
    const t = wired({ circuitBreaker: { failureThreshold: 2, cooldownMs: 1_000 } });
    t.runOnce(true);
    t.runOnce(true);
    expect(t.hostStats()?.circuit).toBe('open');
    expect(t.coordinator.sweep()).toBe(0);
    expect(t.traffic.admit(ORIGIN, 'api.test').kind).toBe('circuit-open');
    // Half-open after the cooldown, closed by a successful probe: now it may go.
    t.clock.advance(1_000);
    t.runOnce(false);
    expect(t.hostStats()?.circuit).toBe('closed');
    expect(t.coordinator.sweep()).toBe(1);
  });

  it('a retry budget in use is never forgotten: forgetting would hand a failing host a fresh budget', () => {
    const t = wired({
      retry: { attempts: 3, minDelayMs: 0 },
      retryBudget: { ratio: 0, minRetries: 1, windowMs: 10_000 },
    });
    t.runOnce(false);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, { ok: true, status: 503, headers: {} }, 60_000)).toBe(0);
    expect(t.coordinator.sweep()).toBe(0);
    expect(t.traffic.retryDelay(ORIGIN, t.job(), 1, { ok: true, status: 503, headers: {} }, 60_000)).toBeUndefined();
    // Once the window has slid past the retry, the record holds nothing worth keeping.
    t.clock.advance(10_001);
    expect(t.coordinator.sweep()).toBe(1);
  });
});
