/**
 * The queue suite (`--only queue`): end-to-end jobs per second, submit to result, through queue mode with
 * 1 and 2 worker processes, beside two baselines measured in the same run against the same loopback
 * target process: a plain BullMQ queue whose worker does nothing (the broker's own ceiling, results read
 * the same way, through QueueEvents) and the in-process runtime (no queue at all). Per-job overhead of
 * queue mode = 1e6 / queue jobs/s - 1e6 / runtime jobs/s, in microseconds of wall time per job at
 * saturation. Variants are interleaved by round; figures are medians of the rounds.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Queue, QueueEvents } from 'bullmq';
import { createRuntime, type HttpJob } from '../../src/index.js';
import { createQueueClient } from '../../src/queue/index.js';
import { startRedisServer, type RedisServer } from '../../src/cli/redis-process.js';
import type { TargetProcess } from '../../src/cli/target-process.js';
import { median } from '../stats.js';

export interface QueueBenchOptions {
  readonly jobs: number;
  readonly rounds: number;
}

export type QueueVariant = 'runtime' | 'bullmq-noop' | 'queue-1w' | 'queue-2w';
const VARIANTS: readonly QueueVariant[] = ['runtime', 'bullmq-noop', 'queue-1w', 'queue-2w'];

export interface QueueBenchResult {
  readonly jobs: number;
  readonly rounds: number;
  /** Median jobs/s per variant. */
  readonly jobsPerSec: Readonly<Record<QueueVariant, number>>;
  /** Every round's jobs/s per variant, in order. */
  readonly perRound: Readonly<Record<QueueVariant, readonly number[]>>;
  readonly failures: number;
}

/** In flight at once from the submitting side, the same for every variant. */
const WINDOW = 256;
/** Jobs each worker process holds at once. */
const WORKER_CONCURRENCY = 128;
const CHILD = new URL('./worker-child.js', import.meta.url);

export async function runQueueBench(
  targets: TargetProcess,
  options: QueueBenchOptions,
  log: (line: string) => void,
): Promise<QueueBenchResult> {
  const redis = await startRedisServer();
  const perRound: Record<QueueVariant, number[]> = { runtime: [], 'bullmq-noop': [], 'queue-1w': [], 'queue-2w': [] };
  let failures = 0;
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const variant of VARIANTS) {
        const measured = await measure(variant, redis, targets, options.jobs, `${variant}-${round}`);
        failures += measured.failures;
        perRound[variant].push(measured.jobsPerSec);
        log(`  round ${round} ${variant.padEnd(12)} ${measured.jobsPerSec.toFixed(0).padStart(6)} jobs/s`);
      }
    }
  } finally {
    await redis.stop();
  }
  const jobsPerSec = Object.fromEntries(VARIANTS.map((v) => [v, median(perRound[v])])) as Record<QueueVariant, number>;
  return { jobs: options.jobs, rounds: options.rounds, jobsPerSec, perRound, failures };
}

export function queueTable(result: QueueBenchResult): string {
  const { jobsPerSec: j } = result;
  const noop = j['bullmq-noop'];
  const runtime = j.runtime;
  const row = (name: string, variant: QueueVariant): string => {
    const value = j[variant];
    return `${name.padEnd(34)} ${value.toFixed(0).padStart(8)} ${(value / noop).toFixed(2).padStart(10)} ${(value / runtime).toFixed(2).padStart(12)}`;
  };
  const overhead = (variant: QueueVariant): string => (1e6 / j[variant] - 1e6 / runtime).toFixed(0);
  return [
    `${'variant'.padEnd(34)} ${'jobs/s'.padStart(8)} ${'x no-op'.padStart(10)} ${'x runtime'.padStart(12)}`,
    row('in-process runtime (no queue)', 'runtime'),
    row('BullMQ, no-op processor (1 proc)', 'bullmq-noop'),
    row('flowpool queue, 1 worker process', 'queue-1w'),
    row('flowpool queue, 2 worker processes', 'queue-2w'),
    `per-job overhead of queue mode (1e6/jobs/s - 1e6/runtime jobs/s): ${overhead('queue-1w')} us with 1 worker process, ${overhead('queue-2w')} us with 2`,
    `${result.jobs} jobs per variant, ${WINDOW} in flight, median of ${result.rounds} round(s); target: queue >= 0.5x the no-op ceiling`,
  ].join('\n');
}

async function measure(
  variant: QueueVariant,
  redis: RedisServer,
  targets: TargetProcess,
  jobs: number,
  queue: string,
): Promise<{ jobsPerSec: number; failures: number }> {
  const job = (i: number): HttpJob => ({ url: `${targets.origins[i % targets.origins.length] ?? ''}/item/${i}` });
  if (variant === 'runtime') {
    const runtime = createRuntime({ workers: 1, policy: { allow: ['127.0.0.1'] } });
    try {
      await drain(
        runtime.runMany(
          Array.from({ length: 200 }, (_, i) => job(i)),
          { concurrency: WINDOW },
        ),
      );
      return await timed(jobs, () =>
        drain(
          runtime.runMany(
            Array.from({ length: jobs }, (_, i) => job(i)),
            { concurrency: WINDOW },
          ),
        ),
      );
    } finally {
      await runtime.close();
    }
  }
  if (variant === 'bullmq-noop') {
    const children = await spawnWorkers('noop', 1, redis, queue);
    try {
      return await noopFlood(redis, queue, jobs);
    } finally {
      await Promise.all(children.map(stopChild));
    }
  }
  const count = variant === 'queue-1w' ? 1 : 2;
  const children = await spawnWorkers('flowpool', count, redis, queue);
  const client = createQueueClient({ redis: redis.url, queue, policy: { allow: ['127.0.0.1'] } });
  try {
    await drain(
      client.runMany(
        Array.from({ length: 200 }, (_, i) => job(i)),
        { concurrency: WINDOW },
      ),
    );
    return await timed(jobs, () =>
      drain(
        client.runMany(
          Array.from({ length: jobs }, (_, i) => job(i)),
          { concurrency: WINDOW },
        ),
      ),
    );
  } finally {
    await client.close();
    await Promise.all(children.map(stopChild));
  }
}

async function timed(jobs: number, run: () => Promise<number>): Promise<{ jobsPerSec: number; failures: number }> {
  const started = performance.now();
  const failures = await run();
  return { jobsPerSec: jobs / ((performance.now() - started) / 1000), failures };
}

/** Consumes a runMany, returning how many failed. */
async function drain(results: AsyncIterable<{ ok: boolean; value?: unknown }>): Promise<number> {
  let failed = 0;
  for await (const result of results) {
    if (!result.ok || (result.value as { status?: number }).status !== 200) failed++;
  }
  return failed;
}

/** The broker's ceiling: the same window of adds, results from QueueEvents, a worker that does nothing. */
async function noopFlood(
  redis: RedisServer,
  name: string,
  jobs: number,
): Promise<{ jobsPerSec: number; failures: number }> {
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection, prefix: 'flowpool' });
  // From the stream's start: the queue is new, and '$' would miss completions before the first read.
  const events = new QueueEvents(name, { connection, prefix: 'flowpool', lastEventId: '0-0' });
  await events.waitUntilReady();
  const waiting = new Map<string, () => void>();
  events.on('completed', ({ jobId }) => waiting.get(jobId)?.());
  const one = async (i: number): Promise<void> => {
    const jobId = `n-${name}-${i}`;
    const done = new Promise<void>((resolve) => waiting.set(jobId, resolve));
    await queue.add('noop', { i }, { jobId });
    await done;
    waiting.delete(jobId);
  };
  const flood = async (count: number, offset: number): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(WINDOW, count) }, async () => {
        while (next < count) await one(offset + next++);
      }),
    );
  };
  try {
    await flood(200, 0);
    return await timed(jobs, async () => {
      await flood(jobs, 1_000_000);
      return 0;
    });
  } finally {
    await events.close();
    await queue.close();
  }
}

async function spawnWorkers(
  mode: 'flowpool' | 'noop',
  count: number,
  redis: RedisServer,
  queue: string,
): Promise<ChildProcess[]> {
  const options = {
    redis: redis.url,
    queue,
    concurrency: WORKER_CONCURRENCY,
    runtime: { workers: 1, policy: { allow: ['127.0.0.1'] } },
  };
  return Promise.all(
    Array.from({ length: count }, async () => {
      const child = fork(CHILD, [mode, JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) =>
          reject(new Error(`queue bench worker exited (${String(code)}) before it was ready`)),
        );
      });
      return child;
    }),
  );
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.send({ type: 'close' });
  });
}
