/**
 * Micro-benchmarks of the pure parts, with tinybench: no threads, no network. normalizeJob (the zod
 * validation on every submit), the policy's URL and address checks, the coordinator's
 * submit + release cycle against a fake connection view, and tenant fairness: the per-origin queue (a
 * deficit-round-robin queue of per-tenant FIFOs) against a plain FIFO, and the coordinator dispatching
 * from a backlogged origin with 1 and 1,000 tenants.
 */
import { Bench } from 'tinybench';
import {
  Coordinator,
  type ConnectionView,
  type CoordinatorConfig,
  type Ticket,
} from '../src/scheduling/coordinator.js';
import { FairQueue } from '../src/scheduling/fair-queue.js';
import { Fifo } from '../src/scheduling/fifo.js';
import { normalizeJob, type HttpJob, type JobDefaults } from '../src/job/job.js';
import { retrySchema } from '../src/config/options.js';
import { DestinationPolicy } from '../src/policy/index.js';
import type { BenchConfig } from './config.js';
import { summariseTask, type TaskSummary } from './tinybench-summary.js';

const DEFAULTS: JobDefaults = {
  timeoutMs: 60_000,
  maxResponseBytes: 10 * 2 ** 20,
  maxRedirects: 5,
  transforms: {},
  retry: retrySchema.parse({}),
};
const GET_JOB: HttpJob = { url: 'https://api.example.com/v1/items/42?expand=owner' };
const POST_JOB: HttpJob = {
  url: 'https://api.example.com/v1/items',
  method: 'post',
  headers: { authorization: 'Bearer abc.def.ghi', 'x-request-id': 'req-42', accept: 'application/json' },
  json: { name: 'item', tags: ['a', 'b'], price: 12.5 },
  timeoutMs: 5_000,
};

/** No sockets anywhere: every origin is always under its cap, so placement logic runs in full. */
const NO_CONNECTIONS: ConnectionView = { total: () => 0, open: () => 0 };
const ORIGINS = Array.from({ length: 8 }, (_, i) => `https://host-${i}.example.com`);
const IN_FLIGHT = 64;
/** Jobs kept waiting for the one backlogged origin in the tenant benchmarks. */
const BACKLOG = 10_000;

/**
 * A backlogged origin (IN_FLIGHT in flight, BACKLOG queued over `tenants` tenants): each op releases the
 * oldest running job, which dispatches the next queued one (the fair queue's turn), and submits a new one
 * (queued), so the queue's size holds.
 */
function backloggedDispatch(config: CoordinatorConfig, tenants: number): () => void {
  const running = new Fifo<Ticket<number>>();
  const coordinator = new Coordinator<number>(
    { ...config, maxQueue: 10 * BACKLOG, originRules: () => ({ concurrency: IN_FLIGHT, rate: undefined }) },
    NO_CONNECTIONS,
  );
  const takePlaced = (): void => {
    for (const ticket of coordinator.takePlaced()) running.push(ticket);
  };
  const names = Array.from({ length: tenants }, (_, i) => `tenant-${i}`);
  const origin = ORIGINS[0] ?? '';
  let op = 0;
  for (; op < BACKLOG + IN_FLIGHT; op++) coordinator.submit(origin, op, false, names[op % tenants]);
  takePlaced();
  return () => {
    const oldest = running.shift();
    if (oldest !== undefined) coordinator.release(oldest);
    coordinator.submit(origin, op, false, names[op % tenants]);
    takePlaced();
    op++;
  };
}

/** A queue kept at BACKLOG items: each op pushes one and shifts one. */
function steadyQueue(tenants: number | undefined): () => void {
  const names = Array.from({ length: tenants ?? 1 }, (_, i) => `tenant-${i}`);
  let op = 0;
  if (tenants === undefined) {
    const fifo = new Fifo<number>();
    for (; op < BACKLOG; op++) fifo.push(op);
    return () => {
      fifo.push(op++);
      fifo.shift();
    };
  }
  const fair = new FairQueue<number>();
  for (; op < BACKLOG; op++) fair.push(names[op % tenants] ?? '', op);
  return () => {
    fair.push(names[op % tenants] ?? '', op++);
    fair.shift();
  };
}

export async function runMicro(config: BenchConfig): Promise<TaskSummary[]> {
  const policy = DestinationPolicy.compile({ allow: [], deny: ['*.internal.example.com', '10.0.0.0/8'] });
  const publicUrl = new URL('https://api.example.com/v1/items/42');
  const metadataUrl = new URL('http://169.254.169.254/latest/meta-data/');

  const coordinatorConfig: CoordinatorConfig = {
    workers: 2,
    connectionsPerHost: 16,
    concurrencyPerWorker: 256,
    maxQueue: 50_000,
    maxOrigins: 1_000,
    balancing: 'affinity',
  };
  const coordinator = new Coordinator<number>(coordinatorConfig, NO_CONNECTIONS);
  // A ring of IN_FLIGHT running tickets: each op submits one and releases the one submitted IN_FLIGHT ops ago.
  const ring: (Ticket<number> | undefined)[] = new Array<Ticket<number> | undefined>(IN_FLIGHT).fill(undefined);
  let op = 0;
  const cycle = (): void => {
    const at = op % IN_FLIGHT;
    const old = ring[at];
    if (old !== undefined) coordinator.release(old);
    ring[at] = coordinator.submit(ORIGINS[op % ORIGINS.length] ?? '', op);
    coordinator.takePlaced();
    op++;
  };

  const bench = new Bench({
    time: config.tinybenchTimeMs,
    warmupTime: Math.min(250, config.tinybenchTimeMs),
    throws: true,
  });
  bench
    .add('normalizeJob (GET)', () => {
      normalizeJob(GET_JOB, DEFAULTS);
    })
    .add('normalizeJob (POST, json + 3 headers)', () => {
      normalizeJob(POST_JOB, DEFAULTS);
    })
    .add('policy.checkUrl (public name)', () => {
      policy.checkUrl(publicUrl);
    })
    .add('policy.checkUrl (metadata IP, blocked)', () => {
      policy.checkUrl(metadataUrl);
    })
    .add('policy.checkAddress (IPv4)', () => {
      policy.checkAddress('93.184.216.34', 'api.example.com');
    })
    .add('policy.checkAddress (IPv6)', () => {
      policy.checkAddress('2606:2800:220:1:248:1893:25c8:1946');
    })
    .add(`coordinator submit + release (${IN_FLIGHT} in flight, 8 origins)`, cycle)
    .add('queue push + shift: plain Fifo (10,000 waiting)', steadyQueue(undefined))
    .add('queue push + shift: FairQueue, 1 tenant (10,000 waiting)', steadyQueue(1))
    .add('queue push + shift: FairQueue, 1,000 tenants (10,000 waiting)', steadyQueue(1_000))
    .add('coordinator dispatch from a backlog: 1 tenant (10,000 queued)', backloggedDispatch(coordinatorConfig, 1))
    .add(
      'coordinator dispatch from a backlog: 1,000 tenants (10,000 queued)',
      backloggedDispatch(coordinatorConfig, 1_000),
    );
  await bench.run();
  return bench.tasks.map(summariseTask);
}
