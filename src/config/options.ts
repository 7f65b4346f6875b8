import { availableParallelism } from 'node:os';
import { isIP } from 'node:net';
import { z } from 'zod';
import { refuseForbiddenKeys } from './forbidden-keys.js';
import { policySchema } from './policy-option.js';
import { profilesSchema } from './profile-options.js';
import { resolveProxy, transportOptionsShape } from './transport-options.js';
import { tenantsSchema } from '../scheduling/tenants.js';
import { guardedOptions, toValidationError } from '../errors/validation.js';
import type { RuntimeOptions } from './runtime-options.js';

/**
 * The one place where defaults live. Figures come from the Go executor flowpool grew from
 * (MaxConnsPerHost 100, IdleConnTimeout 90 s, TLSHandshake 10 s, ResponseHeader 30 s, 10 MB bodies).
 */
export const DEFAULTS = {
  concurrencyPerWorker: 256,
  maxQueue: 50_000,
  connectionsPerHost: 100,
  keepAliveTimeoutMs: 90_000,
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 30_000,
  timeoutMs: 60_000,
  startupTimeoutMs: 30_000,
  maxResponseBytes: 10 * 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxRequestHeaders: 100,
  maxRequestHeaderBytes: 16 * 1024,
  maxRedirects: 5,
  maxOrigins: 10_000,
  /** Jobs `runMany` keeps in flight when its `concurrency` is not given. */
  runManyConcurrency: 256,
  /** Young generation of each worker's V8 heap, MiB (see `workerResourceLimits`). */
  workerYoungGenerationMb: 6,
  balancing: 'affinity',
  retry: {
    attempts: 1,
    minDelayMs: 100,
    maxDelayMs: 10_000,
    statuses: [429, 502, 503, 504],
    errorCodes: ['FLOWPOOL_CONNECTION_FAILED'],
  },
  retryBudget: { ratio: 0.2, minRetries: 10, windowMs: 10_000 },
  circuitBreaker: { failureThreshold: 5, cooldownMs: 10_000, failOn5xx: true },
  /** Distinct values one metrics label takes before new ones are counted under `other`. */
  metricsMaxLabelValues: 100,
} as const;

const positiveInt = (max: number) => z.int().min(1).max(max);
const durationMs = z.int().min(1).max(2_147_483_647);

const ipAddress = z.string().refine((value) => isIP(value) !== 0, {
  error: 'expected an IPv4 or IPv6 address',
});

const hostPattern = z.string().regex(/^(\*|(\*\.)?[A-Za-z0-9.-]+(:\d+)?|\[[0-9A-Fa-f:.]+\](:\d+)?)$/, {
  error: 'expected a host, host:port, [IPv6], a *.suffix wildcard or * (the default)',
});

/** Each retry setting's rule, shared by the runtime option (with its default) and a job's override. */
const retryFields = {
  attempts: z.int().min(1).max(20),
  minDelayMs: z.int().min(0).max(600_000),
  maxDelayMs: z.int().min(0).max(600_000),
  statuses: z.array(z.int().min(100).max(599)).max(100),
  errorCodes: z.array(z.enum(['FLOWPOOL_CONNECTION_FAILED', 'FLOWPOOL_TIMEOUT', 'FLOWPOOL_INVALID_RESPONSE'])).max(3),
};

/** The runtime's retry settings, every default here and nowhere else. */
export const retrySchema = z.strictObject({
  /**
   * Attempts in total, the first included: 1 means no retries.
   * @default 1
   */
  attempts: retryFields.attempts.default(DEFAULTS.retry.attempts),
  /**
   * Base of the exponential backoff (full jitter: a random delay up to base x 2^(retry-1)).
   * @default 100
   */
  minDelayMs: retryFields.minDelayMs.default(DEFAULTS.retry.minDelayMs),
  /**
   * Cap of one backoff delay.
   * @default 10000
   */
  maxDelayMs: retryFields.maxDelayMs.default(DEFAULTS.retry.maxDelayMs),
  /**
   * Statuses that are retried. 429 and 503 honour `Retry-After` (within the job's deadline).
   * @default [429, 502, 503, 504]
   */
  statuses: retryFields.statuses.default([...DEFAULTS.retry.statuses]),
  /**
   * Error codes that are retried.
   * @default ['FLOWPOOL_CONNECTION_FAILED']
   */
  errorCodes: retryFields.errorCodes.default([...DEFAULTS.retry.errorCodes]),
});

/** A job's own retry settings: any field of the runtime's `retry`, overriding it (merged once, at normalisation). */
export const retrySettingsSchema = z.strictObject(retryFields).partial();

/** Retry settings with every field decided. */
export type RetrySettings = z.output<typeof retrySchema>;

/** Schema of the options `createRuntime` takes (every `RuntimeOptions` field but `hooks`, which are functions); parsed once, in `createRuntime`. */
export const runtimeOptionsSchema = z.strictObject({
  /**
   * Worker threads, each a single-thread piscina pool with its own undici Agent.
   * @default os.availableParallelism()
   */
  workers: positiveInt(64).optional(),
  /**
   * Jobs in flight on one worker at once; more wait in the coordinator's queue.
   * @default 256
   */
  concurrencyPerWorker: positiveInt(100_000).default(DEFAULTS.concurrencyPerWorker),
  /**
   * Jobs that may wait for a worker or a connection slot; `run()` beyond it rejects with
   * `FLOWPOOL_QUEUE_FULL` (`runMany` waits instead).
   * @default 50000
   */
  maxQueue: z.int().min(0).max(10_000_000).default(DEFAULTS.maxQueue),
  /**
   * Open connections to one origin, summed over ALL workers. Extra jobs wait their turn.
   * @default 100
   */
  connectionsPerHost: positiveInt(10_000).default(DEFAULTS.connectionsPerHost),
  /**
   * How long an idle keep-alive connection is kept. A server's own `Keep-Alive: timeout=N` hint
   * lowers it (undici keeps min(hint - 1 s, this)); it is never raised past this.
   * @default 90000
   */
  keepAliveTimeoutMs: durationMs.default(DEFAULTS.keepAliveTimeoutMs),
  /**
   * Time allowed to open a connection (TCP and TLS).
   * @default 10000
   */
  connectTimeoutMs: durationMs.default(DEFAULTS.connectTimeoutMs),
  /**
   * Time allowed from sending the request to receiving the response headers.
   * @default 30000
   */
  headersTimeoutMs: durationMs.default(DEFAULTS.headersTimeoutMs),
  /**
   * Total deadline of a job, body included, from the moment it is submitted (or, for a job submitted while
   * the workers start, from the moment a worker can take it: see `startupTimeoutMs`). A job may lower it.
   * @default 60000
   */
  timeoutMs: durationMs.default(DEFAULTS.timeoutMs),
  /**
   * How long a job submitted right after `createRuntime` may wait for the workers to start before its own
   * `timeoutMs` begins; past it, the job fails with FLOWPOOL_TIMEOUT, phase `startup`.
   * @default 30000
   */
  startupTimeoutMs: durationMs.default(DEFAULTS.startupTimeoutMs),
  /**
   * Largest response body a job may receive. A job may lower or raise it.
   * @default 10485760 (10 MiB)
   */
  maxResponseBytes: z.int().min(0).max(Number.MAX_SAFE_INTEGER).default(DEFAULTS.maxResponseBytes),
  /**
   * Largest total size of response headers.
   * @default 16384
   */
  maxHeaderBytes: z
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(DEFAULTS.maxHeaderBytes),
  /**
   * Request header lines a job may send at most (a header with an array value counts one line per
   * item). A job beyond it is refused with `FLOWPOOL_INVALID_JOB` (field `job.headers`) before it is queued.
   * @default 100
   */
  maxRequestHeaders: positiveInt(10_000).default(DEFAULTS.maxRequestHeaders),
  /**
   * Total size of a job's request header lines (name, value, ": " and CRLF each) at most, in bytes. A job
   * beyond it is refused with `FLOWPOOL_INVALID_JOB` (field `job.headers`) before it is queued.
   * @default 16384
   */
  maxRequestHeaderBytes: z
    .int()
    .min(256)
    .max(1024 * 1024)
    .default(DEFAULTS.maxRequestHeaderBytes),
  /**
   * Redirects followed per job at most (every hop is checked by the policy). A job may lower or raise it.
   * @default 5
   */
  maxRedirects: z.int().min(0).max(100).default(DEFAULTS.maxRedirects),
  /**
   * Destination rules. Entries are hostnames, `*.suffix` wildcards, IPs or CIDRs. Deny wins, then allow,
   * then the default: public unicast addresses only (loopback, private, link-local, metadata refused).
   * @default { allow: [], deny: [] }
   */
  policy: policySchema.default({ allow: [], deny: [] }),
  /**
   * Static name -> addresses overrides, like curl's `--resolve`. The policy still checks the addresses.
   * @default {}
   */
  resolve: z.record(z.string().min(1).max(253), z.array(ipAddress).min(1).max(64)).default({}),
  /**
   * How jobs are assigned to workers: `affinity` keeps each origin on one worker (warm pools, fewer
   * connections) and holds `connectionsPerHost` over all workers together. `least-busy` is the
   * comparison baseline of a pool without affinity: each job goes to the least-loaded worker and every
   * worker keeps its own pool of up to `connectionsPerHost` per origin, so an origin may see up to
   * workers x connectionsPerHost connections. Not meant for production.
   * @default 'affinity'
   */
  balancing: z.enum(['affinity', 'least-busy']).default(DEFAULTS.balancing),
  /**
   * Base a job's relative `url` is resolved against, by WHATWG URL rules (`items` under
   * `https://api.example.com/v1/` is `.../v1/items`; `/items` replaces the path). A job's own
   * `baseUrl` wins.
   * @default undefined (job URLs must be absolute)
   */
  baseUrl: z
    .string()
    .max(16_384)
    .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
      error: 'expected an absolute http or https URL',
    })
    .optional(),
  /**
   * Named transforms that jobs may ask for (`job.transform`), run in the worker on the decoded body so
   * CPU-heavy processing stays off the caller's thread. Each value is an absolute path or `file:` URL of
   * an ES module whose default export is `(body, response) => result` (sync or async); the result must
   * be structured-cloneable. Modules load lazily, once per worker.
   * @default {}
   */
  transforms: z
    .record(
      z.string().regex(/^[A-Za-z][\w.-]{0,63}$/, { error: 'expected a transform name (letters, digits, . _ -)' }),
      z.string().refine((spec) => spec.startsWith('file:') || spec.startsWith('/'), {
        error: 'expected an absolute path or a file: URL of an ES module',
      }),
    )
    .default({}),
  /**
   * V8 heap limits of each worker thread. A worker that exceeds them dies and is replaced; jobs on it
   * settle with `FLOWPOOL_WORKER_CRASHED` (or run again when safe to repeat). Best effort: Node can
   * still abort the whole process when a worker reaches its limit inside certain allocations
   * (nodejs/node#47224), so leave headroom rather than rely on the limit to police a tight budget.
   *
   * The young generation defaults to 6 MiB instead of V8's (which grows to tens of MiB): an HTTP
   * worker's garbage dies young, and a nursery that stays within the core's cache makes pure I/O cheaper
   * and smaller (benchmark flood, 3 rounds each: V8's default 50.0 us of CPU per job and 246 MB peak RSS;
   * 8 MiB 44.9 us, 217 MB; 6 MiB 38.8 us, 169 MB). Transforms that build large object graphs pay for it:
   * a parsed 50 KB document and its transform's garbage outlive a small nursery (CPU-heavy benchmark:
   * 6 MiB +8% CPU per job against 8 MiB). For such workloads raise it, e.g.
   * `{ maxYoungGenerationSizeMb: 32 }` (the benchmark's `flowpool-large-nursery` variant).
   * @default { maxYoungGenerationSizeMb: 6 } (Node's defaults otherwise)
   */
  workerResourceLimits: z
    .strictObject({
      maxOldGenerationSizeMb: positiveInt(1_000_000).optional(),
      maxYoungGenerationSizeMb: positiveInt(1_000_000).default(DEFAULTS.workerYoungGenerationMb),
      stackSizeMb: positiveInt(1024).optional(),
    })
    .default({ maxYoungGenerationSizeMb: DEFAULTS.workerYoungGenerationMb }),
  /**
   * Retries for every job (a job's own `retry` overrides field by field). Only idempotent methods
   * (GET, HEAD, OPTIONS, PUT, DELETE) or jobs marked `idempotent` are retried.
   * @default { attempts: 1 } (no retries)
   */
  retry: retrySchema.default(retrySchema.parse({})),
  /**
   * Share of recent requests to a host that retries may add, so a failing host is not flooded with
   * retries: at most `ratio` x requests of the last `windowMs`, plus `minRetries`.
   * @default { ratio: 0.2, minRetries: 10, windowMs: 10000 }
   */
  retryBudget: z
    .strictObject({
      ratio: z.number().min(0).max(10).default(DEFAULTS.retryBudget.ratio),
      minRetries: z.int().min(0).max(1_000_000).default(DEFAULTS.retryBudget.minRetries),
      windowMs: z.int().min(100).max(3_600_000).default(DEFAULTS.retryBudget.windowMs),
    })
    .default({ ...DEFAULTS.retryBudget }),
  /**
   * Per-host limits keyed by host, `*.suffix` or `*` (the default for every other host): `rps` and
   * `burst` (a token bucket on the main thread; jobs wait for a token within their deadline) and
   * `concurrency` (jobs in flight to the host at once).
   * @default {}
   */
  hostLimits: z
    .record(
      hostPattern,
      z.strictObject({
        rps: z.number().positive().max(1_000_000).optional(),
        burst: z.int().min(1).max(1_000_000).optional(),
        concurrency: z.int().min(1).max(1_000_000).optional(),
      }),
    )
    .default({}),
  /**
   * Circuit breaker per host: opens after `failureThreshold` consecutive failures (connection errors,
   * timeouts, and 5xx statuses when `failOn5xx`), fails fast with `FLOWPOOL_CIRCUIT_OPEN` for
   * `cooldownMs`, then lets one probe through; its success closes the circuit. Off unless given.
   * @default false
   */
  circuitBreaker: z
    .union([
      z.literal(false),
      z.strictObject({
        failureThreshold: z.int().min(1).max(10_000).default(DEFAULTS.circuitBreaker.failureThreshold),
        cooldownMs: z.int().min(1).max(3_600_000).default(DEFAULTS.circuitBreaker.cooldownMs),
        failOn5xx: z.boolean().default(DEFAULTS.circuitBreaker.failOn5xx),
      }),
    ])
    .default(false),
  /**
   * Origins the coordinator tracks at once (each holds a row of the shared connection counters). Idle
   * origins without open sockets are forgotten first; when every tracked origin is busy or still holds
   * kept-alive sockets, jobs for new origins wait, and so do redirect hops to them (a hop to another
   * origin is dispatched like a job to it).
   * @default 10000
   */
  maxOrigins: positiveInt(1_000_000).default(DEFAULTS.maxOrigins),
  ...transportOptionsShape,
  /**
   * Tenants by name (a job's `tenant`), each `{ weight, maxQueued }`; a tenant not listed takes the
   * settings of `default` (weight 1, no cap below `maxQueue`, when `default` is not listed either). While
   * several tenants have jobs waiting for one origin, they are dispatched in proportion to their weights
   * (deficit round robin), so one tenant's flood delays another's jobs only by its share. A tenant with
   * `maxQueued` jobs waiting gets `FLOWPOOL_QUEUE_FULL` while others are still admitted.
   * @default {} (every tenant weight 1, capped only by `maxQueue`)
   */
  tenants: tenantsSchema.default({}),
  /**
   * Named sets of transport settings (TLS, proxy, policy, default headers and credentials) that a job picks
   * with `job.profile`: per credential or per tenant what the options above set for the whole runtime. A
   * field a profile gives replaces the runtime's; a field it leaves out is the runtime's. A job without
   * `profile` uses the runtime's settings. `runtime.setProfile(name, settings)` adds or replaces one later.
   * @default {}
   */
  profiles: profilesSchema.default({}),
  /**
   * The label sets of the Prometheus metrics (`runtime.metrics()`), so their cardinality is the caller's
   * choice. `origin`: label per-host series by `origin` (scheme, host and port), by `host` (the host name
   * alone: every port and scheme of a host in one series) or not at all (`false`: one series for every
   * host). `tenant`: label per-tenant series by tenant, or not (`false`). `maxLabelValues`: distinct
   * values each label takes at most; values seen after that many are counted under `other`.
   * @default { origin: 'origin', tenant: true, maxLabelValues: 100 }
   */
  metrics: z
    .strictObject({
      origin: z.union([z.enum(['host', 'origin']), z.literal(false)]).default('origin'),
      tenant: z.boolean().default(true),
      maxLabelValues: z.int().min(1).max(100_000).default(DEFAULTS.metricsMaxLabelValues),
    })
    .default({ origin: 'origin', tenant: true, maxLabelValues: DEFAULTS.metricsMaxLabelValues }),
});

/** What `createRuntime` accepts: a written interface (runtime-options.ts) that `runtimeOptionsSchema` checks. */
export type { RuntimeOptions };

/** Options after parsing: every default filled in. */
export type ResolvedOptions = Omit<z.output<typeof runtimeOptionsSchema>, 'workers'> & {
  readonly workers: number;
};

/** Records of the options whose keys are checked for `__proto__`, `constructor`, `prototype`. */
const OPTION_RECORDS = ['resolve', 'hostLimits', 'transforms', 'policy', 'tenants', 'profiles'] as const;

/**
 * Parses options once; throws `FLOWPOOL_INVALID_OPTIONS` naming the option path, and nothing else (a
 * getter or Proxy trap that throws while the options are read is invalid options too).
 */
export function parseOptions(input: unknown): ResolvedOptions {
  return guardedOptions(() => parseOptionsUnguarded(input));
}

function parseOptionsUnguarded(input: unknown): ResolvedOptions {
  if (typeof input === 'object' && input !== null) {
    refuseForbiddenKeys('FLOWPOOL_INVALID_OPTIONS', 'options', input, OPTION_RECORDS);
  }
  const result = runtimeOptionsSchema.safeParse(input ?? {});
  if (!result.success)
    throw toValidationError('FLOWPOOL_INVALID_OPTIONS', 'options', result.error.issues, input, {
      schema: runtimeOptionsSchema,
    });
  // Read once here so a bad proxy variable fails createRuntime before any thread or timer exists.
  if (result.data.proxy === 'env') resolveProxy('env', result.data.noProxy, process.env);
  for (const profile of Object.values(result.data.profiles)) {
    if (profile.proxy === 'env') resolveProxy('env', profile.noProxy ?? result.data.noProxy, process.env);
  }
  const workers = result.data.workers ?? Math.max(1, availableParallelism());
  return { ...result.data, workers };
}
