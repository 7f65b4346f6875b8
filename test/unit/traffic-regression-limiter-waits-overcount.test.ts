/**
 * Regression: `limiterWaits` counts each wait for a rate-limit token once.
 *
 * Was: `stats().hosts[].limiterWaits` ("times a job found no rate-limit token at dispatch and had to
 * wait") counted every refused `take()`. The coordinator asks the gate again on every pump of the origin
 * (each release runs `#pump(origin)` and then `#pumpAll()`, both reaching `#passesRate`), so one waiting
 * job was counted several times: a flood of 100 jobs at 50 rps reported ~300-320 waits.
 * Fixed: while a wake is scheduled for the origin, `Coordinator#passesRate` returns false without
 * calling `take()` again (no token can be due before the wake the gate itself asked for), so a refusal
 * is counted once per wait.
 */
import { describe, expect, it } from 'vitest';
import { type ConnectionView, type Ticket } from '../../dist/src/scheduling/coordinator.js';
import { placingCoordinator } from '../fixtures/placing-coordinator.js';
import { parseOptions } from '../../dist/src/config/options.js';
import { TrafficController } from '../../dist/src/traffic/traffic-controller.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const NO_SOCKETS: ConnectionView = { total: () => 0, open: () => 0 };
const ORIGIN = 'http://rate.test';

/** A controller with `rate.test` limited to `rps`/`burst`, and a coordinator gated by it on timers the test runs. */
function harness(rps: number, burst: number) {
  const clock = new FakeClock();
  const traffic = new TrafficController(
    parseOptions({ workers: 2, hostLimits: { 'rate.test': { rps, burst } } }),
    clock,
    {
      onCircuitChange: () => {},
    },
  );
  const wakes: { readonly wake: () => void; readonly ms: number }[] = [];
  const running: Ticket<string>[] = [];
  const coordinator = placingCoordinator<string>(
    {
      workers: 2,
      connectionsPerHost: 1_000,
      concurrencyPerWorker: 1_000,
      maxQueue: 1_000,
      maxOrigins: 10,
      balancing: 'affinity',
      originRules: (origin) => traffic.originRules(origin, new URL(origin).hostname),
      schedule: (wake, ms) => wakes.push({ wake, ms }),
    },
    NO_SOCKETS,
    (ticket) => running.push(ticket),
  );
  const submit = (name: string): void => {
    traffic.recordFirstAttempt(ORIGIN, 'rate.test');
    coordinator.submit(ORIGIN, name);
  };
  const limiterWaits = () => traffic.snapshot().hosts.find((h) => h.origin === ORIGIN)?.limiterWaits;
  return { clock, coordinator, wakes, running, submit, limiterWaits };
}

describe('limiterWaits', () => {
  it('counts each job that had to wait for a token once', () => {
    const h = harness(1, 1);
    for (const name of ['j0', 'j1', 'j2']) h.submit(name);
    // j0 went at once; j1 and j2 wait for tokens. Bounded: answer each running job, then let a second pass.
    for (let step = 0; step < 10 && h.running.length < 3; step++) {
      for (const ticket of h.running) h.coordinator.release(ticket);
      h.clock.advance(1_000);
      for (const { wake } of h.wakes.splice(0)) wake();
    }
    expect(h.running.map((t) => t.payload)).toEqual(['j0', 'j1', 'j2']);
    // Two jobs waited (j1 and j2).
    expect(h.limiterWaits()).toBe(2);
  });

  it('a flood of 100 jobs at 50 rps (burst 1) counts 99 waits, however often releases pump the origin', () => {
    const h = harness(50, 1);
    for (let i = 0; i < 100; i++) h.submit(`j${i}`);
    expect(h.running).toHaveLength(1);
    // Bounded: each step answers every running job (each release pumps the origin, then all origins)
    // and submits a job to another origin while this one waits, then runs the one wake on time.
    for (let step = 0; step < 300 && h.wakes.length > 0; step++) {
      for (const ticket of h.running) h.coordinator.release(ticket);
      expect(h.coordinator.submit('http://other.test', 'unlimited')?.state).toBe('running');
      const next = h.wakes.shift();
      if (next === undefined) break;
      // Still only one wake scheduled for the origin, whatever pumped it meanwhile.
      expect(h.wakes).toHaveLength(0);
      h.clock.advance(next.ms);
      next.wake();
    }
    expect(h.running.filter((t) => t.originKey === ORIGIN)).toHaveLength(100);
    // The first job took the burst token; each of the other 99 waited exactly once.
    expect(h.limiterWaits()).toBe(99);
  });
});
