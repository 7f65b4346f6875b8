/**
 * `flowpool worker` for operators (issue 22, item 6), spawned for real against a private redis-server:
 * one JSON log line per start, stop and failed job (stderr; a failed job's line names its code and origin,
 * never its path or query); `--metrics-port 0` serves GET /metrics (the runtime's histogram first, the
 * queue counters) and GET /healthz on loopback; /healthz turns 503 when Redis goes away.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueueClient } from '../../dist/src/queue/index.js';
import { CLI, ROOT } from '../fixtures/cli.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';
import { settle, waitUntil } from '../fixtures/wait.js';

interface LogLine {
  readonly level: number;
  readonly time: number;
  readonly msg: string;
  readonly event?: string;
  readonly [field: string]: unknown;
}

interface SpawnedWorker {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: LogLine[];
  /** Everything written to stderr, for assertions that no line leaks a secret. */
  stderr(): string;
  /** Resolves with the first line for which `match` holds (already written or still to come). */
  line(match: (line: LogLine) => boolean): Promise<LogLine>;
  readonly exited: Promise<number | null>;
}

function spawnWorker(redisUrl: string, queue: string): SpawnedWorker {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'worker',
      '--redis',
      redisUrl,
      '--queue',
      queue,
      '--workers',
      '1',
      '--allow',
      '127.0.0.1',
      '--metrics-port',
      '0',
    ],
    { cwd: ROOT },
  );
  const lines: LogLine[] = [];
  const waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  let text = '';
  let pending = '';
  child.stderr.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    pending += chunk.toString();
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const raw = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      const line = JSON.parse(raw) as LogLine; // every stderr line is JSON: a stray one fails the test here
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.match(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    stderr: () => text,
    exited,
    line: (match) =>
      new Promise((resolve, reject) => {
        const found = lines.find(match);
        if (found !== undefined) {
          resolve(found);
          return;
        }
        waiters.push({ match, resolve });
        void exited.then((code) => reject(new Error(`flowpool worker exited (${String(code)}): ${text}`)));
      }),
  };
}

let redis: RedisServer;
let server: CountingServer;

beforeAll(async () => {
  redis = await startRedisServer();
  server = await startCountingServer((_req, res) => res.end('fine'));
});

afterAll(async () => {
  await server.close();
  await redis.stop();
});

describe('flowpool worker: logs, /metrics and /healthz', () => {
  it('logs start, each failed job and stop as JSON lines, and serves /metrics and /healthz on loopback', async () => {
    const worker = spawnWorker(redis.url, 'ops');
    try {
      const start = await worker.line((l) => l.event === 'start');
      expect(start).toMatchObject({ level: 30, queue: 'ops', pid: worker.child.pid });
      expect(start.msg).toContain('consuming queue "ops"');
      const metricsUrl = String(start.metrics);
      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const healthUrl = String(start.health);

      const health = await fetch(healthUrl);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true, redis: 'ready', closing: false });

      const client = createQueueClient({
        redis: redis.url,
        queue: 'ops',
        policy: { allow: ['127.0.0.1'] },
        timeoutMs: 20_000,
      });
      try {
        const ok = await client.run({ url: `${server.origin}/fine` });
        expect(ok.status).toBe(200);
        const failed = await settle(client.run({ url: 'http://127.0.0.1:1/private/path?token=hunter2', id: 'doomed' }));
        expect(failed.ok).toBe(false);
        if (!failed.ok) expect(failed.error.code).toBe('FLOWPOOL_CONNECTION_FAILED');
      } finally {
        await client.close();
      }
      expect(server.requests).toBe(1);

      const failure = await worker.line((l) => l.event === 'job-failed');
      expect(failure).toMatchObject({
        level: 40,
        msg: 'job failed',
        queue: 'ops',
        jobId: 'doomed',
        origin: 'http://127.0.0.1:1',
        code: 'FLOWPOOL_CONNECTION_FAILED',
      });
      expect(typeof failure.durationMs).toBe('number');
      expect(worker.lines.filter((l) => l.event === 'job-failed')).toHaveLength(1);
      expect(worker.stderr()).not.toContain('hunter2');
      expect(worker.stderr()).not.toContain('/private/path');

      const response = await fetch(metricsUrl);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      const histograms = text.split('\n').filter((l) => /^# TYPE \S+_seconds histogram$/.test(l));
      expect(histograms[0]).toBe('# TYPE flowpool_request_duration_seconds histogram');
      expect(text).toContain(`flowpool_request_duration_seconds_count{origin="${server.origin}",tenant="default"} 1\n`);
      expect(text).toContain('flowpool_queue_jobs_processed_total 2\n');
      expect(text).toContain('flowpool_queue_jobs_failed_total 1\n');
      expect((await fetch(new URL('/nothing', metricsUrl))).status).toBe(404);

      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect(worker.lines.map((l) => l.event)).toEqual(['start', 'job-failed', 'stopping', 'stop']);
      expect(worker.lines.at(-1)).toMatchObject({ level: 30, processed: 2, failed: 1, queue: 'ops' });
      expect(worker.lines.at(-2)).toMatchObject({ signal: 'SIGTERM' });
      await expect(fetch(healthUrl)).rejects.toThrow();
    } finally {
      if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    }
  });

  it('/healthz answers 503 once Redis is gone', async () => {
    const own = await startRedisServer();
    const worker = spawnWorker(own.url, 'ops-health');
    try {
      const start = await worker.line((l) => l.event === 'start');
      const healthUrl = String(start.health);
      expect((await fetch(healthUrl)).status).toBe(200);
      await own.stop();
      let last: { ok?: boolean; redis?: string } = {};
      await waitUntil(async () => {
        const response = await fetch(healthUrl);
        last = (await response.json()) as typeof last;
        return response.status === 503;
      }, 'the health endpoint to report Redis gone');
      expect(last.ok).toBe(false);
      expect(last.redis).not.toBe('ready');
    } finally {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
  });
});
