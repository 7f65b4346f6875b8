/**
 * `flowpool demo --cluster N`: queue mode on one machine. Uses the Redis of `--redis`, or starts a private
 * `redis-server` on a free port (a clear message when the binary is missing); starts N worker processes
 * sharing cluster limits, and four loopback hosts: two without limits, one with a cluster rate of 50/s and
 * one with a cluster concurrency of 4. Floods them through the queue with a progress bar, then prints
 * each process's throughput, each host's peak concurrency against its limit (as its server counted it),
 * and the rate the rate-limited host observed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createQueueClient, type QueueResult } from '../queue/index.js';
import { EXIT, UsageError } from './cli-errors.js';
import { busiestWindow, startClusterTargets, type ClusterTarget } from './demo-cluster-targets.js';
import { createProgress } from './progress.js';
import { startRedisServer, type RedisServer } from './redis-process.js';

export interface ClusterDemoPlan {
  readonly processes: number;
  readonly jobs: number;
  readonly concurrency: number;
  readonly redis: string | undefined;
  readonly json: boolean;
}

const RATE = 50;
const CONCURRENCY = 4;
const WORKER = new URL('./demo-cluster-worker.js', import.meta.url);

export async function clusterDemo(plan: ClusterDemoPlan): Promise<number> {
  let redis: RedisServer | undefined;
  let redisUrl = plan.redis;
  if (redisUrl === undefined) {
    try {
      redis = await startRedisServer();
    } catch (error) {
      throw new UsageError(
        `demo --cluster needs Redis: give --redis <url>, or put redis-server on PATH (apt-get install redis-server). ${(error as Error).message}`,
      );
    }
    redisUrl = redis.url;
  }
  const servers = await startClusterTargets([0, 0, 0, 10]);
  const [, , rated, capped] = servers.targets as [ClusterTarget, ClusterTarget, ClusterTarget, ClusterTarget];
  const limits = { [rated.host]: { rps: RATE }, [capped.host]: { concurrency: CONCURRENCY } };
  const queue = `demo-${String(process.pid)}`;
  const children: ChildProcess[] = [];
  const client = createQueueClient({ redis: redisUrl, queue, policy: { allow: ['127.0.0.0/8'] } });
  try {
    const names = await Promise.all(
      Array.from({ length: plan.processes }, () =>
        spawnWorker(children, {
          redis: redisUrl,
          queue,
          concurrency: 64,
          runtime: { workers: 1, policy: { allow: ['127.0.0.0/8'] } },
          cluster: { hostLimits: limits },
        }),
      ),
    );
    // Every 10th job to the rated host and every 10th to the capped one: the rest keeps the others busy.
    const hostOf = (i: number): ClusterTarget =>
      servers.targets[i % 10 === 0 ? 2 : i % 10 === 5 ? 3 : i % 2] as ClusterTarget;
    const jobs = Array.from({ length: plan.jobs }, (_, i) => ({ url: `${hostOf(i).origin}/job/${i}` }));
    const byProcess = new Map<string, number>(names.map((name) => [name, 0]));
    let failed = 0;
    let done = 0;
    const bar = createProgress(`queue, ${plan.processes} processes`, plan.jobs, !plan.json);
    const started = performance.now();
    try {
      for await (const result of client.runMany(jobs, { concurrency: plan.concurrency })) {
        done++;
        bar.set(done);
        if (!result.ok) failed++;
        else {
          const by = (result.value as QueueResult).processedBy;
          byProcess.set(by, (byProcess.get(by) ?? 0) + 1);
        }
      }
    } finally {
      bar.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    const summary = {
      jobs: plan.jobs,
      failed,
      seconds,
      jobsPerSec: plan.jobs / seconds,
      processes: [...byProcess].map(([name, count]) => ({ name, jobs: count, jobsPerSec: count / seconds })),
      hosts: servers.targets.map((t) => ({
        host: t.host,
        requests: t.requests,
        peakInFlight: t.peakActive,
        limit: t === rated ? { rps: RATE } : t === capped ? { concurrency: CONCURRENCY } : undefined,
      })),
      ratedHost: {
        host: rated.host,
        limitRps: RATE,
        busiest5sRps: busiestWindow(rated.arrivals, 5_000) / 5,
        overallRps: rated.requests / Math.max(0.001, ((rated.arrivals.at(-1) ?? 0) - (rated.arrivals[0] ?? 0)) / 1000),
      },
    };
    process.stdout.write(plan.json ? `${JSON.stringify(summary, null, 2)}\n` : render(summary));
    return failed > 0 ? EXIT.failure : EXIT.ok;
  } finally {
    await client.close();
    await Promise.all(children.map(stopChild));
    await servers.close();
    await redis?.stop();
  }
}

function render(summary: {
  jobs: number;
  failed: number;
  seconds: number;
  jobsPerSec: number;
  processes: { name: string; jobs: number; jobsPerSec: number }[];
  hosts: {
    host: string;
    requests: number;
    peakInFlight: number;
    limit: { rps?: number; concurrency?: number } | undefined;
  }[];
  ratedHost: { host: string; limitRps: number; busiest5sRps: number; overallRps: number };
}): string {
  const lines = [
    `queue mode: ${summary.jobs} jobs in ${summary.seconds.toFixed(2)} s (${summary.jobsPerSec.toFixed(0)} jobs/s end to end), ${summary.failed} failed`,
    '',
    `${'worker process'.padEnd(28)} ${'jobs'.padStart(7)} ${'jobs/s'.padStart(8)}`,
    ...summary.processes.map(
      (p) => `${p.name.padEnd(28)} ${String(p.jobs).padStart(7)} ${p.jobsPerSec.toFixed(0).padStart(8)}`,
    ),
    '',
    `${'host'.padEnd(22)} ${'requests'.padStart(9)} ${'peak in flight'.padStart(15)}  cluster limit`,
    ...summary.hosts.map(
      (h) =>
        `${h.host.padEnd(22)} ${String(h.requests).padStart(9)} ${String(h.peakInFlight).padStart(15)}  ${
          h.limit === undefined
            ? '-'
            : h.limit.rps !== undefined
              ? `rps ${h.limit.rps}`
              : `concurrency ${String(h.limit.concurrency)}`
        }`,
    ),
    '',
    `rate-limited host ${summary.ratedHost.host}: busiest 5 s at the server ${summary.ratedHost.busiest5sRps.toFixed(1)}/s, ${summary.ratedHost.overallRps.toFixed(1)}/s over its whole run (cluster limit ${summary.ratedHost.limitRps}/s)`,
    '',
  ];
  return lines.join('\n');
}

async function spawnWorker(children: ChildProcess[], options: Record<string, unknown>): Promise<string> {
  const child = fork(WORKER, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('message', (message: { name?: string }) => resolve(message.name ?? String(child.pid)));
    child.once('exit', (code) =>
      reject(new Error(`a demo worker process exited (${String(code)}) before it was ready`)),
    );
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    if (child.connected) child.send({ type: 'close' });
    else child.kill();
  });
}
