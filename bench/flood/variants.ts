/**
 * The clients under comparison, each behind the same two calls: `fire(url)` resolves with the HTTP
 * status once the body has been read (and, for the heavy workload, parsed and transformed), `close()`
 * releases every socket and thread so the child process can exit on its own.
 */
import { Agent as HttpAgent } from 'node:http';
import { fileURLToPath } from 'node:url';
import axios from 'axios';
import { Piscina } from 'piscina';
import { Agent, request } from 'undici';
import { createRuntime, type HttpJob } from '../../src/index.js';
import heavyTransform from '../workloads/heavy-transform.js';
import type { NaiveResult, NaiveTask } from './naive-worker.js';
import type { LoadSpec, VariantName } from './protocol.js';

export interface Client {
  fire(url: string): Promise<number>;
  close(): Promise<void>;
  /** flowpool only: RSS added per worker by starting the runtime, before any job. */
  readonly workerRssAtRestMb?: number;
  /** flowpool only: jobs each worker ran since the last call (`HttpResult.worker`), then resets. */
  takeJobsPerWorker?(): number[];
}

const NAIVE_WORKER = fileURLToPath(new URL('./naive-worker.js', import.meta.url));
/** The naive pool's setting in the reference figures: 2 x 128 = the flood's 256 in flight. */
const NAIVE_TASKS_PER_WORKER = 128;
const LOOPBACK_ONLY = { allow: ['127.0.0.0/8'] };

export async function openClient(spec: LoadSpec): Promise<Client> {
  const open = OPENERS[spec.variant];
  return open(spec);
}

const OPENERS: Record<VariantName, (spec: LoadSpec) => Promise<Client>> = {
  flowpool: (spec) => openFlowpool(spec, 'affinity'),
  'flowpool-least-busy': (spec) => openFlowpool(spec, 'least-busy'),
  'flowpool-large-nursery': (spec) => openFlowpool(spec, 'affinity', LARGE_NURSERY),
  'flowpool-tenants': (spec) => openFlowpool(spec, 'affinity', undefined, FLOOD_TENANTS),
  undici: openUndici,
  'undici-fastest': openUndiciFastest,
  'no-pooling': openNoPooling,
  'naive-piscina': openNaivePiscina,
  fetch: openFetch,
  axios: openAxios,
};

/**
 * What README's `workerResourceLimits` advice gives a transform-heavy engine: a young generation big
 * enough for a parsed 50 KB document and the transform's garbage to die young.
 */
const LARGE_NURSERY = { maxYoungGenerationSizeMb: 32 };
/** Tenants the `flowpool-tenants` variant spreads its jobs over (round robin), all of weight 1. */
const FLOOD_TENANTS = 100;

async function openFlowpool(
  spec: LoadSpec,
  balancing: 'affinity' | 'least-busy',
  workerResourceLimits?: { readonly maxYoungGenerationSizeMb: number },
  tenants?: number,
): Promise<Client> {
  const before = process.memoryUsage.rss();
  const runtime = createRuntime({
    workers: spec.workers,
    connectionsPerHost: spec.connectionsPerHost,
    balancing,
    policy: LOOPBACK_ONLY,
    transforms: { heavy: spec.heavyTransform },
    ...(workerResourceLimits === undefined ? {} : { workerResourceLimits }),
    ...(spec.tls === undefined ? {} : { tls: { ca: spec.tls.ca }, allowH2: spec.tls.allowH2 }),
  });
  await workersOnline(runtime.stats.bind(runtime), spec.workers);
  const workerRssAtRestMb = (process.memoryUsage.rss() - before) / spec.workers / 2 ** 20;
  const heavy = spec.workload === 'heavy';
  let perWorker = new Array<number>(spec.workers).fill(0);
  const tenantNames = Array.from({ length: tenants ?? 0 }, (_, i) => `tenant-${i}`);
  let fired = 0;
  return {
    workerRssAtRestMb,
    takeJobsPerWorker() {
      const taken = perWorker;
      perWorker = new Array<number>(spec.workers).fill(0);
      return taken;
    },
    async fire(url) {
      const tenant = tenantNames.length === 0 ? undefined : tenantNames[fired++ % tenantNames.length];
      // Built in one literal either way, so the variants differ by the tenant field only.
      let job: HttpJob;
      if (tenant === undefined) job = heavy ? { url, responseType: 'json', transform: 'heavy' } : { url };
      else job = heavy ? { url, responseType: 'json', transform: 'heavy', tenant } : { url, tenant };
      const result = await runtime.run(job);
      perWorker[result.worker] = (perWorker[result.worker] ?? 0) + 1;
      return result.status;
    },
    close: () => runtime.close(),
  };
}

/** Waits (bounded) until every worker has reported in, so the RSS read after it includes them all. */
async function workersOnline(
  stats: () => Promise<{ workers: readonly { threadId: number | undefined }[] }>,
  workers: number,
): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const view = await stats();
    if (view.workers.length === workers && view.workers.every((w) => w.threadId !== undefined)) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Let the workers' start-up garbage settle before the reading.
  await new Promise((resolve) => setTimeout(resolve, 200));
}

/**
 * undici's options for the spec. Over h2: one session per origin carrying up to 100 streams (undici 7
 * multiplexes only up to `pipelining`; without `connections: 1` a burst opens a session per request).
 */
function undiciOptions(spec: LoadSpec, connections: number | undefined): Agent.Options {
  if (spec.tls === undefined) return connections === undefined ? {} : { connections };
  // Only the test CA: undici passes `ca` to every tls.connect, which parses it per handshake, and
  // Node's ~140 roots on top would make each new connection (NoPooling) slower than it needs to be.
  const connect = { ca: spec.tls.ca };
  if (spec.tls.allowH2) return { connect, allowH2: true, connections: 1, pipelining: 100 };
  return connections === undefined ? { connect } : { connect, connections };
}

async function openUndici(spec: LoadSpec): Promise<Client> {
  const agent = new Agent(undiciOptions(spec, spec.connectionsPerHost));
  const heavy = spec.workload === 'heavy';
  return Promise.resolve({
    async fire(url) {
      const { statusCode, body } = await request(url, { dispatcher: agent });
      if (heavy) heavyTransform(await body.json());
      else await body.text();
      return statusCode;
    },
    close: () => agent.close(),
  });
}

/**
 * undici at its fastest: the Agent's own `request({ origin, path })`, each target URL split into origin and
 * path once, up front, so no URL is parsed per call (`request(url, { dispatcher })` above parses its string
 * every time, as code is typically written). Both are kept: the targets name each.
 */
function openUndiciFastest(spec: LoadSpec): Promise<Client> {
  const agent = new Agent({ connections: spec.connectionsPerHost });
  const heavy = spec.workload === 'heavy';
  const targets = new Map(spec.origins.map((origin) => [`${origin}${spec.path}`, { origin, path: spec.path }]));
  return Promise.resolve({
    async fire(url) {
      // A URL outside the spec's (none in the suites) is split here, once per call.
      const target = targets.get(url) ?? splitUrl(url);
      const { statusCode, body } = await agent.request({ origin: target.origin, path: target.path, method: 'GET' });
      if (heavy) heavyTransform(await body.json());
      else await body.text();
      return statusCode;
    },
    close: () => agent.close(),
  });
}

function splitUrl(url: string): { origin: string; path: string } {
  const parsed = new URL(url);
  return { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
}

function openNoPooling(spec: LoadSpec): Promise<Client> {
  // No connection limit (like undici's global dispatcher); `reset` closes each connection after its
  // response, so every request dials anew.
  const agent = new Agent(
    undiciOptions({ ...spec, ...(spec.tls ? { tls: { ...spec.tls, allowH2: false } } : {}) }, undefined),
  );
  const heavy = spec.workload === 'heavy';
  return Promise.resolve({
    async fire(url) {
      const { statusCode, body } = await request(url, { dispatcher: agent, reset: true });
      if (heavy) heavyTransform(await body.json());
      else await body.text();
      return statusCode;
    },
    close: () => agent.close(),
  });
}

function openNaivePiscina(spec: LoadSpec): Promise<Client> {
  const pool = new Piscina<NaiveTask, NaiveResult>({
    filename: NAIVE_WORKER,
    minThreads: spec.workers,
    maxThreads: spec.workers,
    concurrentTasksPerWorker: NAIVE_TASKS_PER_WORKER,
    atomics: 'disabled',
    idleTimeout: Infinity,
  });
  const task = {
    workload: spec.workload,
    connections: spec.connectionsPerHost,
    ...(spec.tls === undefined ? {} : { ca: spec.tls.ca, allowH2: spec.tls.allowH2 }),
  };
  return Promise.resolve({
    async fire(url) {
      return (await pool.run({ ...task, url })).status;
    },
    close: () => pool.destroy(),
  });
}

function openFetch(spec: LoadSpec): Promise<Client> {
  const heavy = spec.workload === 'heavy';
  return Promise.resolve({
    async fire(url) {
      const response = await fetch(url);
      if (heavy) heavyTransform(await response.json());
      else await response.text();
      return response.status;
    },
    // Node's global fetch keeps its sockets in a dispatcher we cannot close; they are unref'd.
    close: () => Promise.resolve(),
  });
}

function openAxios(spec: LoadSpec): Promise<Client> {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: spec.connectionsPerHost });
  const heavy = spec.workload === 'heavy';
  const client = axios.create({
    httpAgent: agent,
    responseType: heavy ? 'json' : 'text',
    validateStatus: () => true,
  });
  return Promise.resolve({
    async fire(url) {
      const response = await client.get<unknown>(url);
      if (heavy) heavyTransform(response.data);
      return response.status;
    },
    close: () => {
      agent.destroy();
      return Promise.resolve();
    },
  });
}
