/**
 * Queue mode under a flood, three worker processes spawned for real and one client, a private
 * redis-server: 3,000 jobs over 4 loopback hosts all settle once, with their own answer; the host with
 * a cluster `rps: 50` sees at most 55 requests per second at its server over any 5 s; the host with a
 * cluster `concurrency: 4` never has more than 4 requests in flight at its server. The servers count
 * (requests, arrival times, requests in flight); the processes' own counters are not trusted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueClient, QueueResult } from '../../dist/src/queue/index.js';
import { createQueueClient } from '../../dist/src/queue/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';
import { spawnQueueWorkers, type WorkerProcess } from '../fixtures/queue-workers.js';
import { busiestWindow } from '../../dist/src/cli/demo-cluster-targets.js';

const JOBS = 3_000;
const RATE = 50;
const CONCURRENCY = 4;
/** Jobs for the rate-limited host: enough for more than 5 s of traffic at 50/s. */
const RATED_JOBS = 300;
const CAPPED_JOBS = 300;

let redis: RedisServer;
let workers: WorkerProcess[] = [];
let client: QueueClient;
const servers: CountingServer[] = [];
const ratedArrivals: number[] = [];

const answerWithUrl: Parameters<typeof startCountingServer>[0] = (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ url: req.url }));
};

beforeAll(async () => {
  redis = await startRedisServer();
  servers.push(await startCountingServer(answerWithUrl), await startCountingServer(answerWithUrl));
  servers.push(
    await startCountingServer((req, res) => {
      ratedArrivals.push(performance.now());
      answerWithUrl(req, res, servers[2] as CountingServer);
    }),
  );
  // The capped host holds each request a little, so that requests overlap and the cap is what stops them.
  servers.push(
    await startCountingServer((req, res, server) => {
      setTimeout(() => answerWithUrl(req, res, server), 15);
    }),
  );
  const [, , rated, capped] = servers as [CountingServer, CountingServer, CountingServer, CountingServer];
  workers = await spawnQueueWorkers(3, {
    redis: redis.url,
    queue: 'flood',
    concurrency: 64,
    runtime: { workers: 1, policy: { allow: ['127.0.0.1'] } },
    cluster: {
      hostLimits: {
        [`127.0.0.1:${rated.port}`]: { rps: RATE },
        [`127.0.0.1:${capped.port}`]: { concurrency: CONCURRENCY },
      },
    },
  });
  client = createQueueClient({ redis: redis.url, queue: 'flood', policy: { allow: ['127.0.0.1'] } });
});

afterAll(async () => {
  await client.close();
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(servers.map((s) => s.close()));
  await redis.stop();
});

/** Job i goes to: the rated host every 10th, the capped host every 10th (offset 5), else hosts 0 and 1. */
function hostOf(i: number): number {
  if (i % 10 === 0) return 2;
  if (i % 10 === 5) return 3;
  return i % 2 === 0 ? 0 : 1;
}

describe('queue mode: a flood through three worker processes with cluster-wide host limits', () => {
  it('settles 3,000 jobs once each, holds rps 50 and concurrency 4 at the servers', async () => {
    const jobs = Array.from({ length: JOBS }, (_, i) => ({
      url: `${(servers[hostOf(i)] as CountingServer).origin}/job/${i}`,
      responseType: 'json' as const,
    }));
    const seen = new Map<number, QueueResult>();
    const failures: string[] = [];
    const record = (index: number, outcome: { ok: true; value: QueueResult } | { ok: false; error: Error }): void => {
      expect(seen.has(index)).toBe(false);
      if (outcome.ok) seen.set(index, outcome.value);
      else failures.push(`${index}: ${outcome.error.message}`);
    };
    // The rated host's jobs are all submitted at once, so that its limit, not the pace of the rest of the
    // flood on a busy machine, is what sets its rate; the other jobs flow beside them through runMany.
    const ratedIndexes = jobs.map((_, i) => i).filter((i) => hostOf(i) === 2);
    const rest = jobs.map((job, i) => ({ job, i })).filter(({ i }) => hostOf(i) !== 2);
    const ratedRuns = Promise.all(
      ratedIndexes.map((i) =>
        client.run(jobs[i] as (typeof jobs)[number]).then(
          (value) => record(i, { ok: true, value }),
          (error: unknown) => record(i, { ok: false, error: error as Error }),
        ),
      ),
    );
    for await (const result of client.runMany(
      rest.map(({ job }) => job),
      { concurrency: 256 },
    )) {
      const index = (rest[result.index] as { i: number }).i;
      if (result.ok) record(index, { ok: true, value: result.value as QueueResult });
      else record(index, { ok: false, error: result.error });
    }
    await ratedRuns;
    expect(failures).toEqual([]);
    expect(seen.size).toBe(JOBS);
    for (const [index, value] of seen) {
      expect(value.status).toBe(200);
      expect(value.body).toEqual({ url: `/job/${index}` });
    }

    // Every job reached its server exactly once (no crash here, so no redelivery).
    const [a, b, rated, capped] = servers as [CountingServer, CountingServer, CountingServer, CountingServer];
    expect(rated.requests).toBe(RATED_JOBS);
    expect(capped.requests).toBe(CAPPED_JOBS);
    expect(a.requests + b.requests).toBe(JOBS - RATED_JOBS - CAPPED_JOBS);

    // All three processes took part.
    const processes = new Set([...seen.values()].map((v) => v.processedBy));
    expect(processes).toEqual(new Set(workers.map((w) => w.name)));

    // The rated host: the busiest 5 s window at its server.
    const span = (ratedArrivals.at(-1) ?? 0) - (ratedArrivals[0] ?? 0);
    expect(span).toBeGreaterThan(5_000);
    const busiest = busiestWindow(ratedArrivals, 5_000);
    expect(busiest / 5).toBeLessThanOrEqual(55);
    // ...and the limit is what paced it (all its jobs were waiting from the start): near the rate.
    expect(busiest / 5).toBeGreaterThan(RATE * 0.7);

    // The capped host: never more than 4 in flight at its server, and the cap was reached.
    expect(capped.peakActive).toBeLessThanOrEqual(CONCURRENCY);
    expect(capped.peakActive).toBe(CONCURRENCY);
    process.stdout.write(
      `queue flood: ${JOBS} jobs; rated host: ${RATED_JOBS} requests over ${(span / 1000).toFixed(2)} s, busiest 5 s window ${busiest} (${(busiest / 5).toFixed(1)}/s); capped host peak in flight ${capped.peakActive}\n`,
    );
  }, 90_000);
});
