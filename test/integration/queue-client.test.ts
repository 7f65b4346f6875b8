/**
 * The queue client against one spawned worker process and a private redis-server:
 * - an idempotency key reused (one after another, concurrently, from a second client, and after BullMQ
 *   itself dropped the finished job) returns the first result, and the server sees one request;
 * - bad jobs fail at the client (FLOWPOOL_INVALID_JOB) and destinations its policy refuses fail there
 *   too (FLOWPOOL_BLOCKED_DESTINATION), with nothing enqueued; the worker's own policy refuses what the
 *   client let through; bytes go and come back intact;
 * - with no Redis to reach, `run` fails with FLOWPOOL_QUEUE_UNAVAILABLE within its deadline.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueClient } from '../../dist/src/queue/index.js';
import { createQueueClient } from '../../dist/src/queue/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';
import { spawnQueueWorker, type WorkerProcess } from '../fixtures/queue-workers.js';
import { settle } from '../fixtures/wait.js';

let redis: RedisServer;
let server: CountingServer;
let worker: WorkerProcess;
let client: QueueClient;
let served = 0;

beforeAll(async () => {
  redis = await startRedisServer();
  server = await startCountingServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      served++;
      const body = Buffer.concat(chunks);
      if (req.url === '/echo-bytes') {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(body);
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ served, method: req.method, url: req.url }));
    });
  });
  // The worker's policy allows 127.0.0.1 only; the client's the whole loopback range.
  worker = await spawnQueueWorker({
    redis: redis.url,
    queue: 'client',
    runtime: { workers: 1, policy: { allow: ['127.0.0.1'] } },
  });
  client = createQueueClient({ redis: redis.url, queue: 'client', policy: { allow: ['127.0.0.0/8'] } });
});

afterAll(async () => {
  await client.close();
  await worker.close();
  await server.close();
  await redis.stop();
});

describe('queue client: idempotency keys', () => {
  it('returns the first result for a reused key and sends one request', async () => {
    const job = { url: `${server.origin}/orders`, method: 'POST', json: { item: 1 }, responseType: 'json' as const };
    const before = server.requests;
    const first = await client.run(job, { idempotencyKey: 'order-1' });
    const again = await client.run(job, { idempotencyKey: 'order-1' });
    expect(first.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(server.requests - before).toBe(1);

    // Concurrent runs of one new key: one job, one request, one result for all.
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => client.run(job, { idempotencyKey: 'order-2' })),
    );
    expect(new Set(concurrent.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(server.requests - before).toBe(2);

    // Another client of the queue sees the same key as used.
    const other = createQueueClient({ redis: redis.url, queue: 'client', policy: { allow: ['127.0.0.1'] } });
    try {
      const fromOther = await other.run(job, { idempotencyKey: 'order-1' });
      expect(fromOther.body).toEqual(first.body);
    } finally {
      await other.close();
    }
    expect(server.requests - before).toBe(2);

    // A different key is a different job.
    const fresh = await client.run(job, { idempotencyKey: 'order-3' });
    expect(fresh.body).not.toEqual(first.body);
    expect(server.requests - before).toBe(3);
  });

  it('keeps the key used after BullMQ has dropped the finished job (its own retention)', async () => {
    const job = { url: `${server.origin}/pay`, method: 'POST', body: 'x', responseType: 'json' as const };
    const before = server.requests;
    const first = await client.run(job, { idempotencyKey: 'payment-9' });
    // What removeOnComplete does in time: the BullMQ job is gone, so the job id alone would be accepted again.
    const queue = new Queue('client', { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'flowpool' });
    try {
      const jobs = await queue.getJobs(['completed']);
      const removed = await Promise.all(jobs.map((j) => j.remove().then(() => j.id)));
      expect(removed.length).toBeGreaterThan(0);
    } finally {
      await queue.close();
    }
    const again = await client.run(job, { idempotencyKey: 'payment-9' });
    expect(again.body).toEqual(first.body);
    expect(server.requests - before).toBe(1);
  });
});

describe('queue client: checks before and after the queue', () => {
  it('refuses bad jobs and blocked destinations at the client, enqueueing nothing', async () => {
    const before = server.requests;
    const processedBefore = (await worker.stats()).processed;
    const invalid = await settle(client.run({ url: `${server.origin}/x`, method: 'GET', timeoutMs: -1 }));
    expect(invalid.ok).toBe(false);
    if (!invalid.ok) {
      expect(invalid.error.code).toBe('FLOWPOOL_INVALID_JOB');
      expect(invalid.error.message).toContain('timeoutMs');
    }
    const blocked = await settle(client.run({ url: 'http://10.1.2.3/' }));
    expect(blocked.ok).toBe(false);
    if (!blocked.ok) expect(blocked.error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    const badKey = await settle(client.run({ url: `${server.origin}/x` }, { idempotencyKey: '' }));
    expect(badKey.ok).toBe(false);
    if (!badKey.ok) expect(badKey.error.details?.field).toBe('idempotencyKey');
    expect(server.requests).toBe(before);
    expect((await worker.stats()).processed).toBe(processedBefore);
  });

  it("enforces the worker's policy where the request is made", async () => {
    const outcome = await settle(client.run({ url: `http://127.0.0.2:${server.port}/` }));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
  });

  it('carries bytes both ways intact', async () => {
    const bytes = Uint8Array.from({ length: 1024 }, (_, i) => (i * 7) % 256);
    const result = await client.run({
      url: `${server.origin}/echo-bytes`,
      method: 'POST',
      body: bytes,
      responseType: 'bytes',
    });
    expect(result.body).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(result.body as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    expect(result.processedBy).toBe(worker.name);
  });
});

describe('queue client: Redis unreachable', () => {
  it('fails with FLOWPOOL_QUEUE_UNAVAILABLE naming host:port and the cause (never the password), and sends nothing', async () => {
    const gone = await startRedisServer();
    const address = new URL(gone.url);
    await gone.stop();
    const orphan = createQueueClient({
      redis: `redis://flowpool:hunter2-secret@${address.host}`,
      queue: 'nowhere',
      policy: { allow: ['127.0.0.1'] },
      timeoutMs: 500,
    });
    const requestsBefore = server.requests;
    // Settles by itself (the producer fails fast: no offline queue); the test's own timeout bounds the wait.
    const outcome = await settle(orphan.run({ url: `${server.origin}/never` }));
    await orphan.close();
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      const error = outcome.error as { code: string; message: string; details: Record<string, unknown> };
      expect(error.code).toBe('FLOWPOOL_QUEUE_UNAVAILABLE');
      expect(error.details.redis).toBe(address.host);
      expect(error.details.causeCode).toBe('ECONNREFUSED');
      expect(error.details.reason).toMatch(
        /did not accept the job within 500 ms \(connection \w+, last error: .*ECONNREFUSED/,
      );
      expect(error.message).toContain(`Redis at ${address.host} is unavailable`);
      expect(JSON.stringify(error)).not.toContain('hunter2');
      expect(JSON.stringify(error)).toContain(address.host);
    }
    expect(server.requests).toBe(requestsBefore);
  });
});
