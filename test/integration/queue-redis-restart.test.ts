/**
 * Redis killed (SIGKILL) mid-flood and started again on the same port from its fsynced append-only file:
 * a `run` that Redis could not accept fails with FLOWPOOL_QUEUE_UNAVAILABLE; every run it accepted
 * completes with its own answer (nothing accepted is lost); the worker processes reconnect by themselves
 * and take new jobs after the restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueClient } from '../../dist/src/queue/index.js';
import { createQueueClient } from '../../dist/src/queue/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';
import { spawnQueueWorkers, type WorkerProcess } from '../fixtures/queue-workers.js';
import { settle, waitUntil } from '../fixtures/wait.js';

let redis: RedisServer;
let server: CountingServer;
let workers: WorkerProcess[] = [];
let client: QueueClient;
const seenUrls = new Set<string>();
/** Past the 200th request the server holds its answers until Redis is back, so accepted runs are pending. */
const HOLD_AFTER = 200;
const hold = { on: true, answers: [] as (() => void)[] };

beforeAll(async () => {
  redis = await startRedisServer({ durable: true });
  server = await startCountingServer((req, res, counts) => {
    seenUrls.add(req.url ?? '');
    const answer = (): void => {
      res.end(req.url);
    };
    if (hold.on && counts.requests > HOLD_AFTER) hold.answers.push(answer);
    else setTimeout(answer, 10);
  });
  workers = await spawnQueueWorkers(2, {
    redis: redis.url,
    queue: 'restart',
    concurrency: 32,
    // Short locks: a job whose worker could not report it while Redis was down is redelivered soon after.
    lockDurationMs: 2_000,
    stalledIntervalMs: 1_000,
    runtime: { workers: 1, policy: { allow: ['127.0.0.1'] } },
  });
  client = createQueueClient({
    redis: redis.url,
    queue: 'restart',
    policy: { allow: ['127.0.0.1'] },
    timeoutMs: 40_000,
  });
});

afterAll(async () => {
  await client.close();
  await Promise.all(workers.map((w) => w.close()));
  await server.close();
  await redis.stop();
});

describe('queue mode: Redis stopped and restarted mid-flood', () => {
  it('fails what it could not accept with FLOWPOOL_QUEUE_UNAVAILABLE and loses nothing it accepted', async () => {
    const JOBS = 1_200;
    const counts = { ok: 0, unavailable: 0, okAfterRestart: 0 };
    // An object, not a let: the flood's loop reads it after awaits, when the test body has set it.
    const phase = { restarted: false };
    const wrong: string[] = [];
    const urls = Array.from({ length: JOBS }, (_, i) => `/job/${i}`);
    const flood = (async () => {
      const jobs = urls.map((path) => ({ url: `${server.origin}${path}` }));
      for await (const result of client.runMany(jobs, { concurrency: 64 })) {
        if (result.ok) {
          counts.ok++;
          if (phase.restarted) counts.okAfterRestart++;
          if (result.value.body !== urls[result.index])
            wrong.push(`${result.index}: body ${String(result.value.body)}`);
        } else if (result.error.code === 'FLOWPOOL_QUEUE_UNAVAILABLE') {
          counts.unavailable++;
        } else {
          wrong.push(`${result.index}: ${result.error.code} ${result.error.message}`);
        }
      }
    })();

    // Accepted runs certainly pending at the kill: their requests wait at the server, unanswered.
    await waitUntil(() => hold.answers.length >= 8, 'the server to hold 8 requests past the 200th', 30_000);
    await redis.kill();
    // The flood's window is now full of accepted runs waiting for results; runs submitted during the
    // outage cannot be accepted and must say so at once, well within their deadline.
    const during = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.run({ url: `${server.origin}/during/${i}` }).then(
          () => 'accepted',
          (error: unknown) => (error as { code?: string }).code,
        ),
      ),
    );
    expect(during).toEqual(Array.from({ length: 20 }, () => 'FLOWPOOL_QUEUE_UNAVAILABLE'));
    await redis.restart();
    phase.restarted = true;
    hold.on = false;
    for (const answer of hold.answers.splice(0)) answer();
    await flood;

    expect(wrong).toEqual([]);
    expect(counts.ok + counts.unavailable).toBe(JOBS);
    // Submissions of the flood during the outage were refused at once too (and freed their slots); the
    // runs Redis had accepted before it went down were waiting, and completed after the restart.
    expect(counts.ok).toBeGreaterThan(200);
    expect(counts.okAfterRestart).toBeGreaterThan(0);
    // Every answer that came back was really fetched (no result invented from nothing).
    expect(seenUrls.size).toBeGreaterThanOrEqual(counts.ok);

    // The workers reconnected by themselves: a new run after the restart goes through. The client's own
    // connection retries on a backoff of up to a second and refuses at once until it is back (that is the
    // outage contract above), so wait for it to take a run, then check what that run brought back.
    let after: Awaited<ReturnType<QueueClient['run']>> | undefined;
    await waitUntil(
      async () => {
        const attempt = await settle(client.run({ url: `${server.origin}/after-restart` }));
        if (attempt.ok) after = attempt.value;
        else expect(attempt.error.code).toBe('FLOWPOOL_QUEUE_UNAVAILABLE');
        return attempt.ok;
      },
      'the client to reconnect and run a job',
      20_000,
    );
    if (after === undefined) throw new Error('unreachable: waitUntil returned without a result');
    expect(after.status).toBe(200);
    expect(after.body).toBe('/after-restart');
    process.stdout.write(
      `queue restart: flood ${counts.ok} completed (${counts.okAfterRestart} of them accepted before the outage and answered after the restart), ${counts.unavailable} FLOWPOOL_QUEUE_UNAVAILABLE; 20 of 20 runs during the outage FLOWPOOL_QUEUE_UNAVAILABLE; server saw ${server.requests} requests\n`,
    );
  }, 80_000);
});
