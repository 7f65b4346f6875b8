/**
 * createQueueClient(): `run` and `runMany` with the runtime's job and result shapes, executed by whichever
 * queue worker process takes the job. Jobs are validated and checked against the destination policy here,
 * before anything is enqueued; the worker enforces its own policy on the address it dials.
 *
 * Results come back through BullMQ QueueEvents. That stream is best effort (trimmed, and a reconnect can
 * skip entries), so the job's stored state (or its idempotency record) is read whenever an event may have
 * been missed: right after a keyed job is added (it may have finished long ago), after the events
 * connection comes back, and once at the deadline before giving up. There is no polling loop.
 */
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { FlowpoolError } from '../errors/flowpool-error.js';
import type { HttpJob } from '../index.js';
import { DEFAULTS, jobSchema } from '../schema.js';
import { DestinationPolicy } from '../policy/index.js';
import { runMany, type RunManyOptions, type RunManyResult } from '../api/run-many.js';
import { toValidationError } from '../errors/validation.js';
import { closeRedis, openRedis, queueUnavailable, whenReady } from './connections.js';
import { jobFingerprint } from './fingerprint.js';
import { idempotencyConflict } from './idempotency-conflict.js';
import { idempotencyRecordKey, keyedJobId, newJobId, scopedIdempotencyKey, type QueueAddress } from './keys.js';
import {
  parseQueueOptions,
  queueClientOptionsSchema,
  type QueueClientOptions,
  type ResolvedQueueClientOptions,
} from './options.js';
import { ResultWaiters, type Waiter } from './result-waiters.js';
import {
  decodeJob,
  encodeJob,
  parseOutcome,
  QUEUE_JOB_NAME,
  settleOutcome,
  type JobOutcome,
  type QueueResult,
} from './wire.js';

export interface QueueRunOptions {
  /** Aborts waiting for this job; a job not yet taken by a worker is removed from the queue and never sent. */
  readonly signal?: AbortSignal;
  /**
   * The job runs at most once for this key while its result is retained (`idempotencyRetentionMs`): a
   * later `run` with the same key and the same job, from any client of the queue with the same
   * `namespace`, gets the first result and sends nothing. The key is bound to the job's fingerprint
   * (method, URL, body, the content-type / content-encoding / authorization / cookie headers, `auth`,
   * `responseType`, `saveTo`): the same key with another job fails with FLOWPOOL_IDEMPOTENCY_CONFLICT and
   * gets nothing of the first.
   */
  readonly idempotencyKey?: string;
}

export interface QueueClient {
  /** Runs one job on some worker process. Resolves for any HTTP status; rejects only with FlowpoolError. */
  run(job: HttpJob, options?: QueueRunOptions): Promise<QueueResult>;
  /** As the runtime's `runMany`: at most `concurrency` in flight, results in completion order. */
  runMany(jobs: Iterable<HttpJob> | AsyncIterable<HttpJob>, options?: RunManyOptions): AsyncIterable<RunManyResult>;
  /** Refuses new runs (FLOWPOOL_CLOSED), lets pending ones settle, then closes the connections. Idempotent. */
  close(): Promise<void>;
}

/** Options as `createQueueClient` takes them. */
export type { QueueClientOptions };

/** Why a run stops waiting for Redis: it settled (deadline, abort or result) meanwhile. */
const SETTLED = new Error('settled');
const MAX_KEY_LENGTH = 1_024;

/** Creates a client. Options are validated synchronously (FLOWPOOL_INVALID_OPTIONS); Redis is reached lazily. */
export function createQueueClient(input: QueueClientOptions): QueueClient {
  const options = parseQueueOptions(queueClientOptionsSchema, input);
  let policy: DestinationPolicy;
  try {
    policy = DestinationPolicy.compile(options.policy);
  } catch (error) {
    throw new FlowpoolError('FLOWPOOL_INVALID_OPTIONS', `invalid options: ${(error as Error).message}`, {
      field: 'options.policy',
    });
  }
  return new FlowpoolQueueClient(options, policy);
}

class FlowpoolQueueClient implements QueueClient {
  readonly #options: ResolvedQueueClientOptions;
  readonly #policy: DestinationPolicy;
  readonly #address: QueueAddress;
  readonly #producer: Redis;
  #lastRedisError: Error | undefined;
  readonly #eventsRedis: Redis;
  readonly #queue: Queue;
  readonly #waiters = new ResultWaiters();
  /** Resolves once the events stream is being read, so no completion after it can be missed. */
  readonly #listening: Promise<QueueEvents>;
  #events: QueueEvents | undefined;
  #producerWasReady = false;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  constructor(options: ResolvedQueueClientOptions, policy: DestinationPolicy) {
    this.#options = options;
    this.#policy = policy;
    this.#address = { prefix: options.prefix, queue: options.queue };
    this.#producer = openRedis(options.redis, 'producer');
    this.#eventsRedis = openRedis(options.redis, 'consumer');
    // Without listeners an 'error' would crash the process; the connections reconnect by themselves.
    // Kept for the next FLOWPOOL_QUEUE_UNAVAILABLE: why the connection is down, not only that it is.
    this.#producer.on('error', (error: Error) => (this.#lastRedisError = error));
    this.#producer.once('ready', () => (this.#producerWasReady = true));
    this.#eventsRedis.on('error', () => undefined);
    this.#queue = new Queue(options.queue, { connection: this.#producer, prefix: options.prefix });
    this.#queue.on('error', () => undefined);
    this.#listening = this.#listen();
    this.#listening.catch(() => undefined);
  }

  run(job: HttpJob, options: QueueRunOptions = {}): Promise<QueueResult> {
    if (this.#closing !== undefined) {
      return Promise.reject(new FlowpoolError('FLOWPOOL_CLOSED', 'the queue client is closed'));
    }
    let checked: HttpJob;
    try {
      checked = this.#check(job, options.idempotencyKey);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (options.signal?.aborted === true) {
      return Promise.reject(new FlowpoolError('FLOWPOOL_ABORTED', 'aborted before it was enqueued; nothing was sent'));
    }
    const key = options.idempotencyKey;
    if (key === undefined) return this.#submit(checked, undefined, options.signal);
    const scoped = { key: scopedIdempotencyKey(this.#options.namespace, key), fp: jobFingerprint(checked) };
    return this.#submit(checked, scoped, options.signal);
  }

  runMany(
    jobs: Iterable<HttpJob> | AsyncIterable<HttpJob>,
    options: RunManyOptions = {},
  ): AsyncIterable<RunManyResult> {
    const window = { concurrency: options.concurrency ?? DEFAULTS.runManyConcurrency, signal: options.signal };
    return runMany(jobs, window, (job, signal) => this.run(job, signal === undefined ? {} : { signal }));
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#waiters.size > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      await Promise.allSettled([this.#events?.close(), this.#queue.close()]);
      await Promise.allSettled([closeRedis(this.#producer), closeRedis(this.#eventsRedis)]);
    })();
    return this.#closing;
  }

  /** The same validation as the runtime (FLOWPOOL_INVALID_JOB), then the policy (FLOWPOOL_BLOCKED_DESTINATION). */
  #check(job: HttpJob, key: string | undefined): HttpJob {
    const parsed = jobSchema.safeParse(job);
    const id = typeof (job as { id?: unknown } | null)?.id === 'string' ? (job as { id: string }).id : undefined;
    if (!parsed.success)
      throw toValidationError('FLOWPOOL_INVALID_JOB', 'job', parsed.error.issues, job, {
        jobId: id,
        schema: jobSchema,
      });
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH)) {
      throw new FlowpoolError(
        'FLOWPOOL_INVALID_JOB',
        `invalid run options: idempotencyKey: expected a string of 1-${MAX_KEY_LENGTH} characters, received ${typeof key === 'string' ? `${key.length} characters` : typeof key}`,
        { field: 'idempotencyKey' },
      );
    }
    const verdict = this.#policy.checkUrl(new URL(parsed.data.url));
    if (!verdict.allowed) {
      throw new FlowpoolError(
        'FLOWPOOL_BLOCKED_DESTINATION',
        `destination blocked by the client's policy: ${verdict.reason}; nothing was enqueued`,
        id === undefined ? { reason: verdict.reason } : { reason: verdict.reason, jobId: id },
      );
    }
    return job;
  }

  /** `keyed`: the scoped idempotency key and the job's fingerprint, for a keyed run. */
  #submit(
    job: HttpJob,
    keyed: { readonly key: string; readonly fp: string } | undefined,
    signal: AbortSignal | undefined,
  ): Promise<QueueResult> {
    const key = keyed?.key;
    const submittedAt = Date.now();
    const timeoutMs = this.#options.timeoutMs;
    const deadline = submittedAt + timeoutMs;
    const jobId = key === undefined ? newJobId() : keyedJobId(key);
    return new Promise<QueueResult>((resolve, reject) => {
      const state = { settled: false };
      // A function, not the field: the checks below run after awaits, when another path may have settled.
      const isSettled = (): boolean => state.settled;
      const stopWaiting = new AbortController();
      const finish = (): void => {
        state.settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        // A reason of our own: abort() without one builds a DOMException (with its stack) on every run.
        stopWaiting.abort(SETTLED);
        this.#waiters.remove(jobId, waiter);
        if (this.#waiters.size === 0) this.#drained?.();
      };
      const waiter: Waiter = {
        accepted: false,
        key,
        settleOutcome: (outcome) => {
          if (isSettled()) return;
          // An answer for the same key but another job (another client's): never take any of it.
          if (keyed !== undefined && outcome.fp !== undefined && outcome.fp !== keyed.fp) {
            waiter.fail(idempotencyConflict());
            return;
          }
          finish();
          const answer = settleOutcome(outcome, Date.now() - submittedAt);
          if (answer.ok) resolve(answer.value);
          else reject(answer.error);
        },
        fail: (error) => {
          if (isSettled()) return;
          finish();
          reject(error);
        },
      };
      const onDeadline = (): void => {
        if (!waiter.accepted) {
          waiter.fail(this.#unavailable(`it did not accept the job within ${timeoutMs} ms`));
          return;
        }
        // The last chance for a missed event: read the stored state once before giving up.
        void this.#lookUp(jobId, key).then(
          (found) => {
            if (found) return;
            waiter.fail(
              new FlowpoolError(
                'FLOWPOOL_TIMEOUT',
                `no result within ${timeoutMs} ms (the job was accepted; a worker may still run it)`,
                { phase: 'total' },
              ),
            );
          },
          (error: unknown) =>
            waiter.fail(
              queueUnavailable(this.#producer, 'the job was accepted but its result could not be read', error),
            ),
        );
      };
      const onAbort = (): void => {
        const accepted = waiter.accepted;
        waiter.fail(
          new FlowpoolError(
            'FLOWPOOL_ABORTED',
            accepted
              ? 'aborted; the job was removed from the queue if no worker had taken it yet'
              : 'aborted before the job was enqueued',
          ),
        );
        // A keyed job may have other callers waiting: leave it.
        if (accepted && key === undefined) void this.#queue.remove(jobId).catch(() => undefined);
      };
      const timer = setTimeout(onDeadline, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(jobId, waiter);

      void (async () => {
        // Before Redis was first reached, wait for it (within the deadline); after, an outage fails at once:
        // the caller learns now that the job was not taken, rather than at its deadline.
        if (this.#producerWasReady && this.#producer.status !== 'ready') {
          waiter.fail(this.#unavailable('it is unreachable'));
          return;
        }
        try {
          await untilAborted(this.#listening, stopWaiting.signal);
          await whenReady(this.#producer, stopWaiting.signal);
        } catch {
          return; // settled meanwhile (deadline or abort)
        }
        if (isSettled()) return;
        try {
          if (key !== undefined) {
            const retained = parseOutcome(await this.#producer.get(idempotencyRecordKey(this.#address, key)));
            if (retained !== undefined) {
              waiter.settleOutcome(retained);
              return;
            }
          }
          // BullMQ ignores an add whose jobId exists: a key submitted twice is one job.
          await this.#queue.add(QUEUE_JOB_NAME, encodeJob(job, key, deadline), { jobId });
        } catch (error) {
          waiter.fail(
            queueUnavailable(this.#producer, `it did not accept the job (${(error as Error).message})`, error),
          );
          return;
        }
        waiter.accepted = true;
        if (isSettled()) {
          if (key === undefined) void this.#queue.remove(jobId).catch(() => undefined);
          return;
        }
        // The key may already name another job (the add above was then ignored): refuse before waiting.
        if (keyed !== undefined && !(await this.#sameJob(jobId, keyed.fp).catch(() => true))) {
          waiter.fail(idempotencyConflict());
          return;
        }
        // A keyed job may have finished before this client listened (an earlier run of the same key).
        if (key !== undefined) await this.#lookUp(jobId, key).catch(() => false);
      })();
    });
  }

  /** Starts reading the events stream from its current end (no earlier event is replayed). */
  async #listen(): Promise<QueueEvents> {
    await whenReady(this.#eventsRedis, new AbortController().signal);
    const stream = `${this.#options.prefix}:${this.#options.queue}:events`;
    const last = await this.#eventsRedis.xrevrange(stream, '+', '-', 'COUNT', 1);
    const events = new QueueEvents(this.#options.queue, {
      connection: this.#eventsRedis,
      prefix: this.#options.prefix,
      lastEventId: last[0]?.[0] ?? '0-0',
    });
    events.on('error', () => undefined);
    events.on('completed', ({ jobId, returnvalue }) => {
      const outcome = parseOutcome(returnvalue);
      if (outcome !== undefined) this.#waiters.settle(jobId, outcome);
    });
    events.on('failed', ({ jobId, failedReason }) => {
      this.#waiters.settle(jobId, failedOutcome(failedReason));
    });
    // Events published while the connection was down may be gone when it returns: look the jobs up.
    this.#eventsRedis.on('ready', () => {
      for (const [jobId, key] of this.#waiters.accepted()) void this.#lookUp(jobId, key).catch(() => false);
    });
    this.#events = events;
    await events.waitUntilReady();
    return events;
  }

  /**
   * False when the queued job under `jobId` is another job than the one with fingerprint `fp` (a finished
   * one is judged by its outcome's fingerprint instead, in the waiter).
   */
  async #sameJob(jobId: string, fp: string): Promise<boolean> {
    const stored = await this.#queue.getJob(jobId);
    if (stored === undefined || stored.finishedOn !== undefined) return true;
    try {
      return jobFingerprint(decodeJob(stored.data).job) === fp;
    } catch {
      return false; // not a flowpool payload under our job id: certainly not this job
    }
  }

  /** Reads a job's result where it is stored; settles its waiters and returns true when found. */
  /** QUEUE_UNAVAILABLE with the connection's state and the last error it reported (ECONNREFUSED, ...). */
  #unavailable(what: string): FlowpoolError {
    const last = this.#lastRedisError;
    const state = `connection ${this.#producer.status}${last === undefined ? '' : `, last error: ${last.message}`}`;
    return queueUnavailable(this.#producer, `${what} (${state})`, last);
  }

  async #lookUp(jobId: string, key: string | undefined): Promise<boolean> {
    if (key !== undefined) {
      const retained = parseOutcome(await this.#producer.get(idempotencyRecordKey(this.#address, key)));
      if (retained !== undefined) {
        this.#waiters.settle(jobId, retained);
        return true;
      }
    }
    const stored = await this.#queue.getJob(jobId);
    if (stored?.finishedOn === undefined) return false;
    const outcome = parseOutcome(stored.returnvalue) ?? failedOutcome(stored.failedReason);
    this.#waiters.settle(jobId, outcome);
    return true;
  }
}

/** `promise`, or a rejection as soon as `signal` fires (the promise itself is left to settle alone). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    promise.then(resolve, reject);
  });
}

/**
 * A job BullMQ failed: flowpool's processor answers every job with an outcome, so this is a job that
 * stalled twice (its workers died) or whose answer could not be stored.
 */
function failedOutcome(reason: string | undefined): JobOutcome {
  return {
    ok: false,
    by: '',
    error: {
      code: 'FLOWPOOL_WORKER_CRASHED',
      name: 'FlowpoolError',
      message: `the queue worker failed this job: ${reason ?? 'no reason recorded'}`,
    },
  };
}
