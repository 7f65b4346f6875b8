/**
 * The N shards: one single-thread piscina pool each. One pool per shard (not one pool with a custom
 * balancer) because piscina's shared queue makes a job for an idle host wait behind a busy one. piscina
 * owns each thread: it starts it, applies its resource limits and replaces it when it dies.
 *
 * Jobs do not travel as piscina tasks but on a job port each worker opens at load: a task costs
 * piscina's per-task bookkeeping on both threads and a completion message of its own, and with the
 * small batches a responsive main thread sends (about two jobs each in the flood) that doubled the
 * messages per job. On the port, a batch is one message out and its outcomes come back in the
 * worker's per-turn outcome messages. What piscina did for tasks on a worker's death, the shard does
 * for the jobs on its port (see worker-link.ts): once the port has closed and piscina has reported the
 * worker gone, the jobs still unanswered fail as crashed.
 */
import type { MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ConnectionCounters } from './connection-counters.js';
import type { ResolvedOptions } from './options.js';
import {
  isControlPortMessage,
  type JobBatch,
  type JobOutcome,
  type JobRequest,
  type WorkerBootData,
  type WorkerStats,
} from './protocol.js';
import { WorkerLink } from './worker-link.js';
import { transportBootData } from './transport-options.js';

const WORKER_FILE = new URL('../workers/http-worker.js', import.meta.url).href;

export interface ShardEvents {
  /** A job finished on a worker (its outcome, success or typed failure). */
  onOutcome(id: number, outcome: JobOutcome): void;
  /**
   * Jobs sent to a worker that died (or was stopped) before answering them. Called after every outcome
   * the worker had posted was delivered.
   */
  onBatchFailed(ids: readonly number[], error: unknown): void;
  /** A shard's worker died (crash, exit, out of memory); piscina starts a replacement. */
  onWorkerLost(shard: number): void;
  /** A shard's worker has loaded (its control port arrived) and can take jobs. */
  onWorkerReady(shard: number): void;
}

export class Shards {
  readonly #pools: Piscina[];
  readonly #links: (WorkerLink | undefined)[];
  /** Each shard's last detached worker, until the next one attaches: piscina's 'error' names its death. */
  readonly #dying: (WorkerLink | undefined)[];
  readonly #counters: ConnectionCounters;
  readonly #events: ShardEvents;
  /** Jobs sent to each shard during this turn of the event loop, flushed as one message per shard. */
  readonly #outbox: JobRequest[][];
  #flushScheduled = false;
  #closing = false;
  /** The shard's previous thread has not exited yet: its sockets still hold their units. */
  readonly #resetPending: boolean[] = [];

  constructor(options: ResolvedOptions, counters: ConnectionCounters, events: ShardEvents) {
    this.#counters = counters;
    this.#events = events;
    this.#outbox = Array.from({ length: options.workers }, () => []);
    this.#links = new Array<WorkerLink | undefined>(options.workers).fill(undefined);
    this.#dying = new Array<WorkerLink | undefined>(options.workers).fill(undefined);
    this.#pools = Array.from({ length: options.workers }, (_, shard) => {
      const workerData: WorkerBootData = {
        shard,
        counters: counters.buffer,
        slots: counters.slots,
        workers: options.workers,
        policy: options.policy,
        resolve: options.resolve,
        transforms: options.transforms,
        transport: transportBootData(options),
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
        recordTiming: false,
        workerData,
        resourceLimits: options.workerResourceLimits,
      });
      pool.on('message', (message: unknown) => {
        if (!isControlPortMessage(message)) return;
        // A worker can announce itself and die before its announcement is read (an exception right
        // after load, reported first): piscina has dropped it from its threads by then. Installing
        // its ports would send jobs to a thread that is gone.
        const alive = pool.threads.some((thread) => thread.threadId === message.threadId);
        if (this.#closing || !alive) {
          message.port.close();
          message.jobs.close();
          return;
        }
        this.#attach(shard, message.port, message.jobs, message.threadId);
      });
      pool.on('workerDestroy', () => {
        const link = this.#links[shard];
        this.#dying[shard] = link;
        // The job port stays open: it closes by itself once the dead thread's last messages are in.
        this.#detach(shard, false);
        if (!this.#closing) events.onWorkerLost(shard);
        // Its port already closed: the unanswered jobs fail now that the shard is known to be down
        // (failing them earlier could re-run them on the same dead shard). piscina emits 'error' (the
        // reason) right after 'workerDestroy', in the same tick: let it land first.
        if (link?.jobsClosed === true) queueMicrotask(() => this.#failUnanswered(link));
        if (this.#closing) return;
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
      // A worker-level failure (uncaught exception, out of memory): kept as the crashed jobs' reason.
      pool.on('error', (error: unknown) => {
        const reason = error instanceof Error ? error : new Error(String(error));
        // piscina reports the worker destroyed before it reports why: the link is already detached.
        const link = this.#links[shard] ?? this.#dying[shard];
        if (link !== undefined) link.diedOf ??= reason;
      });
      return pool;
    });
  }

  get size(): number {
    return this.#pools.length;
  }

  /**
   * Queues a job for a shard; every job queued before the current microtask checkpoint ends leaves as
   * one message. (A setImmediate flush gathers more jobs per batch, across a whole poll phase, but on
   * the job port it measured no different: 29.8-31.3k vs 30.3-32.5k req/s in alternating flood runs;
   * the microtask keeps a lone job's latency lowest.)
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
      if (jobs === undefined || jobs.length === 0) continue;
      this.#outbox[shard] = [];
      const link = this.#links[shard];
      if (link === undefined) {
        // The worker died after these jobs were dispatched to it in this turn: they never left.
        const error = this.#dying[shard]?.diedOf ?? new Error('the worker is not running');
        setImmediate(() =>
          this.#events.onBatchFailed(
            jobs.map((job) => job.id),
            error,
          ),
        );
        continue;
      }
      const batch: JobBatch = { jobs };
      if (!link.post(batch)) {
        // Structured clone refused the batch (normalizeJob copies bodies, so nothing a caller passes
        // should get here). Thrown from this microtask it would be the engine's uncaught exception.
        const error = new Error('the jobs could not be sent to the worker (structured clone refused them)');
        setImmediate(() =>
          this.#events.onBatchFailed(
            jobs.map((job) => job.id),
            error,
          ),
        );
      }
    }
  }

  /** Asks a shard's worker to abort one job. Resolves false if the worker is gone or not reachable. */
  async cancel(shard: number, id: number): Promise<boolean> {
    const link = this.#links[shard];
    if (link === undefined || !link.reachable) return false;
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
        if (link === undefined || !link.reachable) return undefined;
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
    this.#links.forEach((_, shard) => this.#detach(shard, true));
  }

  async destroy(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#pools.map((pool) => pool.destroy()));
    this.#links.forEach((_, shard) => this.#detach(shard, true));
  }

  #attach(shard: number, control: MessagePort, jobs: MessagePort, threadId: number): void {
    this.#detach(shard, true);
    const link = new WorkerLink(control, jobs, threadId, {
      onOutcome: (id, outcome) => this.#events.onOutcome(id, outcome),
      // While the link is still the shard's, piscina has not reported the worker gone: workerDestroy
      // fails its jobs once the shard is marked down (failing them now could re-run them on it).
      onJobsClosed: (closed) => {
        if (this.#links[shard] !== closed) this.#failUnanswered(closed);
      },
    });
    this.#dying[shard] = undefined;
    this.#links[shard] = link;
    if (this.#resetPending[shard] !== true) this.#events.onWorkerReady(shard);
  }

  #failUnanswered(link: WorkerLink): void {
    const ids = link.takeUnanswered();
    if (ids.length === 0) return;
    this.#events.onBatchFailed(ids, link.diedOf ?? new Error(`the worker (thread ${link.threadId}) exited`));
  }

  /** Forgets a shard's worker; its job port is closed too unless `closeJobs` is false (see workerDestroy). */
  #detach(shard: number, closeJobs: boolean): void {
    const link = this.#links[shard];
    if (link === undefined) return;
    this.#links[shard] = undefined;
    link.close(closeJobs);
    // Its port had closed while it was still the shard's link (a death piscina never reported):
    // nothing else will fail its unanswered jobs.
    if (closeJobs && link.jobsClosed) this.#failUnanswered(link);
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
