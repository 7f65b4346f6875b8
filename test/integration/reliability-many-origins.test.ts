/**
 * Many origins through a bounded origin table (`maxOrigins: 1000`): loopback servers x 1,000 names
 * (`h0.test` ... `h999.test`, all resolving to 127.0.0.1 through `resolve`), each origin used once,
 * through runMany. Everything succeeds, and what is keyed by origin stays bounded throughout (sampled
 * every 2,000 results): the coordinator's origin table (originsTracked <= 1000), the sockets the
 * workers hold open, each worker's heap (its undici Agent keeps a pool per origin until that origin's
 * sockets are gone: the workers run under a 48 MB heap limit and none is restarted), and the main
 * thread's heap after a full collection.
 *
 * Scale: 20,000 origins (20 servers x 1,000 names), 20 times the table. Every origin is a new TCP
 * connection, an undici pool and a server-side socket: on this 2-core machine that is ~650-1,200 origins
 * per second, so 100,000 origins take 90-150 s; 20,000 keeps the file near 30 s.
 *
 * Why open connections <= maxOrigins: each origin gets one job, so at most one socket open (a resend
 * after the keep-alive race goes out on a fresh socket once the stale one is closed); every socket's
 * connection unit lives in its origin's counter row; the coordinator forgets an origin, and lends its
 * row to a new one, only when that row is back to 0. So sockets open <= rows in use <= maxOrigins. The
 * client's keep-alive (250 ms) closes idle sockets so rows come free; the servers keep theirs 5 s.
 *
 * The second test fills the table with origins whose sockets are still open, then closes them (client
 * keep-alive 100 ms): jobs for new origins must get the freed rows without waiting for the coordinator's
 * 5 s sweep. Each has a 2.5 s deadline, 25 times the keep-alive, so only a wait for the sweep fails it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type HttpJob, type Runtime } from '../../dist/src/index.js';
import { MB, settledHeap, workersReady } from '../fixtures/bounded.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

const SERVERS = 20;
const NAMES = 1_000;
const ORIGINS = SERVERS * NAMES;
const MAX_ORIGINS = 1_000;
const SAMPLE_EVERY = 2_000;
const CONCURRENCY = 256;

describe('reliability: many distinct origins through a bounded origin table', () => {
  let servers: CountingServer[] = [];
  let runtime: Runtime | undefined;

  beforeAll(async () => {
    servers = await Promise.all(
      Array.from({ length: SERVERS }, () =>
        startCountingServer(
          (_req, res) => {
            res.end('ok');
          },
          { keepAliveTimeout: 5_000 },
        ),
      ),
    );
  });

  afterEach(async () => {
    await runtime?.destroy();
    runtime = undefined;
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it(`runs ${ORIGINS} origins once each with maxOrigins ${MAX_ORIGINS}: all succeed, tables and sockets bounded`, async () => {
    const resolve = Object.fromEntries(Array.from({ length: NAMES }, (_, i) => [`h${i}.test`, ['127.0.0.1']]));
    runtime = createRuntime({
      workers: 2,
      maxOrigins: MAX_ORIGINS,
      keepAliveTimeoutMs: 250,
      workerResourceLimits: { maxOldGenerationSizeMb: 48 },
      policy: { allow: ['127.0.0.1'] },
      resolve,
    });
    const rt = runtime;
    await workersReady(rt);
    const heapBefore = settledHeap();
    const ports = servers.map((s) => s.port);
    function* jobs(): Generator<HttpJob> {
      // Consecutive jobs go to different names and, every 1,000, to the next server: each origin once.
      for (let i = 0; i < ORIGINS; i++)
        yield { url: `http://h${i % NAMES}.test:${ports[Math.floor(i / NAMES)] ?? 0}/` };
    }

    let ok = 0;
    const failures = new Map<string, number>();
    const peak = { originsTracked: 0, openConnections: 0, samples: 0 };
    const sample = async (): Promise<void> => {
      const stats = await rt.stats();
      peak.samples++;
      peak.originsTracked = Math.max(peak.originsTracked, stats.totals.originsTracked);
      peak.openConnections = Math.max(
        peak.openConnections,
        stats.workers.reduce((sum, w) => sum + w.openConnections, 0),
      );
    };
    let seen = 0;
    for await (const result of rt.runMany(jobs(), { concurrency: CONCURRENCY })) {
      if (result.ok) ok++;
      else failures.set(result.error.code, (failures.get(result.error.code) ?? 0) + 1);
      if (++seen % SAMPLE_EVERY === 0) await sample();
    }
    await sample();
    const heapGrowth = settledHeap() - heapBefore;
    const final = await rt.stats();
    const summary = JSON.stringify({
      ok,
      failures: [...failures],
      peak,
      heapGrowthMb: +(heapGrowth / MB).toFixed(1),
      restarts: final.totals.workerRestarts,
    });

    expect(ok, summary).toBe(ORIGINS);
    expect(peak.samples, summary).toBeGreaterThanOrEqual(ORIGINS / SAMPLE_EVERY);
    expect(peak.originsTracked, summary).toBeLessThanOrEqual(MAX_ORIGINS);
    expect(peak.openConnections, summary).toBeLessThanOrEqual(MAX_ORIGINS);
    // Under a 48 MB heap limit, a worker retaining something per origin would have died by now.
    expect(final.totals.workerRestarts, summary).toBe(0);
    // The main thread's tables (coordinator, per-host stats) hold at most maxOrigins entries each.
    expect(heapGrowth, summary).toBeLessThan(32 * MB);
    // Counted at the servers: every origin reached its server once; no server saw more than its 1,000.
    expect(
      servers.reduce((sum, s) => sum + s.requests, 0),
      summary,
    ).toBe(ORIGINS);
    expect(Math.max(...servers.map((s) => s.requests)), summary).toBe(NAMES);
  }, 120_000);

  it('gives a new origin the row of an idle origin as soon as its sockets close, without waiting for the sweep', async () => {
    const server = servers[0];
    if (server === undefined) throw new Error('no server');
    const names = 320;
    const resolve = Object.fromEntries(Array.from({ length: names }, (_, i) => [`s${i}.test`, ['127.0.0.1']]));
    runtime = createRuntime({
      workers: 1,
      maxOrigins: 64,
      keepAliveTimeoutMs: 100,
      policy: { allow: ['127.0.0.1'] },
      resolve,
    });
    const rt = runtime;
    await workersReady(rt);
    function* jobs(): Generator<HttpJob> {
      for (let i = 0; i < names; i++) yield { url: `http://s${i}.test:${server?.port ?? 0}/`, timeoutMs: 2_500 };
    }
    const codes = new Map<string, number>();
    let ok = 0;
    // A window as large as the table: every round of 64 new origins needs the rows of the previous 64.
    for await (const result of rt.runMany(jobs(), { concurrency: 64 })) {
      if (result.ok) {
        ok++;
        continue;
      }
      const key = `${result.error.code} (phase ${String(result.error.details.phase)})`;
      codes.set(key, (codes.get(key) ?? 0) + 1);
    }
    expect([...codes]).toEqual([]);
    expect(ok).toBe(names);
  }, 60_000);
});
