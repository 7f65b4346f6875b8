/**
 * Options of queue mode: the client, the worker process and the cluster-wide host limits. Parsed once,
 * at construction; a bad value throws `FLOWPOOL_INVALID_OPTIONS` naming its path. The one place where
 * queue mode's defaults live.
 */
import { z } from 'zod';
import { FlowpoolError } from '../errors/flowpool-error.js';
import { toValidationError } from '../errors/validation.js';

export const QUEUE_DEFAULTS = {
  /** BullMQ's key prefix; flowpool's own keys (idempotency records, limits) live under it too. */
  prefix: 'flowpool',
  /** Submission to result, per `run`. */
  timeoutMs: 60_000,
  /** How long an idempotency key's result is kept, and so how long the key stays "used". */
  idempotencyRetentionMs: 24 * 60 * 60 * 1000,
  /** How long finished jobs stay in BullMQ, where a client that missed an event reads them. */
  finishedRetentionMs: 60 * 60 * 1000,
  /** Jobs one worker process holds at once. */
  concurrency: 64,
  /** BullMQ's job lock: a dead worker's jobs are noticed at most about this long after it died. */
  lockDurationMs: 30_000,
  /** BullMQ's stalled-job check, run by every worker. */
  stalledIntervalMs: 30_000,
  /** A cluster concurrency permit's lease: a dead process's permits come back within it. */
  leaseMs: 10_000,
  /** A `burst` allowance refills over this window. */
  burstWindowMs: 10_000,
} as const;

const durationMs = z.int().min(1).max(2_147_483_647);

/**
 * Where Redis is: a `redis://` / `rediss://` URL, or host and port. Every process of a queue must use the
 * same Redis (and the same `prefix`).
 */
export const redisTargetSchema = z.union([
  z.string().refine((value) => URL.canParse(value) && /^rediss?:$/.test(new URL(value).protocol), {
    // "received" in the message stops the validator quoting the value: a Redis URL may hold a password.
    error: 'expected a redis:// or rediss:// URL, received another string (not shown: it may hold a password)',
  }),
  z.strictObject({
    host: z.string().min(1).max(255).optional(),
    port: z.int().min(1).max(65_535).optional(),
    db: z.int().min(0).max(255).optional(),
    username: z.string().max(256).optional(),
    password: z.string().max(4096).optional(),
  }),
]);
export type RedisTarget = z.input<typeof redisTargetSchema>;

const queueName = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, {
  error: 'expected 1-100 characters from A-Z a-z 0-9 _ . -',
});

const hostPattern = z.string().regex(/^(\*|(\*\.)?[A-Za-z0-9.-]+(:\d+)?|\[[0-9A-Fa-f:.]+\](:\d+)?)$/, {
  error: 'expected a host, host:port, [IPv6], a *.suffix wildcard or * (the default)',
});

/** Limits for the hosts a pattern matches, held across every worker process of the queue, per host. */
export const hostLimitSchema = z.strictObject({
  /** Requests started per second, all processes together (fixed windows of ~100 ms in Redis). */
  rps: z.number().positive().max(1_000_000).optional(),
  /**
   * Extra requests allowed above `rps` within any burst window (see `burstWindowMs`).
   * @default 0
   */
  burst: z.int().min(0).max(1_000_000).optional(),
  /** Requests in flight at once, all processes together (a Redis semaphore with leases). */
  concurrency: z.int().min(1).max(100_000).optional(),
});
export type HostLimit = z.output<typeof hostLimitSchema>;

export const clusterOptionsSchema = z.strictObject({
  /**
   * Limits by host pattern: `host:port`, `host`, `*.suffix` or `*` (the default); the most specific
   * pattern wins, as in the runtime's own `hostLimits`. Each matched host (with its port) has its own budget.
   * @default {}
   */
  hostLimits: z.record(hostPattern, hostLimitSchema).default({}),
  /**
   * Lease of a concurrency permit. A live holder renews it at 0.8 of this; a killed process's permits
   * come back at most this long after its last renewal.
   * @default 10000
   */
  leaseMs: z.int().min(200).max(600_000).default(QUEUE_DEFAULTS.leaseMs),
  /**
   * The window over which a host's `burst` allowance refills (whole seconds, as rate-limiter-flexible counts).
   * @default 10000
   */
  burstWindowMs: z.int().min(1_000).max(3_600_000).multipleOf(1_000).default(QUEUE_DEFAULTS.burstWindowMs),
});
export type ClusterOptions = z.input<typeof clusterOptionsSchema>;
export type ResolvedClusterOptions = z.output<typeof clusterOptionsSchema>;

export const queueClientOptionsSchema = z.strictObject({
  /** Where Redis is. */
  redis: redisTargetSchema,
  /** The BullMQ queue's name; workers consume the queue of the same name. */
  queue: queueName,
  /**
   * Key prefix in Redis (BullMQ's `prefix`).
   * @default 'flowpool'
   */
  prefix: queueName.default(QUEUE_DEFAULTS.prefix),
  /**
   * Deadline of one `run`, from submission to result (queue wait included). A job never accepted by Redis
   * fails with `FLOWPOOL_QUEUE_UNAVAILABLE`; one accepted but unanswered with `FLOWPOOL_TIMEOUT`
   * (or `FLOWPOOL_QUEUE_UNAVAILABLE` when Redis cannot be asked for its state).
   * @default 60000
   */
  timeoutMs: durationMs.default(QUEUE_DEFAULTS.timeoutMs),
  /**
   * The scope of this client's idempotency keys within the queue: the same key in two namespaces names two
   * jobs, and one never sees the other's result. An engine gives each tenant its own namespace (a client
   * per tenant with `namespace: tenantId`), so one tenant's key can never return another tenant's data.
   * @default undefined (the queue-wide scope, shared by every client without a namespace)
   */
  namespace: z.string().min(1).max(256).optional(),
  /**
   * The destination policy checked before a job is enqueued (the worker enforces its own on the address
   * it dials). Same entries as the runtime's `policy`.
   * @default {} (public unicast addresses only)
   */
  policy: z
    .strictObject({
      allow: z.array(z.string()).max(10_000).optional(),
      deny: z.array(z.string()).max(10_000).optional(),
    })
    .default({}),
});
export type QueueClientOptions = z.input<typeof queueClientOptionsSchema>;
export type ResolvedQueueClientOptions = z.output<typeof queueClientOptionsSchema>;

export const queueWorkerOptionsSchema = z.strictObject({
  /** Where Redis is. */
  redis: redisTargetSchema,
  /** The BullMQ queue to consume. */
  queue: queueName,
  /**
   * Key prefix in Redis (BullMQ's `prefix`); the same as the clients'.
   * @default 'flowpool'
   */
  prefix: queueName.default(QUEUE_DEFAULTS.prefix),
  /**
   * Jobs this process holds at once (waiting for a cluster permit counts).
   * @default 64
   */
  concurrency: z.int().min(1).max(10_000).default(QUEUE_DEFAULTS.concurrency),
  /** Options of this process's runtime, as `createRuntime` takes them (validated by it). */
  runtime: z.record(z.string(), z.unknown()).default({}),
  /** Cluster-wide limits per host. */
  cluster: clusterOptionsSchema.default({ hostLimits: {}, leaseMs: QUEUE_DEFAULTS.leaseMs, burstWindowMs: 10_000 }),
  /**
   * BullMQ's job lock. A worker that dies (or stops its event loop this long) loses its jobs to another
   * worker: repeatable ones run again there, the others fail with `FLOWPOOL_WORKER_CRASHED`.
   * @default 30000
   */
  lockDurationMs: z.int().min(500).max(600_000).default(QUEUE_DEFAULTS.lockDurationMs),
  /**
   * How often this worker looks for stalled jobs (locks that expired).
   * @default 30000
   */
  stalledIntervalMs: z.int().min(200).max(600_000).default(QUEUE_DEFAULTS.stalledIntervalMs),
  /**
   * How long an idempotency key's result is retained (the worker writes it): a second `run` with the same
   * key within this time, from any client, gets the first result and sends nothing.
   * @default 86400000 (24 h)
   */
  idempotencyRetentionMs: durationMs.default(QUEUE_DEFAULTS.idempotencyRetentionMs),
  /**
   * How long finished jobs stay in BullMQ (where a client that missed an event reads the result).
   * @default 3600000 (1 h)
   */
  finishedRetentionMs: durationMs.default(QUEUE_DEFAULTS.finishedRetentionMs),
  /**
   * The directory jobs may save response bodies into (`saveTo`): a job's path must resolve inside it after
   * symlinks. Without it this worker refuses every job with `saveTo` (FLOWPOOL_INVALID_JOB, field
   * `saveTo`): anyone who can add jobs to the queue could otherwise write any file the process may write.
   * @default undefined (no job may write files)
   */
  saveToDir: z.string().min(1).max(4096).optional(),
  /**
   * A name for this process in results and stats.
   * @default `${hostname}:${pid}`
   */
  name: z.string().min(1).max(200).optional(),
});
export type QueueWorkerOptions = z.input<typeof queueWorkerOptionsSchema>;
export type ResolvedQueueWorkerOptions = z.output<typeof queueWorkerOptionsSchema>;

/** Parses options with `schema`, or throws `FLOWPOOL_INVALID_OPTIONS` naming the field. */
export function parseQueueOptions<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  if (typeof input !== 'object' || input === null) {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_OPTIONS',
      `invalid options: expected an object with redis and queue, received ${input === null ? 'null' : typeof input}`,
      { field: 'options' },
    );
  }
  const result = schema.safeParse(input);
  if (!result.success)
    throw toValidationError('FLOWPOOL_INVALID_OPTIONS', 'options', result.error.issues, input, { schema });
  return result.data;
}
