/**
 * Issue 21, item 4: a queue worker does only what a flowpool client would ask of it. Raw jobs are added with
 * BullMQ's own `Queue.add` (no client), against a private redis-server and two spawned worker processes,
 * one started without `saveToDir`, one with it. Refused jobs complete with an outcome carrying
 * FLOWPOOL_INVALID_JOB and the field, the target server counts 0 requests for them and no file appears;
 * each control job (same shape, allowed) is sent and written.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { spawnQueueWorker, type WorkerProcess } from '../fixtures/queue-workers.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';

interface Outcome {
  readonly ok: boolean;
  readonly error?: { readonly code: string; readonly details?: Record<string, unknown> };
  readonly result?: { readonly status: number; readonly body?: unknown };
}

let redis: RedisServer;
let target: CountingServer;
let dir: string;
let saves: string;
let outside: string;
const paths: string[] = [];
const lanes = new Map<string, { queue: Queue; events: QueueEvents; worker: WorkerProcess }>();

async function lane(queueName: string, extra: Record<string, unknown>): Promise<void> {
  const connection = { host: '127.0.0.1', port: redis.port };
  const worker = await spawnQueueWorker({
    redis: redis.url,
    queue: queueName,
    runtime: { workers: 1, policy: { allow: ['127.0.0.1'] } },
    ...extra,
  });
  const queue = new Queue(queueName, { connection, prefix: 'flowpool' });
  const events = new QueueEvents(queueName, { connection, prefix: 'flowpool' });
  await events.waitUntilReady();
  lanes.set(queueName, { queue, events, worker });
}

/** Adds a raw job as anyone with Redis access could, and waits for the worker's stored outcome. */
async function addRaw(queueName: string, name: string, data: unknown): Promise<Outcome> {
  const found = lanes.get(queueName);
  if (found === undefined) throw new Error(`no lane ${queueName}`);
  const job = await found.queue.add(name, data);
  return (await job.waitUntilFinished(found.events, 20_000)) as Outcome;
}

const payload = (job: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  v: 1,
  job,
  deadline: Date.now() + 60_000,
  ...extra,
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowpool-queue-jobs-'));
  saves = join(dir, 'saves');
  outside = join(dir, 'outside');
  mkdirSync(saves);
  mkdirSync(outside);
  writeFileSync(join(outside, 'existing.txt'), 'keep me');
  symlinkSync(outside, join(saves, 'escape'));
  redis = await startRedisServer();
  target = await startCountingServer((req, res) => {
    paths.push(req.url ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => res.end(`seen ${req.url ?? ''} ${Buffer.concat(chunks).toString('hex')}`));
  });
  await lane('plain', {});
  await lane('saving', { saveToDir: saves });
}, 60_000);

afterAll(async () => {
  for (const { queue, events, worker } of lanes.values()) {
    await Promise.all([queue.close(), events.close()]);
    await worker.close();
  }
  await target.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

function expectRefused(outcome: Outcome, field: string): void {
  expect(outcome.ok).toBe(false);
  expect(outcome.error?.code).toBe('FLOWPOOL_INVALID_JOB');
  expect(outcome.error?.details).toMatchObject({ field });
}

describe('security: raw queue jobs', () => {
  it('a worker without saveToDir refuses saveTo: nothing sent, no file, the existing file kept', async () => {
    paths.length = 0;
    for (const saveTo of [join(outside, 'new.txt'), join(outside, 'existing.txt')]) {
      expectRefused(await addRaw('plain', 'http', payload({ url: `${target.origin}/save`, saveTo })), 'saveTo');
    }
    expect(paths).toEqual([]);
    expect(existsSync(join(outside, 'new.txt'))).toBe(false);
    expect(readFileSync(join(outside, 'existing.txt'), 'utf8')).toBe('keep me');
  });

  it('a worker with saveToDir refuses paths outside it (directly, through .., through a symlink); writes inside it', async () => {
    paths.length = 0;
    for (const saveTo of [
      join(outside, 'direct.txt'),
      `${saves}/../outside/dotdot.txt`,
      join(saves, 'escape', 'linked.txt'),
      join(saves, 'missing-dir', 'x.txt'),
    ]) {
      expectRefused(await addRaw('saving', 'http', payload({ url: `${target.origin}/save`, saveTo })), 'saveTo');
    }
    expect(paths).toEqual([]);
    for (const name of ['direct.txt', 'dotdot.txt', 'linked.txt']) expect(existsSync(join(outside, name))).toBe(false);

    const control = await addRaw(
      'saving',
      'http',
      payload({ url: `${target.origin}/kept`, saveTo: join(saves, 'ok.txt') }),
    );
    expect(control.ok).toBe(true);
    expect(paths).toEqual(['/kept']);
    expect(readFileSync(join(saves, 'ok.txt'), 'utf8')).toBe('seen /kept ');
  });

  it('refuses a job whose name is not the client\'s ("http"); the same data under "http" is sent', async () => {
    paths.length = 0;
    expectRefused(await addRaw('plain', 'exfiltrate', payload({ url: `${target.origin}/named` })), 'name');
    expect(paths).toEqual([]);
    const control = await addRaw('plain', 'http', payload({ url: `${target.origin}/named` }));
    expect(control.ok).toBe(true);
    expect(paths).toEqual(['/named']);
  });

  it('refuses __proto__ anywhere inside a queued job, naming where', async () => {
    paths.length = 0;
    const inHeaders = JSON.parse(`{"url":"${target.origin}/proto","headers":{"__proto__":{"x-admin":"1"}}}`) as Record<
      string,
      unknown
    >;
    const deep = JSON.parse(
      `{"url":"${target.origin}/proto","method":"POST","json":{"a":[{"__proto__":{"polluted":true}}]}}`,
    ) as Record<string, unknown>;
    expectRefused(await addRaw('plain', 'http', payload(inHeaders)), 'headers.__proto__');
    expectRefused(await addRaw('plain', 'http', payload(deep)), 'json.a.0.__proto__');
    expect(paths).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a raw job reusing a key the worker recorded for another job gets FLOWPOOL_IDEMPOTENCY_CONFLICT, not the record', async () => {
    paths.length = 0;
    const first = await addRaw('plain', 'http', payload({ url: `${target.origin}/keyed/a` }, { key: 'raw-key' }));
    expect(first.ok).toBe(true);
    const other = await addRaw('plain', 'http', payload({ url: `${target.origin}/keyed/b` }, { key: 'raw-key' }));
    expect(other.ok).toBe(false);
    expect(other.error?.code).toBe('FLOWPOOL_IDEMPOTENCY_CONFLICT');
    expect(JSON.stringify(other)).not.toContain('/keyed/a');
    // Control: the same job under the key is answered from the record, without a second request.
    const same = await addRaw('plain', 'http', payload({ url: `${target.origin}/keyed/a` }, { key: 'raw-key' }));
    expect(same).toMatchObject({ ok: true, result: { status: 200 } });
    expect(paths).toEqual(['/keyed/a']);
  });

  it('decodes bodyBase64 strictly: invalid base64 is refused and not sent; valid base64 is sent as those bytes', async () => {
    paths.length = 0;
    for (const body of ['not base64!', 'AAE', 'AAF=', 42]) {
      const outcome = await addRaw(
        'plain',
        'http',
        payload({ url: `${target.origin}/bytes`, method: 'POST', body }, { bodyBase64: true }),
      );
      expectRefused(outcome, 'body');
    }
    expect(paths).toEqual([]);
    const control = await addRaw(
      'plain',
      'http',
      payload({ url: `${target.origin}/bytes`, method: 'POST', body: 'AAE=' }, { bodyBase64: true }),
    );
    expect(control.ok).toBe(true);
    expect(control.result?.body).toBe('seen /bytes 0001');
    expect(paths).toEqual(['/bytes']);
  });
});
