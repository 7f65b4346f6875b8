/**
 * The coordinator without threads: a fake connection view whose counts the test sets, a dispatch
 * function that records tickets, and releases done by hand.
 */
import { describe, expect, it } from 'vitest';
import { type ConnectionView, type CoordinatorConfig, type Ticket } from '../../dist/src/scheduling/coordinator.js';
import { placingCoordinator } from '../fixtures/placing-coordinator.js';

/** Open-socket counts per (slot, worker), set by the test. `total` is the sum over workers. */
class FakeConnections implements ConnectionView {
  readonly #open = new Map<string, number>();

  set(slot: number, worker: number, sockets: number): void {
    this.#open.set(`${slot}/${worker}`, sockets);
  }

  total(slot: number): number {
    let sum = 0;
    for (const [key, count] of this.#open) if (key.startsWith(`${slot}/`)) sum += count;
    return sum;
  }

  open(slot: number, worker: number): number {
    return this.#open.get(`${slot}/${worker}`) ?? 0;
  }
}

interface Job {
  readonly name: string;
}

const BASE: CoordinatorConfig = {
  workers: 2,
  connectionsPerHost: 100,
  concurrencyPerWorker: 100,
  maxQueue: 1000,
  maxOrigins: 100,
  balancing: 'affinity',
};

function harness(overrides: Partial<CoordinatorConfig> = {}) {
  const config: CoordinatorConfig = { ...BASE, ...overrides };
  const connections = new FakeConnections();
  const dispatched: Ticket<Job>[] = [];
  const coordinator = placingCoordinator<Job>(config, connections, (ticket) => dispatched.push(ticket));
  const running = (): Ticket<Job>[] => dispatched.filter((t) => t.state === 'running');
  /** Jobs running per worker right now. */
  const perWorker = (origin?: string): number[] => {
    const counts = new Array<number>(config.workers).fill(0);
    for (const t of running())
      if (origin === undefined || t.originKey === origin) counts[t.worker] = (counts[t.worker] ?? 0) + 1;
    return counts;
  };
  const submit = (origin: string, name: string, overflow = false) => coordinator.submit(origin, { name }, overflow);
  return { config, connections, dispatched, coordinator, running, perWorker, submit };
}

const A = 'http://a.test';
const B = 'http://b.test';
const C = 'http://c.test';

describe('Coordinator: homes', () => {
  it('gives an origin a home and keeps it there under light load', () => {
    const h = harness();
    for (let i = 0; i < 20; i++) {
      const ticket = h.submit(A, `seq-${i}`);
      expect(ticket?.state).toBe('running');
      h.coordinator.release(ticket as Ticket<Job>);
    }
    // A few at once (below the spill threshold) stay home too.
    const concurrent = Array.from({ length: 7 }, (_, i) => h.submit(A, `par-${i}`));
    const home = h.coordinator.homeOf(A);
    expect(home).toBeGreaterThanOrEqual(0);
    expect(new Set(h.dispatched.map((t) => t.worker))).toEqual(new Set([home]));
    expect(concurrent.every((t) => t?.state === 'running')).toBe(true);
  });

  it('spreads origins evenly over workers (8 origins, 2 workers: 4 homes each)', () => {
    const h = harness();
    for (let i = 0; i < 8; i++) {
      const ticket = h.submit(`http://h${i}.test`, `h${i}`);
      h.coordinator.release(ticket as Ticket<Job>);
    }
    const homes = Array.from({ length: 8 }, (_, i) => h.coordinator.homeOf(`http://h${i}.test`));
    expect(homes.filter((w) => w === 0)).toHaveLength(4);
    expect(homes.filter((w) => w === 1)).toHaveLength(4);
  });

  it('re-homes the origins of a lost worker on their next job', () => {
    const h = harness();
    for (const origin of [A, B, C]) h.coordinator.release(h.submit(origin, origin) as Ticket<Job>);
    const lostHome = h.coordinator.homeOf(A);
    const otherOrigin = [B, C].find((o) => h.coordinator.homeOf(o) !== lostHome) as string;
    const otherHome = h.coordinator.homeOf(otherOrigin);

    h.coordinator.workerLost(lostHome);

    for (const origin of [A, B, C]) {
      if (origin === otherOrigin) expect(h.coordinator.homeOf(origin)).toBe(otherHome);
      else expect(h.coordinator.homeOf(origin)).toBe(-1);
    }
    // The next job picks the worker with the fewest homes: the lost one (now replaced) has none.
    const ticket = h.submit(A, 'again');
    expect(ticket?.state).toBe('running');
    expect(h.coordinator.homeOf(A)).toBe(lostHome);
    expect(ticket?.worker).toBe(lostHome);
  });
});

describe('Coordinator: readiness', () => {
  it('holds jobs while workers boot, and waits for a booting home instead of spilling', () => {
    const h = harness();
    h.coordinator.setReady(0, false);
    h.coordinator.setReady(1, false);
    const first = h.submit(A, 'a0') as Ticket<Job>;
    expect(first.state).toBe('queued');
    expect(h.dispatched).toHaveLength(0);

    // The home is chosen at once (worker 0: fewest homes, lowest index), booted or not.
    expect(h.coordinator.homeOf(A)).toBe(0);
    h.coordinator.setReady(1, true);
    // Worker 1 is up and idle, but A's home is still booting: A waits rather than open its pool on 1.
    expect(first.state).toBe('queued');
    h.coordinator.setReady(0, true);
    expect(first.state).toBe('running');
    expect(first.worker).toBe(0);
    expect(h.coordinator.queued).toBe(0);
  });

  it('does not dispatch to a worker marked not ready after it was lost', () => {
    const h = harness({ workers: 1 });
    h.coordinator.release(h.submit(A, 'warm') as Ticket<Job>);
    h.coordinator.setReady(0, false);
    h.coordinator.workerLost(0);
    const waiting = h.submit(A, 'after-loss') as Ticket<Job>;
    expect(waiting.state).toBe('queued');
    h.coordinator.setReady(0, true);
    expect(waiting.state).toBe('running');
    expect(h.dispatched.map((t) => t.payload.name)).toEqual(['warm', 'after-loss']);
  });
});

describe('Coordinator: limits', () => {
  it('never runs more than concurrencyPerWorker jobs on one worker', () => {
    const h = harness({ concurrencyPerWorker: 2 });
    const tickets = [A, B, C, A, B, C, A, B].map((origin, i) => h.submit(origin, `j${i}`));
    expect(h.perWorker()).toEqual([2, 2]);
    expect(h.coordinator.queued).toBe(4);
    // Release one at a time: a freed place is taken at once, and the per-worker bound still holds.
    let guard = 0;
    while (h.running().length > 0 && guard++ < 20) {
      h.coordinator.release(h.running()[0] as Ticket<Job>);
      for (const load of h.perWorker()) expect(load).toBeLessThanOrEqual(2);
      expect(Math.max(...h.coordinator.snapshot().loads)).toBeLessThanOrEqual(2);
    }
    expect(tickets.every((t) => t?.state === 'done')).toBe(true);
    expect(h.dispatched).toHaveLength(8);
  });

  it('keeps an origin under connectionsPerHost: extra jobs queue and start in FIFO order on release', () => {
    const h = harness({ connectionsPerHost: 3 });
    for (let i = 0; i < 7; i++) h.submit(A, `j${i}`);
    expect(h.running().map((t) => t.payload.name)).toEqual(['j0', 'j1', 'j2']);
    expect(h.coordinator.queued).toBe(4);

    let guard = 0;
    while (h.running().length > 0 && guard++ < 20) {
      h.coordinator.release(h.running()[0] as Ticket<Job>);
      expect(h.running().length).toBeLessThanOrEqual(3);
    }
    expect(h.dispatched.map((t) => t.payload.name)).toEqual(['j0', 'j1', 'j2', 'j3', 'j4', 'j5', 'j6']);
    expect(h.coordinator.queued).toBe(0);
  });

  it('counts open sockets in the demand: idle sockets elsewhere use up the cap', () => {
    const h = harness({ connectionsPerHost: 2 });
    const first = h.submit(A, 'warm') as Ticket<Job>;
    h.coordinator.release(first);
    const home = h.coordinator.homeOf(A);
    const other = 1 - home;
    // Two idle sockets to A sit on the other worker: the home may not open a third.
    h.connections.set(first.slot, other, 2);

    const t1 = h.submit(A, 'a1');
    const t2 = h.submit(A, 'a2');
    const t3 = h.submit(A, 'a3');
    expect(t1?.worker).toBe(other);
    expect(t2?.worker).toBe(other);
    expect(t3?.state).toBe('queued');
  });

  it('sends a job to the worker that holds an idle socket when the cap is reached', () => {
    const h = harness({ connectionsPerHost: 2 });
    const a = h.submit(A, 'a0') as Ticket<Job>;
    const home = a.worker;
    const other = 1 - home;
    expect(h.submit(A, 'a1')?.worker).toBe(home);
    // The home holds one socket (busy, both its jobs in flight); the other worker holds one idle
    // socket left from earlier traffic. Demand = max(1, 2) + max(1, 0) = 3 >= 2: no new socket may
    // open, so only the idle one can take the next job.
    h.connections.set(a.slot, home, 1);
    h.connections.set(a.slot, other, 1);
    const next = h.submit(A, 'a2');
    expect(next?.state).toBe('running');
    expect(next?.worker).toBe(other);
    expect(h.submit(A, 'a3')?.state).toBe('queued');
  });

  it('spills a hot origin to the idle worker once its home carries 8, and holds the cap over both', () => {
    const h = harness({ connectionsPerHost: 12 });
    for (let i = 0; i < 8; i++) h.submit(A, `j${i}`);
    const home = h.coordinator.homeOf(A);
    const other = 1 - home;
    expect(h.perWorker(A)[home]).toBe(8);
    expect(h.perWorker(A)[other]).toBe(0);

    const ninth = h.submit(A, 'j8');
    expect(ninth?.worker).toBe(other);
    for (let i = 9; i < 20; i++) h.submit(A, `j${i}`);
    const counts = h.perWorker(A);
    expect((counts[0] ?? 0) + (counts[1] ?? 0)).toBe(12);
    expect(counts[other]).toBeGreaterThan(0);
    expect(h.coordinator.queued).toBe(8);

    // Releases keep the total at the cap, whichever worker a job lands on.
    let guard = 0;
    while (h.running().length > 0 && guard++ < 40) {
      h.coordinator.release(h.running()[0] as Ticket<Job>);
      expect(h.running().length).toBeLessThanOrEqual(12);
    }
    expect(h.dispatched).toHaveLength(20);
  });

  it('does not spill below 8 in flight', () => {
    const h = harness();
    for (let i = 0; i < 8; i++) h.submit(A, `j${i}`);
    expect(new Set(h.running().map((t) => t.worker)).size).toBe(1);
  });
});

describe('Coordinator: queue', () => {
  it('returns undefined past maxQueue, and overflow bypasses it', () => {
    const h = harness({ workers: 1, concurrencyPerWorker: 1, maxQueue: 2 });
    expect(h.submit(A, 'run')?.state).toBe('running');
    expect(h.submit(A, 'q1')?.state).toBe('queued');
    expect(h.submit(B, 'q2')?.state).toBe('queued');
    expect(h.submit(A, 'full')).toBeUndefined();
    expect(h.submit(C, 'full')).toBeUndefined();
    expect(h.coordinator.queued).toBe(2);
    const over = h.submit(A, 'overflow', true);
    expect(over?.state).toBe('queued');
    expect(h.coordinator.queued).toBe(3);
  });

  it('cancel removes a queued ticket: it is never dispatched', () => {
    const h = harness({ workers: 1, concurrencyPerWorker: 1 });
    const first = h.submit(A, 'first') as Ticket<Job>;
    const doomed = h.submit(A, 'doomed') as Ticket<Job>;
    const last = h.submit(A, 'last') as Ticket<Job>;
    expect(h.coordinator.cancel(doomed)).toBe(true);
    expect(h.coordinator.cancel(doomed)).toBe(false);
    expect(h.coordinator.cancel(first)).toBe(false); // running: not the coordinator's to cancel
    expect(h.coordinator.queued).toBe(1);

    h.coordinator.release(first);
    expect(last.state).toBe('running');
    h.coordinator.release(last);
    expect(h.dispatched.map((t) => t.payload.name)).toEqual(['first', 'last']);
    expect(doomed.state).toBe('cancelled');
    expect(h.coordinator.queued).toBe(0);
    expect(h.coordinator.running).toBe(0);
  });
});

describe('Coordinator: balancing', () => {
  it("'least-busy' ignores homes and alternates between workers", () => {
    const h = harness({ balancing: 'least-busy' });
    for (let i = 0; i < 4; i++) h.submit(A, `j${i}`);
    expect(h.perWorker(A)).toEqual([2, 2]);

    const affinity = harness();
    for (let i = 0; i < 4; i++) affinity.submit(A, `j${i}`);
    expect(affinity.perWorker(A).sort()).toEqual([0, 4]);
  });
});

describe('Coordinator: origin table', () => {
  it('evicts an idle origin without sockets to make room for a new one', () => {
    const h = harness({ maxOrigins: 2 });
    h.coordinator.release(h.submit(A, 'a') as Ticket<Job>);
    h.submit(B, 'b'); // stays running
    const c = h.submit(C, 'c');
    expect(c?.state).toBe('running');
    expect(h.coordinator.homeOf(A)).toBe(-1);
    expect(h.coordinator.snapshot().originsTracked).toBe(2);
  });

  it('does not evict an origin that still has open sockets; the new origin waits until it can', () => {
    const h = harness({ maxOrigins: 2 });
    const a = h.submit(A, 'a') as Ticket<Job>;
    h.coordinator.release(a);
    h.connections.set(a.slot, a.worker, 1); // A is idle but a keep-alive socket is open
    h.submit(B, 'b');
    const c = h.submit(C, 'c') as Ticket<Job>;
    expect(c.state).toBe('queued');
    expect(c.slot).toBe(-1);
    expect(h.coordinator.homeOf(A)).toBe(a.worker);
    expect(h.coordinator.sweep()).toBe(0);
    expect(c.state).toBe('queued');

    // A's socket closes; the next sweep forgets A and C takes its row.
    h.connections.set(a.slot, a.worker, 0);
    expect(h.coordinator.sweep()).toBe(1);
    expect(c.state).toBe('running');
    expect(c.slot).toBe(a.slot);
    expect(h.coordinator.homeOf(A)).toBe(-1);
  });

  it('starts a job waiting for a row when a busy origin finishes', () => {
    const h = harness({ maxOrigins: 2 });
    const a = h.submit(A, 'a') as Ticket<Job>;
    h.submit(B, 'b');
    const c = h.submit(C, 'c') as Ticket<Job>;
    const c2 = h.submit(C, 'c2') as Ticket<Job>;
    expect(c.state).toBe('queued');
    expect(h.coordinator.queued).toBe(2);
    h.coordinator.release(a);
    expect(c.state).toBe('running');
    expect(c2.state).toBe('running');
    expect(h.coordinator.queued).toBe(0);
    expect(h.dispatched.map((t) => t.payload.name)).toEqual(['a', 'b', 'c', 'c2']);
  });

  it('sweep() forgets idle origins without sockets and keeps busy ones', () => {
    const h = harness();
    h.coordinator.release(h.submit(A, 'a') as Ticket<Job>);
    const b = h.submit(B, 'b') as Ticket<Job>;
    expect(h.coordinator.snapshot().originsTracked).toBe(2);
    expect(h.coordinator.sweep()).toBe(1);
    expect(h.coordinator.homeOf(A)).toBe(-1);
    expect(h.coordinator.homeOf(B)).toBe(b.worker);
    expect(h.coordinator.snapshot().originsTracked).toBe(1);
  });

  it('keeps the table bounded under a flood of distinct origins', () => {
    const h = harness({ maxOrigins: 16 });
    for (let i = 0; i < 1000; i++) h.coordinator.release(h.submit(`http://o${i}.test`, `o${i}`) as Ticket<Job>);
    expect(h.dispatched).toHaveLength(1000);
    expect(h.coordinator.snapshot().originsTracked).toBeLessThanOrEqual(16);
  });
});
