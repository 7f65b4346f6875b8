/**
 * The queue commands, spawned for real against a private redis-server: `flowpool worker` consumes the
 * queue until SIGTERM (then exits 0); `flowpool enqueue` prints the body like `fetch` (exit 3 for a
 * destination its own check refuses, nothing enqueued); `flowpool run --redis --queue` runs a workflow
 * whose http nodes go through the queue; `flowpool demo --cluster` runs end to end. The servers count what
 * reached them.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, CLI, ROOT } from '../fixtures/cli.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';

let redis: RedisServer;
let server: CountingServer;
let worker: ChildProcessWithoutNullStreams;
let workerExit: Promise<number | null>;
let dir: string;

beforeAll(async () => {
  redis = await startRedisServer();
  server = await startCountingServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(req.url === '/name' ? 'queue mode' : `hello from ${req.url ?? ''}`);
  });
  dir = await mkdtemp(join(tmpdir(), 'flowpool-queue-cli-'));
  worker = spawn(
    process.execPath,
    [CLI, 'worker', '--redis', redis.url, '--queue', 'cli', '--workers', '1', '--allow', '127.0.0.1'],
    { cwd: ROOT },
  );
  workerExit = new Promise((resolve) => worker.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    worker.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('consuming queue')) resolve();
    });
    worker.once('exit', (code) => reject(new Error(`flowpool worker exited (${String(code)}): ${stderr}`)));
  });
});

afterAll(async () => {
  if (worker.exitCode === null) worker.kill('SIGKILL');
  await server.close();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('flowpool worker / enqueue / run --redis', () => {
  it('enqueue prints the body a worker fetched', async () => {
    const before = server.requests;
    const { code, stdout, stderr } = await cli([
      'enqueue',
      '--redis',
      redis.url,
      '--queue',
      'cli',
      '--allow',
      '127.0.0.1',
      `${server.origin}/greeting`,
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe('hello from /greeting');
    expect(server.requests - before).toBe(1);
  });

  it('enqueue refuses a destination its own check blocks (exit 3), enqueueing nothing', async () => {
    const before = server.requests;
    const { code, stderr } = await cli(['enqueue', '--redis', redis.url, '--queue', 'cli', `${server.origin}/x`]);
    expect(code).toBe(3);
    expect(stderr).toContain('blocked:');
    expect(server.requests).toBe(before);
  });

  it('run --redis --queue runs the http nodes through the queue', async () => {
    const file = join(dir, 'workflow.json');
    await writeFile(
      file,
      JSON.stringify({
        nodes: [
          { id: 'name', type: 'http', data: { url: `${server.origin}/name` } },
          { id: 'shout', type: 'text_operation', data: { text_op: 'uppercase' } },
        ],
        edges: [{ source: 'name', target: 'shout' }],
      }),
    );
    const before = server.requests;
    const { code, stdout } = await cli(['run', file, '--redis', redis.url, '--queue', 'cli', '--allow', '127.0.0.1']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { status: string; nodes: { id: string; output?: unknown }[] };
    expect(result.status).toBe('success');
    expect(result.nodes.find((n) => n.id === 'shout')?.output).toBe('QUEUE MODE');
    expect(server.requests - before).toBe(1);
  });

  it('demo --cluster starts its own Redis and workers and reports what the servers counted', async () => {
    const { code, stdout } = await cli(['demo', '--cluster', '2', '--jobs', '300', '--json'], { timeoutMs: 60_000 });
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as {
      jobs: number;
      failed: number;
      processes: { jobs: number }[];
      hosts: { requests: number; peakInFlight: number; limit?: { rps?: number; concurrency?: number } }[];
      ratedHost: { busiest5sRps: number };
    };
    expect(summary.failed).toBe(0);
    expect(summary.processes).toHaveLength(2);
    expect(summary.processes.reduce((sum, p) => sum + p.jobs, 0)).toBe(300);
    expect(summary.hosts.reduce((sum, h) => sum + h.requests, 0)).toBe(300);
    const capped = summary.hosts.find((h) => h.limit?.concurrency !== undefined);
    expect(capped?.peakInFlight).toBeLessThanOrEqual(4);
    expect(summary.ratedHost.busiest5sRps).toBeLessThanOrEqual(55);
  }, 60_000);

  it('worker exits 0 on SIGTERM', async () => {
    worker.kill('SIGTERM');
    expect(await workerExit).toBe(0);
  });
});
