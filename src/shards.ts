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
import { isControlPortMessage, type JobOutcome, type JobRequest, type WorkerBootData, type WorkerControl, type WorkerStats } from './protocol.js';

const WORKER_FILE = new URL('../workers/http-worker.js', import.meta.url).href;

interface ControlLink {
  readonly port: MessagePort;
  readonly remote: Comlink.Remote<WorkerControl>;
  readonly threadId: number;
}

export interface ShardEvents {
  /** A shard's worker died (crash, exit, out of memory); piscina starts a replacement. */
  onWorkerLost(shard: number): void;
}

export class Shards {
  readonly #pools: Piscina[];
  readonly #links: (ControlLink | undefined)[];
  readonly #counters: ConnectionCounters;
  #closing = false;

  constructor(options: ResolvedOptions, counters: ConnectionCounters, events: ShardEvents) {
    this.#counters = counters;
    this.#links = new Array<ControlLink | undefined>(options.workers).fill(undefined);
    this.#pools = Array.from({ length: options.workers }, (_, shard) => {
      const workerData: WorkerBootData = {
        shard,
        counters: counters.buffer,
        slots: counters.slots,
        workers: options.workers,
        policy: options.policy,
        resolve: options.resolve,
        agent: {
          connectionsPerHost: options.connectionsPerHost,
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
        ...(options.workerResourceLimits === undefined ? {} : { resourceLimits: options.workerResourceLimits }),
      });
      pool.on('message', (message: unknown) => {
        if (isControlPortMessage(message)) this.#attach(shard, message.port, message.threadId);
      });
      pool.on('workerDestroy', () => {
        this.#detach(shard);
        if (this.#closing) return;
        // Sockets die with the thread: give their units back before the replacement can dial.
        this.#counters.resetWorker(shard);
        events.onWorkerLost(shard);
      });
      // Piscina emits 'error' for worker-level failures; the affected tasks reject on their own.
      pool.on('error', () => {});
      return pool;
    });
  }

  get size(): number {
    return this.#pools.length;
  }

  run(shard: number, request: JobRequest): Promise<JobOutcome> {
    const pool = this.#pools[shard];
    if (pool === undefined) return Promise.reject(new RangeError(`no shard ${shard}`));
    return pool.run(request) as Promise<JobOutcome>;
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
