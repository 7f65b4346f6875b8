/**
 * Tenants in the coordinator, without threads: one origin capped at 4 in flight, a tenant's flood and
 * another tenant's few jobs, the per-tenant queue cap at admission, and the option's resolution.
 */
import { describe, expect, it } from 'vitest';
import { type CoordinatorConfig, type Ticket } from '../../dist/src/scheduling/coordinator.js';
import { placingCoordinator } from '../fixtures/placing-coordinator.js';
import { FlowpoolError } from '../../dist/src/errors/flowpool-error.js';
import { normalizeJob } from '../../dist/src/job/job.js';
import { parseOptions } from '../../dist/src/config/options.js';
import { resolveTenants } from '../../dist/src/scheduling/tenants.js';

const NO_SOCKETS = { total: () => 0, open: () => 0 };
const ORIGIN = 'http://a.test';

function harness(overrides: Partial<CoordinatorConfig> = {}) {
  const config: CoordinatorConfig = {
    workers: 2,
    connectionsPerHost: 100,
    concurrencyPerWorker: 100,
    maxQueue: 100_000,
    maxOrigins: 10,
    balancing: 'affinity',
    originRules: () => ({ concurrency: 4, rate: undefined }),
    ...overrides,
  };
  const dispatched: Ticket<string>[] = [];
  const coordinator = placingCoordinator<string>(config, NO_SOCKETS, (ticket) => dispatched.push(ticket));
  /** Finishes the oldest running job, letting the next one go: the order dispatches happen in. */
  const completeOne = (): void => {
    const running = dispatched.find((t) => t.state === 'running');
    if (running !== undefined) coordinator.release(running);
  };
  return { coordinator, dispatched, completeOne };
}

describe('Coordinator: tenants share an origin by weight', () => {
  it("serves B's 20 jobs within the next 40 dispatches after A's 10,000 (equal weights)", () => {
    const h = harness();
    for (let i = 0; i < 10_000; i++) h.coordinator.submit(ORIGIN, `A${i}`, false, 'A');
    expect(h.dispatched).toHaveLength(4);
    for (let i = 0; i < 100; i++) h.completeOne();
    const before = h.dispatched.length;
    for (let i = 0; i < 20; i++) h.coordinator.submit(ORIGIN, `B${i}`, false, 'B');
    for (let i = 0; i < 40; i++) h.completeOne();
    const next = h.dispatched.slice(before).map((t) => t.payload);
    expect(next).toHaveLength(40);
    expect(next.filter((p) => p.startsWith('B'))).toEqual(Array.from({ length: 20 }, (_, i) => `B${i}`));
    const tenants = h.coordinator.snapshot().tenants;
    expect(tenants.find((t) => t.tenant === 'A')?.queued).toBe(10_000 - 4 - 100 - 20);
    expect(tenants.reduce((sum, t) => sum + t.running, 0)).toBe(4);
  });

  it('holds a 3:1 weight ratio over a window of 800 dispatches', () => {
    const h = harness({ tenants: resolveTenants({ heavy: { weight: 3 }, light: { weight: 1 } }, 100_000) });
    for (let i = 0; i < 3000; i++) h.coordinator.submit(ORIGIN, 'heavy', false, 'heavy');
    for (let i = 0; i < 3000; i++) h.coordinator.submit(ORIGIN, 'light', false, 'light');
    const before = h.dispatched.length;
    for (let i = 0; i < 800; i++) h.completeOne();
    const window = h.dispatched.slice(before);
    const heavy = window.filter((t) => t.tenant === 'heavy').length;
    const light = window.filter((t) => t.tenant === 'light').length;
    expect(heavy + light).toBe(800);
    expect(heavy / light).toBeGreaterThanOrEqual(2.9);
    expect(heavy / light).toBeLessThanOrEqual(3.1);
  });

  it('with one tenant keeps submission order (plain FIFO)', () => {
    const h = harness();
    for (let i = 0; i < 500; i++) h.coordinator.submit(ORIGIN, `j${i}`);
    for (let i = 0; i < 500; i++) h.completeOne();
    expect(h.dispatched.map((t) => t.payload)).toEqual(Array.from({ length: 500 }, (_, i) => `j${i}`));
    expect(h.dispatched.every((t) => t.tenant === 'default')).toBe(true);
  });

  it('a cancelled ticket leaves its tenant counts and is never dispatched', () => {
    const h = harness();
    for (let i = 0; i < 4; i++) h.coordinator.submit(ORIGIN, `A${i}`, false, 'A');
    const queued = h.coordinator.submit(ORIGIN, 'B0', false, 'B') as Ticket<string>;
    expect(h.coordinator.snapshot().tenants).toContainEqual({ tenant: 'B', queued: 1, running: 0 });
    expect(h.coordinator.cancel(queued)).toBe(true);
    expect(h.coordinator.snapshot().tenants.map((t) => t.tenant)).toEqual(['A']);
    for (let i = 0; i < 4; i++) h.completeOne();
    expect(h.dispatched.map((t) => t.payload)).toEqual(['A0', 'A1', 'A2', 'A3']);
    expect(h.coordinator.snapshot().tenants).toEqual([]);
  });
});

describe('Coordinator: per-tenant admission', () => {
  it('refuses a tenant at its maxQueued while other tenants are still admitted', () => {
    const h = harness({ tenants: resolveTenants({ A: { weight: 1, maxQueued: 10 } }, 1000) });
    const results = Array.from({ length: 20 }, (_, i) => h.coordinator.submit(ORIGIN, `A${i}`, false, 'A'));
    // 4 run, 10 queue, 6 refused.
    expect(results.filter((t) => t === undefined)).toHaveLength(6);
    expect(h.coordinator.queueFullReason('A')).toBe('tenant "A" has 10 jobs queued (its maxQueued)');
    expect(h.coordinator.submit(ORIGIN, 'B0', false, 'B')?.state).toBe('queued');
    expect(h.coordinator.submit(ORIGIN, 'd0')?.state).toBe('queued');
    // runMany's overflow path queues past the tenant's cap, as it does past maxQueue.
    expect(h.coordinator.submit(ORIGIN, 'A-overflow', true, 'A')?.state).toBe('queued');
    // A has 11 queued now (the overflow counts). Four dispatches take turns A, B, default, A: 9 left.
    for (let i = 0; i < 4; i++) h.completeOne();
    expect(h.dispatched.slice(-4).map((t) => t.tenant)).toEqual(['A', 'B', 'default', 'A']);
    expect(h.coordinator.submit(ORIGIN, 'A-again', false, 'A')?.state).toBe('queued');
  });

  it('the whole queue still caps every tenant together (maxQueue)', () => {
    const h = harness({ maxQueue: 5 });
    for (let i = 0; i < 9; i++) h.coordinator.submit(ORIGIN, `A${i}`, false, 'A');
    expect(h.coordinator.submit(ORIGIN, 'B0', false, 'B')).toBeUndefined();
    expect(h.coordinator.queueFullReason('B')).toBe('the queue is full (maxQueue 5)');
  });
});

describe('tenants option and job.tenant', () => {
  it('resolves weights to quanta (smallest 1) and caps; unlisted tenants follow default', () => {
    const rules = resolveTenants(
      { default: { weight: 2, maxQueued: 7 }, gold: { weight: 6 }, bronze: { weight: 0.5, maxQueued: 3 } },
      1000,
    );
    expect(rules.quantumOf('bronze')).toBe(1);
    expect(rules.quantumOf('gold')).toBe(12);
    expect(rules.quantumOf('someone')).toBe(4);
    expect(rules.maxQueuedOf('bronze')).toBe(3);
    expect(rules.maxQueuedOf('gold')).toBe(1000);
    expect(rules.maxQueuedOf('someone')).toBe(7);
    const plain = resolveTenants({}, 50);
    expect(plain.quantumOf('x')).toBe(1);
    expect(plain.maxQueuedOf('x')).toBe(50);
  });

  it('parses the option with defaults and refuses bad weights naming the path', () => {
    expect(parseOptions({ tenants: { a: {} } }).tenants).toEqual({ a: { weight: 1 } });
    expect(parseOptions({}).tenants).toEqual({});
    for (const [bad, path] of [
      [{ a: { weight: 0 } }, 'tenants.a.weight'],
      [{ a: { weight: -1 } }, 'tenants.a.weight'],
      [{ a: { maxQueued: 1.5 } }, 'tenants.a.maxQueued'],
      [{ a: { other: 1 } }, 'tenants.a'],
    ] as const) {
      let thrown: unknown;
      try {
        parseOptions({ tenants: bad });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(FlowpoolError);
      expect((thrown as FlowpoolError).code).toBe('FLOWPOOL_INVALID_OPTIONS');
      expect((thrown as FlowpoolError).message).toContain(path);
    }
  });

  it("a job's tenant defaults to 'default'; over 128 characters is refused naming job.tenant", () => {
    const defaults = parseOptions({});
    expect(normalizeJob({ url: 'http://a.test/' }, defaults).tenant).toBe('default');
    expect(normalizeJob({ url: 'http://a.test/', tenant: 'acme' }, defaults).tenant).toBe('acme');
    let thrown: unknown;
    try {
      normalizeJob({ url: 'http://a.test/', tenant: 'x'.repeat(129) }, defaults);
    } catch (error) {
      thrown = error;
    }
    expect((thrown as FlowpoolError).code).toBe('FLOWPOOL_INVALID_JOB');
    expect((thrown as FlowpoolError).details.field).toBe('job.tenant');
  });
});
