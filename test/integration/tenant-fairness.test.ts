/**
 * Tenant fairness seen by the server: one host, 4 jobs in flight to it (hostLimits), a server that answers
 * at once and records the order in which requests arrive (the tenant is in the path). Tenant A floods the
 * host with 10,000 jobs; B's 20 jobs, submitted after, arrive among the next ~44 requests the server sees
 * (20 of B's, 20 of A's taking turns, and the 4 of A's already in flight; a few more if the two workers
 * reorder what is in flight). With weights 3:1 and both
 * tenants backlogged, the server sees 3 of one per 1 of the other. A tenant at its maxQueued is refused
 * while another is served. The remaining flood is destroyed, not drained: the figures are taken first.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { settle, type Settled } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const BASE = { workers: 2, policy: LOOPBACK, hostLimits: { '127.0.0.1': { concurrency: 4 } } } as const;

/** A server that records each request's tenant (the first path segment) in arrival order. */
async function recordingServer() {
  const arrivals: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = await startCountingServer((req: IncomingMessage, res: ServerResponse) => {
    arrivals.push((req.url ?? '/').split('/')[1] ?? '');
    res.end('ok');
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i];
      if (waiter !== undefined && arrivals.length >= waiter.count) {
        waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  });
  /** Resolves once the server has seen `count` requests. */
  const seen = (count: number): Promise<void> =>
    arrivals.length >= count
      ? Promise.resolve()
      : new Promise((resolve) => {
          waiters.push({ count, resolve });
        });
  return { server, arrivals, seen };
}

function flood(runtime: Runtime, origin: string, tenant: string, count: number): Promise<Settled<unknown>>[] {
  // Settled, so the jobs destroy() rejects at the end raise no unhandled rejection.
  return Array.from({ length: count }, (_, i) => settle(runtime.run({ url: `${origin}/${tenant}/${i}`, tenant })));
}

describe('tenant fairness at the server', () => {
  const track = closeAfterEach();

  it("B's 20 jobs arrive within the next ~44 requests behind A's 10,000 (equal weights); stats per tenant", async () => {
    const { server, arrivals, seen } = await recordingServer();
    track(server);
    const runtime = track(createRuntime(BASE));
    await runtime.ready();
    void flood(runtime, server.origin, 'A', 10_000);
    await seen(100);
    const mark = arrivals.length;
    const b = flood(runtime, server.origin, 'B', 20);
    const settled = await Promise.all(b);
    expect(settled.every((s) => s.ok)).toBe(true);
    const after = arrivals.slice(mark);
    const lastB = after.lastIndexOf('B');
    expect(after.filter((t) => t === 'B')).toHaveLength(20);
    // 20 of B's and 20 of A's in turns, behind the 4 of A's in flight when B came; with two workers, up to 3
    // of A's dispatched after B's last may still overtake it on the way to the server.
    expect(lastB + 1).toBeLessThanOrEqual(47);
    console.log(`[tenant-fairness] B's 20 requests arrived within the first ${lastB + 1} requests after B submitted`);

    const stats = await runtime.stats();
    const byTenant = new Map(stats.tenants.map((t) => [t.tenant, t]));
    expect(byTenant.get('B')).toEqual({ tenant: 'B', queued: 0, inFlight: 0, submitted: 20, succeeded: 20, failed: 0 });
    const a = byTenant.get('A');
    expect(a?.submitted).toBe(10_000);
    expect(a?.failed).toBe(0);
    expect((a?.queued ?? 0) + (a?.inFlight ?? 0) + (a?.succeeded ?? 0)).toBe(10_000);
    expect(a?.inFlight).toBeLessThanOrEqual(4);
    // The server answers before the runtime hears back: it has seen at least every success.
    expect(a?.succeeded).toBeLessThanOrEqual(arrivals.filter((t) => t === 'A').length);
    const metrics = await runtime.metrics();
    expect(metrics).toContain('flowpool_tenant_jobs_succeeded_total{tenant="B"} 20');
    expect(metrics).toContain('flowpool_tenant_jobs_submitted_total{tenant="A"} 10000');
    await runtime.destroy();
  }, 30_000);

  it('with weights 3:1 and both tenants backlogged the server sees 3 of one per 1 of the other (within 10%)', async () => {
    const { server, arrivals, seen } = await recordingServer();
    track(server);
    const runtime = track(createRuntime({ ...BASE, tenants: { heavy: { weight: 3 }, default: { weight: 1 } } }));
    await runtime.ready();
    void flood(runtime, server.origin, 'heavy', 3000);
    void flood(runtime, server.origin, 'light', 3000);
    // Both are queued from the 5th request on; skip a few and count a window of 800.
    await seen(820);
    const window = arrivals.slice(20, 820);
    const heavy = window.filter((t) => t === 'heavy').length;
    const light = window.filter((t) => t === 'light').length;
    console.log(
      `[tenant-fairness] 3:1 weights, arrivals 20-820: heavy ${heavy}, light ${light}, ratio ${(heavy / light).toFixed(3)}`,
    );
    expect(heavy + light).toBe(800);
    expect(heavy / light).toBeGreaterThanOrEqual(2.7);
    expect(heavy / light).toBeLessThanOrEqual(3.3);
    await runtime.destroy();
  }, 30_000);

  it('a tenant at its maxQueued gets FLOWPOOL_QUEUE_FULL naming it while another tenant is served', async () => {
    const { server, arrivals } = await recordingServer();
    track(server);
    const runtime = track(createRuntime({ ...BASE, tenants: { A: { maxQueued: 50 } } }));
    await runtime.ready();
    const a = flood(runtime, server.origin, 'A', 100);
    const b = flood(runtime, server.origin, 'B', 10);
    const settledA = await Promise.all(a);
    const settledB = await Promise.all(b);
    const refused = settledA.flatMap((s) => (s.ok ? [] : [s.error]));
    // 4 start at once, 50 wait, the other 46 are refused at submission.
    expect(refused).toHaveLength(46);
    for (const error of refused) {
      expect(error.code).toBe('FLOWPOOL_QUEUE_FULL');
      expect(error.details?.tenant).toBe('A');
      expect(error.message).toContain('tenant "A"');
    }
    expect(settledB.every((s) => s.ok)).toBe(true);
    expect(arrivals.filter((t) => t === 'A')).toHaveLength(54);
    expect(arrivals.filter((t) => t === 'B')).toHaveLength(10);
    const stats = await runtime.stats();
    expect(stats.tenants.find((t) => t.tenant === 'A')).toMatchObject({ submitted: 100, succeeded: 54, failed: 46 });
  }, 30_000);
});
