/**
 * Micro-benchmarks of the pure parts, with tinybench: no threads, no network. normalizeJob (the zod
 * validation on every submit), the policy's URL and address checks, and the coordinator's
 * submit + release cycle against a fake connection view.
 */
import { Bench } from 'tinybench';
import { Coordinator, type ConnectionView, type Ticket } from '../src/coordinator.js';
import { normalizeJob, type HttpJob, type JobDefaults } from '../src/job.js';
import { retrySchema } from '../src/options.js';
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

export async function runMicro(config: BenchConfig): Promise<TaskSummary[]> {
  const policy = DestinationPolicy.compile({ allow: [], deny: ['*.internal.example.com', '10.0.0.0/8'] });
  const publicUrl = new URL('https://api.example.com/v1/items/42');
  const metadataUrl = new URL('http://169.254.169.254/latest/meta-data/');

  const coordinator = new Coordinator<number>(
    {
      workers: 2,
      connectionsPerHost: 16,
      concurrencyPerWorker: 256,
      maxQueue: 50_000,
      maxOrigins: 1_000,
      balancing: 'affinity',
    },
    NO_CONNECTIONS,
    () => {},
  );
  // A ring of IN_FLIGHT running tickets: each op submits one and releases the one submitted IN_FLIGHT ops ago.
  const ring: (Ticket<number> | undefined)[] = new Array<Ticket<number> | undefined>(IN_FLIGHT).fill(undefined);
  let op = 0;
  const cycle = (): void => {
    const at = op % IN_FLIGHT;
    const old = ring[at];
    if (old !== undefined) coordinator.release(old);
    ring[at] = coordinator.submit(ORIGINS[op % ORIGINS.length] ?? '', op);
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
    .add(`coordinator submit + release (${IN_FLIGHT} in flight, 8 origins)`, cycle);
  await bench.run();
  return bench.tasks.map(summariseTask);
}
