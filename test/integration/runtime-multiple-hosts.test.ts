/**
 * A flood over 8 hosts on 2 workers (connectionsPerHost 4, 64 in flight through runMany): host affinity
 * gives each host a home, homes split evenly, and every host stays under the global cap. least-busy,
 * the no-affinity baseline where each worker keeps its own pool per host, opens more for the same flood.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, type HttpJob, type Runtime, type RuntimeStats } from '../../dist/src/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const HOSTS = 8;
const JOBS = 800;
const CAP = 4;

interface FloodOutcome {
  readonly servers: readonly CountingServer[];
  readonly runtime: Runtime;
  readonly totalConnections: number;
  readonly stats: RuntimeStats;
  /** Per host: jobs served by worker 0 and by worker 1. */
  readonly jobsPerHostWorker: readonly (readonly number[])[];
}

describe('runtime: multiple hosts', () => {
  const track = closeAfterEach();

  async function flood(balancing: 'affinity' | 'least-busy'): Promise<FloodOutcome> {
    // The global cap for affinity; the baseline caps each worker's own pool, so workers x cap per host.
    const perHostCap = balancing === 'affinity' ? CAP : 2 * CAP;
    // Long keep-alive: no connection is recycled mid-test, so `connections` counts every socket ever opened.
    const servers = (
      await Promise.all(
        Array.from({ length: HOSTS }, () => startCountingServer(undefined, { keepAliveTimeout: 30_000 })),
      )
    ).map(track);
    const runtime = track(createRuntime({ workers: 2, connectionsPerHost: CAP, balancing, policy: LOOPBACK }));
    const origins = servers.map((s) => s.origin);
    function* jobs(): Generator<HttpJob> {
      for (let i = 0; i < JOBS; i++) yield { url: `${origins[i % HOSTS] ?? ''}/job/${i}` };
    }
    const jobsPerHostWorker = origins.map(() => [0, 0]);
    let ok = 0;
    for await (const result of runtime.runMany(jobs(), { concurrency: 64 })) {
      if (!result.ok) throw result.error;
      expect(result.value.status).toBe(200);
      const counts = jobsPerHostWorker[result.index % HOSTS];
      if (counts !== undefined) counts[result.value.worker] = (counts[result.value.worker] ?? 0) + 1;
      ok++;
    }
    expect(ok).toBe(JOBS);
    for (const server of servers) {
      expect(server.requests).toBe(JOBS / HOSTS);
      expect(server.connections).toBeLessThanOrEqual(perHostCap);
      expect(server.peakOpen).toBeLessThanOrEqual(perHostCap);
    }
    const totalConnections = servers.reduce((sum, s) => sum + s.connections, 0);
    expect(totalConnections).toBeLessThanOrEqual(HOSTS * perHostCap);
    return { servers, runtime, totalConnections, jobsPerHostWorker, stats: await runtime.stats() };
  }

  it('affinity: homes split 4/4, each host under connectionsPerHost on the server and in the counters', async () => {
    const outcome = await flood('affinity');
    // Hosts get homes in the order first seen: host i on worker i % 2 (fewest homes first).
    const hosts = new Map(outcome.stats.hosts.map((host) => [host.origin, host]));
    outcome.servers.forEach((server, i) => {
      const host = hosts.get(server.origin);
      expect(host?.homeWorker).toBe(i % 2);
      expect(host?.openConnections).toBeLessThanOrEqual(CAP);
    });
    // Not asserted: "each host's results came from one worker". The spill rule (home load >= max(8,
    // 1.25 x average), then new sockets only up to the cap's share on each worker) does kick in at this
    // load now and then: alone on the machine about one run in six sent part of one host's jobs to the
    // other worker; under the whole suite's CPU load, most of one host's jobs once ran off its home.
    // Whether or not it did, the per-host cap asserted in flood() held for every host.
    const served = outcome.jobsPerHostWorker.map(([w0 = 0, w1 = 0]) => w0 + w1);
    expect(served).toEqual(new Array<number>(HOSTS).fill(JOBS / HOSTS));
  }, 30_000);

  it('least-busy (no affinity) opens more connections than affinity for the same flood', async () => {
    const affinity = await flood('affinity');
    await affinity.runtime.destroy();
    await Promise.all(affinity.servers.map((server) => server.close()));
    const leastBusy = await flood('least-busy');
    // Without affinity both workers serve every host and each opens its own sockets to it.
    expect(leastBusy.totalConnections).toBeGreaterThan(affinity.totalConnections);
    const hostsOnBothWorkers = leastBusy.jobsPerHostWorker.filter(([w0 = 0, w1 = 0]) => w0 > 0 && w1 > 0).length;
    expect(hostsOnBothWorkers).toBeGreaterThan(0);
  }, 60_000);
});
