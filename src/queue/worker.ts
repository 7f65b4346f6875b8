/**
 * startQueueWorker(): a process's share of a queue. One flowpool runtime (the request is made here, so the
 * SSRF policy is enforced on the address this process dials), a BullMQ Worker feeding it, the cluster
 * limits in front of it, and the idempotency records behind it. Uses only the runtime's public API.
 */
import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import { createRuntime, FlowpoolError, type HttpJob, type RuntimeStats } from '../index.js';
import { ClusterLimits, type ClusterLimitStats } from './cluster-limits.js';
import { closeRedis, openRedis, queueUnavailable } from './connections.js';
import { idempotencyRecordKey, type QueueAddress } from './keys.js';
import { parseQueueOptions, queueWorkerOptionsSchema, type QueueWorkerOptions } from './options.js';
import { decideDelivery } from './redelivery.js';
import { idempotencyConflict } from './idempotency-conflict.js';
import { jobFingerprint } from './fingerprint.js';
import { confineSaveTo, resolveSaveDir } from './save-dir.js';
import { decodeJob, encodeError, encodeResult, parseOutcome, QUEUE_JOB_NAME, type JobOutcome } from './wire.js';

export interface QueueWorkerStats {
  /** This process's name, as results carry it in `processedBy`. */
  readonly name: string;
  /** Jobs taken from the queue and answered (any outcome). */
  readonly processed: number;
  /** Of those, answered with an error. */
  readonly failed: number;
  /** Jobs held right now (running, or waiting for a cluster permit). */
  readonly active: number;
  /** Redelivered repeatable jobs run again here. */
  readonly reruns: number;
  /** Redelivered jobs that were not repeatable, answered FLOWPOOL_WORKER_CRASHED without a send. */
  readonly refused: number;
  /** Keyed jobs answered from their retained result without a send. */
  readonly replayed: number;
  /** Errors BullMQ reported (Redis unreachable, lost locks). */
  readonly queueErrors: number;
  readonly cluster: Readonly<ClusterLimitStats>;
  readonly runtime: RuntimeStats;
}

export interface QueueWorker {
  readonly name: string;
  /** Stops taking jobs, finishes the ones it holds, then stops the runtime. Idempotent. */
  close(): Promise<void>;
  stats(): Promise<QueueWorkerStats>;
  /** Whether this worker can take jobs now: both Redis connections ready and not closing. */
  health(): QueueWorkerHealth;
  /** The runtime's metrics and this worker's queue counters, in the Prometheus text format. */
  metrics(): Promise<string>;
}

/** What {@link QueueWorker.health} reports. */
export interface QueueWorkerHealth {
  readonly ok: boolean;
  /** ioredis's state of the worker's blocking connection (`ready`, `reconnecting`, `end`, ...). */
  readonly redis: string;
  readonly closing: boolean;
}

/** A job this worker answered with an error, for {@link QueueWorkerHooks.onJobFailed}. */
export interface QueueJobFailure {
  /** This worker's name (as results carry it in `processedBy`). */
  readonly worker: string;
  /** BullMQ's id of the job. */
  readonly queueJobId: string;
  /** The job's own `id`, when it had one. */
  readonly jobId?: string;
  /** The destination's origin (never its path or query, which may carry tokens). */
  readonly origin?: string;
  readonly code: string;
  readonly message: string;
  /** From taking the job to answering it. */
  readonly durationMs: number;
}

/** Callbacks of a queue worker (for logs); one that throws is ignored, never fails a job. */
export interface QueueWorkerHooks {
  onJobFailed?(failure: QueueJobFailure): void;
}

/** Options as `startQueueWorker` takes them. */
export type { QueueWorkerOptions };

/**
 * Starts consuming `queue`. Resolves once connected to Redis and taking jobs; bad options reject with
 * FLOWPOOL_INVALID_OPTIONS (the runtime's own included) before any connection is opened.
 */
export async function startQueueWorker(input: QueueWorkerOptions, hooks: QueueWorkerHooks = {}): Promise<QueueWorker> {
  const options = parseQueueOptions(queueWorkerOptionsSchema, input);
  const saveRoot = resolveSaveDir(options.saveToDir);
  const runtime = createRuntime(options.runtime);
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const address: QueueAddress = { prefix: options.prefix, queue: options.queue };
  const redis = openRedis(options.redis, 'consumer');
  // BullMQ does not close a connection it was given: this one is closed here, after the worker.
  const workerRedis = openRedis(options.redis, 'consumer');
  // An 'error' event without a listener would crash the process; reconnecting is ioredis's job.
  redis.on('error', () => undefined);
  workerRedis.on('error', () => undefined);
  const limits = new ClusterLimits(redis, address, options.cluster);
  const counts = { processed: 0, failed: 0, active: 0, reruns: 0, refused: 0, replayed: 0, queueErrors: 0 };
  const keepFinishedS = Math.ceil(options.finishedRetentionMs / 1000);

  const answer = async (job: Job, signal: AbortSignal | undefined): Promise<JobOutcome> => {
    let decoded: ReturnType<typeof decodeJob>;
    let submitted: HttpJob;
    try {
      // Nothing a foreign or malformed job asks for is done: not the request, not a file, not a record.
      if (job.name !== QUEUE_JOB_NAME) throw foreignJob(job.name);
      decoded = decodeJob(job.data);
      submitted = decoded.job;
      decoded = { ...decoded, job: await confineSaveTo(decoded.job, saveRoot) };
    } catch (error) {
      return encodeError(error, name);
    }
    const { job: httpJob, key, deadline } = decoded;
    const recordKey = key === undefined ? undefined : idempotencyRecordKey(address, key);
    // The fingerprint of the job as decoded, before saveTo was moved to its real path (the client's view).
    const fp = recordKey === undefined ? undefined : jobFingerprint(submitted);
    if (recordKey !== undefined) {
      const retained = parseOutcome(await redis.get(recordKey));
      if (retained !== undefined) {
        if (retained.fp !== fp)
          return { ...encodeError(idempotencyConflict(), name), ...(fp === undefined ? {} : { fp }) };
        counts.replayed++;
        return retained;
      }
    }
    const executed = await execute(job, httpJob, deadline, signal);
    const outcome: JobOutcome = fp === undefined ? executed : { ...executed, fp };
    // Written before BullMQ marks the job completed, so a caller that finds the job gone finds the record.
    // NX: the first outcome stays. A worker that lost its lock (paused, partitioned) may finish after the
    // redelivery already answered FLOWPOOL_WORKER_CRASHED; callers must keep seeing what the first saw.
    if (recordKey !== undefined) {
      await redis.set(recordKey, JSON.stringify(outcome), 'PX', options.idempotencyRetentionMs, 'NX');
    }
    return outcome;
  };

  const execute = async (
    job: Job,
    httpJob: HttpJob,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<JobOutcome> => {
    const decision = decideDelivery(job, httpJob);
    if (decision === 'refuse') {
      counts.refused++;
      return encodeError(
        new FlowpoolError(
          'FLOWPOOL_WORKER_CRASHED',
          'the worker process running this job stopped (killed, or lost its lock) and the job is not safe to repeat; it was not sent again',
          httpJob.id === undefined ? {} : { jobId: httpJob.id },
        ),
        name,
      );
    }
    if (decision === 'rerun') counts.reruns++;
    const startedAt = Date.now();
    const abort = new AbortController();
    const onAbort = (): void => abort.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (startedAt >= deadline) {
        throw new FlowpoolError('FLOWPOOL_TIMEOUT', 'the job waited in the queue past its deadline; not sent', {
          phase: 'queued',
        });
      }
      // Parse the URL only to find its host's limits; the runtime validates the job fully.
      const url = URL.canParse(httpJob.url) ? new URL(httpJob.url) : undefined;
      const permit = url === undefined ? undefined : await limits.acquire(url, deadline, abort.signal);
      try {
        const timeoutMs = Math.max(1, Math.min(httpJob.timeoutMs ?? runtime.options.timeoutMs, deadline - Date.now()));
        const result = await runtime.run({ ...httpJob, timeoutMs }, { signal: abort.signal });
        const waitedMs = startedAt - job.timestamp;
        return encodeResult(
          { ...result, timings: { ...result.timings, queuedMs: result.timings.queuedMs + Math.max(0, waitedMs) } },
          name,
        );
      } finally {
        await permit?.release();
      }
    } catch (error) {
      return encodeError(error, name);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };

  const worker = new Worker(
    options.queue,
    async (job: Job, _token?: string, signal?: AbortSignal) => {
      counts.active++;
      const takenAt = Date.now();
      try {
        const outcome = await answer(job, signal);
        counts.processed++;
        if (!outcome.ok) {
          counts.failed++;
          reportFailure(hooks, name, job, outcome.error, Date.now() - takenAt);
        }
        return outcome;
      } finally {
        counts.active--;
      }
    },
    {
      connection: workerRedis,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // One redelivery after a stall, decided by decideDelivery; a second stall fails the job for good.
      maxStalledCount: 1,
      removeOnComplete: { age: keepFinishedS },
      removeOnFail: { age: keepFinishedS },
      autorun: false,
    },
  );
  worker.on('error', () => {
    counts.queueErrors++;
  });
  void worker.run().catch(() => undefined);
  try {
    await worker.waitUntilReady();
  } catch (error) {
    await Promise.allSettled([worker.close(true), runtime.destroy(), closeRedis(redis), closeRedis(workerRedis)]);
    throw queueUnavailable(workerRedis, `the worker could not start (${(error as Error).message})`, error);
  }

  let closing: Promise<void> | undefined;
  return {
    name,
    close() {
      closing ??= (async () => {
        await worker.close();
        await runtime.close();
        await Promise.all([closeRedis(redis), closeRedis(workerRedis)]);
      })();
      return closing;
    },
    async stats() {
      return { name, ...counts, cluster: { ...limits.stats }, runtime: await runtime.stats() };
    },
    health() {
      const closingNow = closing !== undefined;
      return {
        ok: !closingNow && workerRedis.status === 'ready' && redis.status === 'ready',
        redis: workerRedis.status,
        closing: closingNow,
      };
    },
    async metrics() {
      return (await runtime.metrics()) + renderWorkerCounters(counts);
    },
  };
}

function reportFailure(
  hooks: QueueWorkerHooks,
  worker: string,
  job: Job,
  error: { readonly code: string; readonly message: string },
  durationMs: number,
): void {
  if (hooks.onJobFailed === undefined) return;
  const data = job.data as { job?: { url?: unknown; id?: unknown } } | undefined;
  const url = data?.job?.url;
  const id = data?.job?.id;
  try {
    hooks.onJobFailed({
      worker,
      queueJobId: job.id ?? '',
      ...(typeof id === 'string' ? { jobId: id } : {}),
      ...(typeof url === 'string' && URL.canParse(url) ? { origin: new URL(url).origin } : {}),
      code: error.code,
      message: error.message,
      durationMs,
    });
  } catch {
    // A log line that could not be written must not turn an answered job into a failed one.
  }
}

/** This worker's own counters, appended to the runtime's exposition. */
function renderWorkerCounters(counts: Readonly<Record<string, number>>): string {
  const lines: string[] = [];
  const counter = (name: string, help: string, value: number | undefined): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${String(value ?? 0)}`);
  };
  counter('flowpool_queue_jobs_processed_total', 'Queue jobs this worker answered (any outcome).', counts.processed);
  counter('flowpool_queue_jobs_failed_total', 'Queue jobs this worker answered with an error.', counts.failed);
  counter('flowpool_queue_errors_total', 'Errors BullMQ reported (Redis unreachable, lost locks).', counts.queueErrors);
  lines.push(
    '# HELP flowpool_queue_jobs_active Queue jobs this worker holds now.',
    '# TYPE flowpool_queue_jobs_active gauge',
    `flowpool_queue_jobs_active ${String(counts.active ?? 0)}`,
  );
  return `${lines.join('\n')}\n`;
}

function foreignJob(jobName: string): FlowpoolError {
  const shown = jobName.length > 100 ? `${jobName.slice(0, 100)}...` : jobName;
  return new FlowpoolError(
    'FLOWPOOL_INVALID_JOB',
    `invalid queue job: name: expected "${QUEUE_JOB_NAME}" (the name a flowpool queue client gives its jobs), received ${JSON.stringify(shown)}; not sent`,
    { field: 'name' },
  );
}
