/**
 * A dead host (accepts, reads, never answers) does not starve the others. With connectionsPerHost 4
 * over 2 workers (a global cap) and 8 in-flight slots per worker, 50 jobs to the dead host (60 s
 * deadline) hold at most 4 connections (counted at its server) and 4 of the 16 slots; the other 46 wait
 * in the coordinator's queue. Meanwhile 600 jobs to 4 healthy hosts all succeed, every one of them
 * before any dead-host job has settled (ordering and counts, not timing). destroy() then settles the 50
 * with FLOWPOOL_CLOSED.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, type HttpJob } from '../../dist/src/index.js';
import { allWithin, tracked, workersReady } from '../fixtures/bounded.js';
import { silentRaw } from '../fixtures/raw-behaviours.js';
import { startRawServer } from '../fixtures/raw-server.js';
import { settle, waitUntil } from '../fixtures/wait.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const CAP = 4;
const SLOTS_PER_WORKER = 8;
const DEAD_JOBS = 50;
const HEALTHY_HOSTS = 4;
const HEALTHY_JOBS = 600;

describe('reliability: a dead host does not starve healthy ones', () => {
  const track = closeAfterEach();

  it(`holds the dead host to ${CAP} connections and slots while ${HEALTHY_JOBS} jobs to healthy hosts all finish first`, async () => {
    const dead = track(await startRawServer(silentRaw));
    const healthy = (await Promise.all(Array.from({ length: HEALTHY_HOSTS }, () => startRawServer()))).map(track);
    const runtime = track(
      createRuntime({
        workers: 2,
        connectionsPerHost: CAP,
        concurrencyPerWorker: SLOTS_PER_WORKER,
        policy: { allow: ['127.0.0.1'] },
      }),
    );
    await workersReady(runtime);

    const deadJobs = Array.from({ length: DEAD_JOBS }, (_, i) =>
      tracked(settle(runtime.run({ url: `${dead.origin}/dead/${i}`, timeoutMs: 60_000 }))),
    );
    await waitUntil(() => dead.requests === CAP, `the dead host to receive ${CAP} requests`);
    const held = await runtime.stats();
    const deadView = held.hosts.find((h) => h.origin === dead.origin);
    expect(deadView?.inFlight).toBe(CAP);
    expect(deadView?.queued).toBe(DEAD_JOBS - CAP);

    const origins = healthy.map((s) => s.origin);
    function* jobs(): Generator<HttpJob> {
      for (let i = 0; i < HEALTHY_JOBS; i++) yield { url: `${origins[i % HEALTHY_HOSTS] ?? ''}/ok/${i}` };
    }
    let ok = 0;
    let deadSettledMeanwhile = 0;
    for await (const result of runtime.runMany(jobs(), { concurrency: 64 })) {
      if (result.ok && result.value.status === 200) ok++;
      deadSettledMeanwhile = deadJobs.filter((j) => j.settled).length;
    }
    expect(ok).toBe(HEALTHY_JOBS);
    expect(deadSettledMeanwhile).toBe(0);
    expect(healthy.reduce((sum, s) => sum + s.requests, 0)).toBe(HEALTHY_JOBS);

    // Counted at the dead server: never more than the cap, whatever the queue behind it.
    expect(dead.connections).toBeLessThanOrEqual(CAP);
    expect(dead.peakOpen).toBeLessThanOrEqual(CAP);
    expect(dead.requests).toBe(CAP);
    const after = await runtime.stats();
    expect(after.hosts.find((h) => h.origin === dead.origin)?.inFlight).toBe(CAP);
    expect(after.totals.workerRestarts).toBe(0);

    await runtime.destroy();
    const outcomes = await allWithin(
      deadJobs.map((j) => j.promise),
      'dead-host jobs',
    );
    expect(outcomes.filter((o) => !o.ok && o.error.code === 'FLOWPOOL_CLOSED').length).toBe(DEAD_JOBS);
  }, 60_000);
});
