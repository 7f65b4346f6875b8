/**
 * Issue 21, item 5: an idempotency key is bound to its job's fingerprint and scoped per queue and namespace.
 * Two clients of one queue (one spawned worker process, a private redis-server): B reusing A's key for a
 * different job fails with FLOWPOOL_IDEMPOTENCY_CONFLICT and gets nothing of A's (after A finished, and
 * while A's job is still held at the server); B with A's very job gets A's outcome and sends nothing; two
 * namespaces with the same key run two jobs. The target server counts every request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueClient } from '../../dist/src/queue/index.js';
import { createQueueClient } from '../../dist/src/queue/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { spawnQueueWorker, type WorkerProcess } from '../fixtures/queue-workers.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';
import { settle, waitUntil } from '../fixtures/wait.js';

const QUEUE = 'idem';
let redis: RedisServer;
let server: CountingServer;
let worker: WorkerProcess;
const clients: QueueClient[] = [];
const seen: string[] = [];
/** Requests to /held/* wait here until the test lets them go. */
const held: (() => void)[] = [];

function client(namespace?: string): QueueClient {
  const made = createQueueClient({
    redis: redis.url,
    queue: QUEUE,
    policy: { allow: ['127.0.0.1'] },
    ...(namespace === undefined ? {} : { namespace }),
  });
  clients.push(made);
  return made;
}

beforeAll(async () => {
  redis = await startRedisServer();
  server = await startCountingServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const line = `${req.method ?? ''} ${req.url ?? ''} ${Buffer.concat(chunks).toString()}`;
      seen.push(line);
      const answer = (): void => {
        res.end(`private answer to ${line}`);
      };
      if (req.url?.startsWith('/held/') === true) held.push(answer);
      else answer();
    });
  });
  worker = await spawnQueueWorker({
    redis: redis.url,
    queue: QUEUE,
    runtime: { workers: 1, policy: { allow: ['127.0.0.1'] } },
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await worker.close();
  await server.close();
  await redis.stop();
});

describe('security: idempotency keys bound to the job', () => {
  it("client B reusing A's key for another job gets FLOWPOOL_IDEMPOTENCY_CONFLICT and nothing of A; A's own job replays", async () => {
    const a = client();
    const b = client();
    const jobA = { url: `${server.origin}/orders/a`, method: 'POST', body: 'secret-of-a' };
    const jobB = { url: `${server.origin}/orders/b`, method: 'POST', body: 'from-b' };
    seen.length = 0;
    const first = await a.run(jobA, { idempotencyKey: 'order-42' });
    expect(first.body).toBe(`private answer to POST /orders/a secret-of-a`);

    const conflict = await settle(b.run(jobB, { idempotencyKey: 'order-42' }));
    expect(conflict.ok).toBe(false);
    if (conflict.ok) return;
    expect(conflict.error.code).toBe('FLOWPOOL_IDEMPOTENCY_CONFLICT');
    expect(conflict.error.details).toEqual({ field: 'idempotencyKey' });
    expect(JSON.stringify(conflict.error)).not.toContain('secret-of-a');
    expect(conflict.error.message).not.toContain('/orders/a');

    // Control: the very same job under the key returns the first outcome and sends nothing.
    const replay = await b.run(jobA, { idempotencyKey: 'order-42' });
    expect(replay.body).toBe(first.body);
    // A header that matters (another credential) is another job; a trace header is not.
    const otherCredential = await settle(
      b.run({ ...jobA, headers: { authorization: 'Bearer b' } }, { idempotencyKey: 'order-42' }),
    );
    expect(otherCredential.ok ? undefined : otherCredential.error.code).toBe('FLOWPOOL_IDEMPOTENCY_CONFLICT');
    const traced = await b.run(
      { ...jobA, headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } },
      {
        idempotencyKey: 'order-42',
      },
    );
    expect(traced.body).toBe(first.body);
    expect(seen).toEqual(['POST /orders/a secret-of-a']);
  });

  it('refuses the other job while the first is still running, and the first still gets its answer', async () => {
    const a = client();
    const b = client();
    seen.length = 0;
    const running = a.run(
      { url: `${server.origin}/held/a`, method: 'POST', body: 'a' },
      { idempotencyKey: 'order-43' },
    );
    await waitUntil(() => held.length === 1, 'the first job held at the server');
    const conflict = await settle(
      b.run({ url: `${server.origin}/held/b`, method: 'POST', body: 'b' }, { idempotencyKey: 'order-43' }),
    );
    expect(conflict.ok ? undefined : conflict.error.code).toBe('FLOWPOOL_IDEMPOTENCY_CONFLICT');
    for (const release of held.splice(0)) release();
    expect((await running).body).toBe('private answer to POST /held/a a');
    expect(seen).toEqual(['POST /held/a a']);
  });

  it('scopes keys per namespace: the same key in two tenants runs two jobs, each getting its own answer', async () => {
    const tenant1 = client('tenant-1');
    const tenant2 = client('tenant-2');
    seen.length = 0;
    const one = await tenant1.run(
      { url: `${server.origin}/t/1`, method: 'POST', body: '1' },
      { idempotencyKey: 'order-42' },
    );
    const two = await tenant2.run(
      { url: `${server.origin}/t/2`, method: 'POST', body: '2' },
      { idempotencyKey: 'order-42' },
    );
    expect(one.body).toBe('private answer to POST /t/1 1');
    expect(two.body).toBe('private answer to POST /t/2 2');
    expect(seen).toEqual(['POST /t/1 1', 'POST /t/2 2']);
  });
});
