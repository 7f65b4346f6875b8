/**
 * A queue worker process killed with SIGKILL, for real:
 * - mid-flood (three workers, GETs and POSTs with idempotency keys): every `run` settles; every GET
 *   completes (a GET is repeatable, so a dead worker's GETs run again elsewhere); a POST either
 *   completes or fails with FLOWPOOL_WORKER_CRASHED, and the server never sees one key twice;
 * - holding cluster concurrency permits: the permits come back once their lease lapses, and a job that
 *   waited for one then reaches the server;
 * and a worker paused with SIGSTOP past its lock (n8n's "duplicate executions after stalls"): its keyed
 * POST is answered FLOWPOOL_WORKER_CRASHED elsewhere, never sent twice, and stays that answer for the key
 * even after the paused worker wakes up and finishes the request.
 * Locks and leases are short here (1.5 s) so that the test waits seconds, not the 30 s defaults.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createQueueClient } from '../../dist/src/queue/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';
import { spawnQueueWorker, spawnQueueWorkers, type WorkerProcess } from '../fixtures/queue-workers.js';
import { settle, waitUntil } from '../fixtures/wait.js';

const LOCK_MS = 1_500;
const LEASE_MS = 1_500;

let redis: RedisServer;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.close().catch(() => undefined)));
});

afterAll(async () => {
  await redis.stop();
});

function workerOptions(queue: string, hostLimits: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    redis: redis.url,
    queue,
    concurrency: 16,
    lockDurationMs: LOCK_MS,
    stalledIntervalMs: 500,
    runtime: { workers: 1, policy: { allow: ['127.0.0.1'] } },
    cluster: { hostLimits, leaseMs: LEASE_MS },
  };
}

describe('queue mode: a worker process killed with SIGKILL', () => {
  it('mid-flood: every run settles, GETs complete, no POST with an idempotency key arrives twice', async () => {
    const postsByKey = new Map<string, number>();
    // Once POSTs are flowing, the server holds every answer until the victim is dead: then every slot of
    // every worker holds a request (half of them POSTs), so the victim certainly dies holding POSTs.
    let holding = false;
    const held: (() => void)[] = [];
    const server = await startCountingServer((req, res) => {
      if (req.method === 'POST') {
        const key = String(req.headers['x-key']);
        postsByKey.set(key, (postsByKey.get(key) ?? 0) + 1);
      }
      const answer = (): void => {
        res.end(`${req.method ?? ''} ${req.url ?? ''}`);
      };
      if (holding) held.push(answer);
      else setTimeout(answer, 30);
    });
    opened.push(server);
    const workers = await spawnQueueWorkers(3, workerOptions('crash'));
    opened.push(...workers);
    const client = createQueueClient({ redis: redis.url, queue: 'crash', policy: { allow: ['127.0.0.1'] } });
    opened.push(client);

    const JOBS = 600;
    const runs = Array.from({ length: JOBS }, (_, i) => {
      const post = i % 2 === 1;
      const key = `order-${i}`;
      const job = post
        ? { url: `${server.origin}/post/${i}`, method: 'POST', body: 'x', headers: { 'x-key': key } }
        : { url: `${server.origin}/get/${i}` };
      return { post, promise: client.run(job, post ? { idempotencyKey: key } : {}) };
    });
    const outcomes = runs.map((run) =>
      run.promise.then(
        (value) => ({ ok: true as const, status: value.status, body: value.body }),
        (error: unknown) => ({ ok: false as const, code: (error as { code?: string }).code }),
      ),
    );
    // Keyed runs read their record before they are added, so POSTs reach the queue a little after GETs:
    // wait until POSTs are flowing, so that the victim dies holding some.
    await waitUntil(() => postsByKey.size >= 50, 'the server to see 50 POSTs');
    holding = true;
    // 3 workers x concurrency 16: every slot holds a request at the server.
    await waitUntil(() => held.length >= 48, 'every worker slot to hold a request at the server');
    const victim = workers[0] as WorkerProcess;
    await victim.kill('SIGKILL');
    holding = false;
    for (const answer of held.splice(0)) answer();
    const settled = await Promise.all(outcomes);

    expect(settled).toHaveLength(JOBS);
    let crashedPosts = 0;
    settled.forEach((outcome, i) => {
      const post = i % 2 === 1;
      if (!post) {
        expect(outcome).toEqual({ ok: true, status: 200, body: `GET /get/${i}` });
      } else if (outcome.ok) {
        expect(outcome).toEqual({ ok: true, status: 200, body: `POST /post/${i}` });
      } else {
        expect(outcome.code).toBe('FLOWPOOL_WORKER_CRASHED');
        crashedPosts++;
      }
    });
    // The victim died holding POSTs: they were answered as crashed, not sent again.
    expect(crashedPosts).toBeGreaterThan(0);
    const repeated = [...postsByKey].filter(([, count]) => count > 1);
    expect(repeated).toEqual([]);
    // A crashed POST may or may not have reached the server before the kill; a completed one did, once.
    expect(postsByKey.size).toBeGreaterThanOrEqual(JOBS / 2 - crashedPosts);
    process.stdout.write(
      `queue crash: ${JOBS} runs settled; ${crashedPosts} POSTs FLOWPOOL_WORKER_CRASHED, ${postsByKey.size} distinct POST keys at the server, none twice; ${server.requests} requests in all\n`,
    );
  }, 60_000);

  it('a worker paused past its lock: the keyed POST is never sent twice and its first answer stays', async () => {
    let release: (() => void) | undefined;
    let posts = 0;
    const server = await startCountingServer((req, res) => {
      posts++;
      // Held until the test lets it go, while the worker that sent it is paused.
      release = () => res.end(`${req.method ?? ''} ${req.url ?? ''}`);
    });
    opened.push(server);
    const paused = await spawnQueueWorker(workerOptions('pause'));
    opened.push(paused);
    const client = createQueueClient({ redis: redis.url, queue: 'pause', policy: { allow: ['127.0.0.1'] } });
    opened.push(client);
    const job = { url: `${server.origin}/charge`, method: 'POST', body: 'x' };
    const first = client.run(job, { idempotencyKey: 'charge-1' }).catch((e: unknown) => e);
    await waitUntil(() => posts === 1, 'the POST to reach the server');
    paused.signal('SIGSTOP');
    const other = await spawnQueueWorker(workerOptions('pause'));
    opened.push(other);
    // The lock lapses, the job is redelivered to the other worker, which refuses to send it again.
    expect((await first) as { code?: string }).toMatchObject({ code: 'FLOWPOOL_WORKER_CRASHED' });
    // The paused worker wakes up and its request completes at the server.
    paused.signal('SIGCONT');
    release?.();
    // It has finished its job (and tried to record its answer under the key) before the key is reused.
    await waitUntil(async () => (await paused.stats()).processed === 1, 'the paused worker to finish its job');
    const again = await settle(client.run(job, { idempotencyKey: 'charge-1' }));
    expect(again.ok).toBe(false);
    if (!again.ok) expect(again.error.code).toBe('FLOWPOOL_WORKER_CRASHED');
    expect(posts).toBe(1);
  }, 60_000);

  it("returns a killed process's concurrency permits once their lease lapses", async () => {
    let heldPosts = 0;
    const server = await startCountingServer((req, res) => {
      // POSTs are held without an answer (they keep their permits); GETs answer at once.
      if (req.method === 'POST') {
        heldPosts++;
        return;
      }
      res.end('free');
    });
    opened.push(server);
    const limits = { [`127.0.0.1:${server.port}`]: { concurrency: 2 } };
    const victim = await spawnQueueWorker(workerOptions('lease', limits));
    opened.push(victim);
    const client = createQueueClient({
      redis: redis.url,
      queue: 'lease',
      policy: { allow: ['127.0.0.1'] },
      timeoutMs: 20_000,
    });
    opened.push(client);

    // Both permits of the host, held by the victim's two requests in flight.
    const held = [0, 1].map((i) =>
      client.run({ url: `${server.origin}/hold/${i}`, method: 'POST', body: 'x' }).catch((e: unknown) => e),
    );
    await waitUntil(() => server.active === 2, 'two held POSTs in flight at the server');
    await victim.kill('SIGKILL');
    const killedAt = performance.now();
    const survivor = await spawnQueueWorker(workerOptions('lease', limits));
    opened.push(survivor);

    const free = await client.run({ url: `${server.origin}/free` });
    const waitedMs = performance.now() - killedAt;
    expect(free.status).toBe(200);
    // It could only start once a dead permit lapsed: the lease, less what had passed since its last renewal.
    // A lower bound only (load can only lengthen the wait); that the permit came back at all is `free`.
    expect(waitedMs).toBeGreaterThan(LEASE_MS * 0.2);
    // The held POSTs are not repeatable: redelivered, they fail as crashed and are never sent again.
    const heldOutcomes = await Promise.all(held);
    for (const outcome of heldOutcomes) expect((outcome as { code?: string }).code).toBe('FLOWPOOL_WORKER_CRASHED');
    expect(heldPosts).toBe(2);
    process.stdout.write(
      `queue lease: a permit of the killed worker came back ${waitedMs.toFixed(0)} ms after the kill\n`,
    );
  }, 60_000);
});
