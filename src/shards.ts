/**
 * The N shards: one single-thread piscina pool each. One pool per shard (not one pool with a custom
 * balancer) because piscina's shared queue makes a job for an idle host wait behind a busy one; here
 * each shard has its own queue and piscina replaces a crashed worker inside its shard.
 */
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { Piscina } from 'piscina';
import type { ConnectionCounters } from './connection-counters.js';
import type { ResolvedOptions } from './options.js';
import {
  isControlPortMessage,
  isOutcomeBatch,
  type BatchResult,
  type JobBatch,
  type JobOutcome,
  type JobRequest,
  type WorkerBootData,
  type WorkerControl,
  type WorkerStats,
} from './protocol.js';

const WORKER_FILE = new URL('../workers/http-worker.js', import.meta.url).href;

interface ControlLink {
  readonly port: MessagePort;
  readonly remote: Comlink.Remote<WorkerControl>;
  readonly threadId: number;
}

export interface ShardEvents {
  /** A job finished on a worker (its outcome, success or typed failure). */
  onOutcome(id: number, outcome: JobOutcome): void;
  /**
   * A batch's task failed as a whole (the worker died, or the pool was destroyed): `ids` are its jobs.
   * Called after any outcomes the worker had already posted were delivered.
   */
  onBatchFailed(ids: readonly number[], error: unknown): void;
  /** A shard's worker died (crash, exit, out of memory); piscina starts a replacement. */
  onWorkerLost(shard: number): void;
  /** A shard's worker has loaded (its control port arrived) and can take jobs. */
  onWorkerReady(shard: number): void;
}

export class Shards {
  readonly #pools: Piscina[];
  readonly #links: (ControlLink | undefined)[];
  readonly #counters: ConnectionCounters;
  readonly #events: ShardEvents;
  /** Jobs sent to each shard during this turn of the event loop, flushed as one task per shard. */
  readonly #outbox: JobRequest[][];
  #flushScheduled = false;
  #closing = false;
  /** The shard's previous thread has not exited yet: its sockets still hold their units. */
  readonly #resetPending: boolean[] = [];

  constructor(options: ResolvedOptions, counters: ConnectionCounters, events: ShardEvents) {
    this.#counters = counters;
    this.#events = events;
    this.#outbox = Array.from({ length: options.workers }, () => []);
    this.#links = new Array<ControlLink | undefined>(options.workers).fill(undefined);
    this.#pools = Array.from({ length: options.workers }, (_, shard) => {
      const workerData: WorkerBootData = {
        shard,
        counters: counters.buffer,
        slots: counters.slots,
        workers: options.workers,
        policy: options.policy,
        resolve: options.resolve,
        transforms: options.transforms,
        agent: {
          connectionsPerHost: options.connectionsPerHost,
          headersTimeoutMs: options.headersTimeoutMs,
          keepAliveTimeoutMs: options.keepAliveTimeoutMs,
          connectTimeoutMs: options.connectTimeoutMs,
          maxHeaderBytes: options.maxHeaderBytes,
        },
      };
      const pool = new Piscina({
        filename: WORKER_FILE,
        minThreads: 1,
        maxThreads: 1,
        // A worker holds a warm connection pool: never let it idle out.
        idleTimeout: Infinity,
        // 'sync' would freeze an idle worker's event loop, and with it the Agent's timers and comlink.
        atomics: 'disabled',
        // The coordinator limits in-flight jobs per worker; piscina's own queue stays empty.
        concurrentTasksPerWorker: options.concurrencyPerWorker,
        recordTiming: false,
        workerData,
        resourceLimits: options.workerResourceLimits,
      });
      pool.on('message', (message: unknown) => {
        if (isOutcomeBatch(message)) {
          const { ids, outcomes } = message;
          for (let i = 0; i < ids.length; i++) events.onOutcome(ids[i] as number, outcomes[i] as JobOutcome);
        } else if (isControlPortMessage(message)) {
          this.#attach(shard, message.port, message.threadId);
        }
      });
      pool.on('workerDestroy', () => {
        this.#detach(shard);
        if (this.#closing) return;
        events.onWorkerLost(shard);
        // Sockets die with the thread, not before: on an uncaught exception piscina reports the worker
        // destroyed while the thread is still tearing down with its sockets open. Give their units back
        // once it has exited, and only then let the shard (its replacement) take jobs.
        const dying = pool.threads[0];
        const reset = (): void => {
          this.#counters.resetWorker(shard);
          this.#resetPending[shard] = false;
          if (this.#links[shard] !== undefined) events.onWorkerReady(shard);
        };
        this.#resetPending[shard] = true;
        if (dying !== undefined && dying.threadId !== -1) dying.once('exit', reset);
        else reset();
      });
      // Piscina emits 'error' for worker-level failures; the affected tasks reject on their own.
      pool.on('error', () => {});
      return pool;
    });
  }

  get size(): number {
    return this.#pools.length;
  }

  /**
   * Queues a job for a shard; every job queued in this turn of the event loop leaves as one task.
   * The flush waits for setImmediate, not a microtask: outcomes arrive one worker message at a time
   * and each settles its jobs in its own microtask checkpoint, so a microtask flush sent the few jobs
   * the callers queued in reaction to one message (2 per task on average in the flood); after the
   * poll phase, a task carries every job queued in reaction to all of them (about 32).
   */
  send(shard: number, request: JobRequest): void {
    const outbox = this.#outbox[shard];
    if (outbox === undefined) throw new RangeError(`no shard ${shard}`);
    outbox.push(request);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    for (let shard = 0; shard < this.#outbox.length; shard++) {
      const jobs = this.#outbox[shard];
      const pool = this.#pools[shard];
      if (jobs === undefined || jobs.length === 0 || pool === undefined) continue;
      this.#outbox[shard] = [];
      const batch: JobBatch = { jobs };
      (pool.run(batch) as Promise<BatchResult>).then(
        (result) => {
          if (result.outcome !== undefined) this.#events.onOutcome((jobs[0] as JobRequest).id, result.outcome);
        },
        (error: unknown) => {
          // Outcomes the worker posted before it died travel on another port than the task's
          // rejection: let them land first, so a finished job is never reported as crashed.
          setImmediate(() => this.#events.onBatchFailed(jobs.map((job) => job.id), error));
        },
      );
    }
  }

  /** Asks a shard's worker to abort one job. Resolves false if the worker is gone or not reachable. */
  async cancel(shard: number, id: number): Promise<boolean> {
    const link = this.#links[shard];
    if (link === undefined) return false;
    try {
      return await link.remote.cancel(id);
    } catch {
      return false;
    }
  }

  /** Each worker's own view; a worker that is restarting reports `undefined`. */
  async workerStats(): Promise<(WorkerStats | undefined)[]> {
    return Promise.all(
      this.#links.map(async (link) => {
        if (link === undefined) return undefined;
        try {
          return await withTimeout(link.remote.stats(), 2_000);
        } catch {
          return undefined;
        }
      }),
    );
  }

  threadIds(): (number | undefined)[] {
    return this.#links.map((link) => link?.threadId);
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#pools.map((pool) => pool.close()));
    this.#links.forEach((_, shard) => this.#detach(shard));
  }

  async destroy(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#pools.map((pool) => pool.destroy()));
    this.#links.forEach((_, shard) => this.#detach(shard));
  }

  #attach(shard: number, port: MessagePort, threadId: number): void {
    this.#detach(shard);
    const remote = Comlink.wrap<WorkerControl>(port as unknown as Comlink.Endpoint);
    // The port must not keep the engine's process alive: the pools' own handles decide that.
    port.unref();
    port.once('close', () => {
      if (this.#links[shard]?.port === port) this.#links[shard] = undefined;
    });
    this.#links[shard] = { port, remote, threadId };
    if (this.#resetPending[shard] !== true) this.#events.onWorkerReady(shard);
  }

  #detach(shard: number): void {
    const link = this.#links[shard];
    if (link === undefined) return;
    this.#links[shard] = undefined;
    link.remote[Comlink.releaseProxy]();
    link.port.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
