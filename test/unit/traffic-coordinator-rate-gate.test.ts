/**
 * The coordinator applying per-origin rules (`originRules`): a rate gate checked at dispatch and a
 * concurrency cap. The gate and the timer are fakes the test drives: no clock, no sleeping.
 */
import { describe, expect, it } from 'vitest';
import {
  type ConnectionView,
  type CoordinatorConfig,
  type OriginRules,
  type RateGate,
  type Ticket,
} from '../../dist/src/scheduling/coordinator.js';
import { placingCoordinator } from '../fixtures/placing-coordinator.js';

/** Tokens are handed out by the test; without one, take() says "come back in `waitMs`". */
class FakeGate implements RateGate {
  tokens: number;
  takes = 0;
  refusals = 0;
  readonly waitMs: number;

  constructor(tokens: number, waitMs = 20) {
    this.tokens = tokens;
    this.waitMs = waitMs;
  }

  take(): number {
    this.takes++;
    if (this.tokens > 0) {
      this.tokens--;
      return 0;
    }
    this.refusals++;
    return this.waitMs;
  }
}

const NO_SOCKETS: ConnectionView = { total: () => 0, open: () => 0 };

interface Job {
  readonly name: string;
}

const A = 'http://a.test';
const B = 'http://b.test';

function harness(rules: Record<string, OriginRules>, overrides: Partial<CoordinatorConfig> = {}) {
  const wakes: { readonly wake: () => void; readonly ms: number }[] = [];
  const ruleCalls: string[] = [];
  const config: CoordinatorConfig = {
    workers: 2,
    connectionsPerHost: 100,
    concurrencyPerWorker: 100,
    maxQueue: 1_000,
    maxOrigins: 100,
    balancing: 'affinity',
    originRules: (origin) => {
      ruleCalls.push(origin);
      return rules[origin] ?? { concurrency: Infinity, rate: undefined };
    },
    schedule: (wake, ms) => wakes.push({ wake, ms }),
    ...overrides,
  };
  const dispatched: Ticket<Job>[] = [];
  const coordinator = placingCoordinator<Job>(config, NO_SOCKETS, (ticket) => dispatched.push(ticket));
  const submit = (origin: string, name: string) => coordinator.submit(origin, { name });
  const names = () => dispatched.map((t) => t.payload.name);
  const running = (origin: string) => dispatched.filter((t) => t.originKey === origin && t.state === 'running').length;
  /** Runs the wakes scheduled so far (a wake may schedule the next one). */
  const runWakes = (): void => {
    for (const { wake } of wakes.splice(0)) wake();
  };
  return { coordinator, dispatched, wakes, ruleCalls, submit, names, running, runWakes };
}

describe('Coordinator with a rate gate', () => {
  it('a job placed again after a worker handed it back unsent (ratePaid) takes no second token', () => {
    const gate = new FakeGate(1);
    const h = harness({ [A]: { concurrency: Infinity, rate: gate } });
    const first = h.submit(A, 'j0');
    expect([first?.state, gate.takes]).toEqual(['running', 1]);
    h.coordinator.release(first as Ticket<Job>);
    const again = h.coordinator.submit(A, { name: 'j0' }, true, 'default', true);
    expect([again?.state, gate.takes]).toEqual(['running', 1]);

    // Queued behind a job waiting for a token: the wake's token goes to that job, the paid one follows free.
    const waiting = h.submit(A, 'j1');
    expect([waiting?.state, gate.refusals]).toEqual(['queued', 1]);
    h.coordinator.release(again as Ticket<Job>);
    const queuedAgain = h.coordinator.submit(A, { name: 'j0' }, true, 'default', true);
    expect(queuedAgain?.state).toBe('queued');
    gate.tokens = 1;
    h.runWakes();
    expect([waiting?.state, queuedAgain?.state, gate.tokens]).toEqual(['running', 'running', 0]);
  });

  it('dispatches while there are tokens, queues the rest and schedules one wake for the gate', () => {
    const gate = new FakeGate(2, 20);
    const h = harness({ [A]: { concurrency: Infinity, rate: gate } });
    const tickets = ['j0', 'j1', 'j2', 'j3', 'j4'].map((n) => h.submit(A, n));
    expect(tickets.map((t) => t?.state)).toEqual(['running', 'running', 'queued', 'queued', 'queued']);
    expect(h.coordinator.queued).toBe(3);
    // One timer for the origin, at the wait the gate announced, however many jobs wait.
    expect(h.wakes).toHaveLength(1);
    expect(h.wakes[0]?.ms).toBe(20);
  });

  it('dispatches waiting jobs in order when the wake runs and a token is there', () => {
    const gate = new FakeGate(1);
    const h = harness({ [A]: { concurrency: Infinity, rate: gate } });
    for (let i = 0; i < 4; i++) h.submit(A, `j${i}`);
    expect(h.names()).toEqual(['j0']);
    gate.tokens = 1;
    h.runWakes();
    expect(h.names()).toEqual(['j0', 'j1']);
    expect(h.wakes).toHaveLength(1); // the next wake, for j2
    gate.tokens = 5;
    h.runWakes();
    expect(h.names()).toEqual(['j0', 'j1', 'j2', 'j3']);
    expect(h.coordinator.queued).toBe(0);
    expect(h.wakes).toHaveLength(0); // nothing waits, nothing scheduled
  });

  it('a wake that still finds no token schedules another one (the job waits, it does not fail)', () => {
    const gate = new FakeGate(1);
    const h = harness({ [A]: { concurrency: Infinity, rate: gate } });
    h.submit(A, 'j0');
    const late = h.submit(A, 'j1');
    for (let i = 0; i < 5; i++) {
      h.runWakes();
      expect(late?.state).toBe('queued');
      expect(h.wakes).toHaveLength(1);
    }
    gate.tokens = 1;
    h.runWakes();
    expect(late?.state).toBe('running');
  });

  it('while its wake is pending, the gate is not asked again: releases and other origins pump in vain', () => {
    const gate = new FakeGate(1);
    const h = harness({ [A]: { concurrency: Infinity, rate: gate } });
    for (let i = 0; i < 3; i++) h.submit(A, `j${i}`);
    expect([gate.takes, gate.refusals]).toEqual([2, 1]);
    // Even with a token there, the origin waits for the wake the gate asked for.
    gate.tokens = 5;
    h.coordinator.release(h.dispatched[0] as Ticket<Job>);
    expect(h.submit(B, 'b0')?.state).toBe('running');
    h.coordinator.release(h.dispatched[1] as Ticket<Job>);
    expect([gate.takes, gate.refusals]).toEqual([2, 1]);
    expect(h.names()).toEqual(['j0', 'b0']);
    expect(h.wakes).toHaveLength(1);
    h.runWakes();
    expect(h.names()).toEqual(['j0', 'b0', 'j1', 'j2']);
    expect([gate.takes, gate.refusals]).toEqual([4, 1]);
  });

  it('new jobs queue behind waiting ones even when a token has appeared (FIFO per origin)', () => {
    const gate = new FakeGate(1);
    const h = harness({ [A]: { concurrency: Infinity, rate: gate } });
    h.submit(A, 'j0');
    h.submit(A, 'j1');
    gate.tokens = 1;
    expect(h.submit(A, 'j2')?.state).toBe('queued');
    h.runWakes();
    expect(h.names()).toEqual(['j0', 'j1']);
  });

  it('a release does not bypass the gate: queued jobs still wait for a token', () => {
    const gate = new FakeGate(2);
    const h = harness({ [A]: { concurrency: Infinity, rate: gate } });
    for (let i = 0; i < 4; i++) h.submit(A, `j${i}`);
    h.coordinator.release(h.dispatched[0] as Ticket<Job>);
    h.coordinator.release(h.dispatched[1] as Ticket<Job>);
    expect(h.names()).toEqual(['j0', 'j1']);
    expect(h.coordinator.queued).toBe(2);
  });

  it('skips cancelled tickets without spending a token on them', () => {
    const gate = new FakeGate(1);
    const h = harness({ [A]: { concurrency: Infinity, rate: gate } });
    h.submit(A, 'j0');
    const cancelled = h.submit(A, 'j1') as Ticket<Job>;
    h.submit(A, 'j2');
    expect(h.coordinator.cancel(cancelled)).toBe(true);
    gate.tokens = 1;
    h.runWakes();
    expect(h.names()).toEqual(['j0', 'j2']);
    expect(gate.tokens).toBe(0);
  });

  it('gates each origin on its own: a limited origin does not hold up another', () => {
    const gate = new FakeGate(0);
    const h = harness({ [A]: { concurrency: Infinity, rate: gate } });
    expect(h.submit(A, 'a0')?.state).toBe('queued');
    for (let i = 0; i < 5; i++) expect(h.submit(B, `b${i}`)?.state).toBe('running');
    expect(gate.takes).toBe(1);
  });

  it('asks originRules once per origin', () => {
    const h = harness({ [A]: { concurrency: 2, rate: undefined } });
    for (let i = 0; i < 5; i++) {
      const t = h.submit(A, `j${i}`);
      if (t?.state === 'running') h.coordinator.release(t);
    }
    h.submit(B, 'b0');
    expect(h.ruleCalls).toEqual([A, B]);
  });
});

describe('Coordinator with an origin concurrency cap', () => {
  it('never has more than `concurrency` jobs in flight to the origin, over all workers', () => {
    const h = harness({ [A]: { concurrency: 3, rate: undefined } });
    const tickets = Array.from({ length: 20 }, (_, i) => h.submit(A, `j${i}`) as Ticket<Job>);
    expect(h.running(A)).toBe(3);
    let released = 0;
    // Bounded: release one running job at a time until all 20 have run.
    for (let step = 0; step < 40 && released < 20; step++) {
      const next = h.dispatched.find((t) => t.state === 'running');
      if (next === undefined) break;
      h.coordinator.release(next);
      released++;
      expect(h.running(A)).toBeLessThanOrEqual(3);
    }
    expect(released).toBe(20);
    expect(tickets.every((t) => t.state === 'done')).toBe(true);
  });

  it('the cap holds when the origin is hot enough to spill over workers', () => {
    const h = harness({ [A]: { concurrency: 10, rate: undefined } }, { workers: 4 });
    for (let i = 0; i < 50; i++) h.submit(A, `j${i}`);
    expect(h.running(A)).toBe(10);
    expect(h.coordinator.queued).toBe(40);
  });

  it('asks the rate gate only when a job can actually go (a token is never taken in vain)', () => {
    const gate = new FakeGate(100);
    const h = harness({ [A]: { concurrency: 1, rate: gate } });
    for (let i = 0; i < 5; i++) h.submit(A, `j${i}`);
    expect(h.names()).toEqual(['j0']);
    expect(gate.takes).toBe(1);
    expect(h.wakes).toHaveLength(0); // blocked by the cap, not the rate: a release will pump
    h.coordinator.release(h.dispatched[0] as Ticket<Job>);
    expect(h.names()).toEqual(['j0', 'j1']);
    expect(gate.takes).toBe(2);
  });

  it('with both: the cap and the gate each hold', () => {
    const gate = new FakeGate(2);
    const h = harness({ [A]: { concurrency: 2, rate: gate } });
    for (let i = 0; i < 6; i++) h.submit(A, `j${i}`);
    expect(h.names()).toEqual(['j0', 'j1']);
    gate.tokens = 10;
    h.runWakes(); // nothing scheduled: the cap stopped it first
    h.coordinator.release(h.dispatched[0] as Ticket<Job>);
    expect(h.names()).toEqual(['j0', 'j1', 'j2']);
    expect(h.running(A)).toBe(2);
  });
});
