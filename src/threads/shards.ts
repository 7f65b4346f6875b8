/**
 * The N shards: one worker thread each (started and replaced by piscina, see thread-host.ts). One thread per
 * shard, not one pool with a balancer, because a shared queue makes a job for an idle host wait behind a
 * busy one.
 *
 * Jobs do not travel as piscina tasks but on a job port each worker opens at load: a task costs piscina's
 * per-task bookkeeping on both threads and a completion message of its own, and with the small batches a
 * responsive main thread sends that doubled the messages per job. On the port, the jobs and cancels
 * decided in one microtask checkpoint leave as one message, in order; outcomes come back on it. A job
 * aborted while it still waits in the outbox is taken out and never posted.
 *
 * When a thread dies, the shard waits for two things: the thread's 'exit' (its sockets are gone, so its
 * connection units can be returned) and its job port's 'close' (every outcome it posted has been
 * delivered). Then the jobs still unanswered on it fail as crashed (see worker-link.ts and outgoing-job.ts).
 */
import type { Worker } from 'node:worker_threads';
import type { ConnectionCounters } from '../wire/connection-counters.js';
import type { ResolvedOptions } from '../config/options.js';
import type { JobOutcome, WorkerBootData, WorkerProfile, WorkerStats } from '../wire/protocol.js';
import type { OutgoingJob } from './outgoing-job.js';
import { ThreadHost, type AnnouncedThread } from './thread-host.js';
import { WorkerLink } from './worker-link.js';
import { transportBootData } from '../config/transport-options.js';

export interface ShardEvents {
  /** A job finished on a worker (its outcome, success or typed failure). */
  onOutcome(id: number, outcome: JobOutcome): void;
  /**
   * The worker behind the link numbered `link` died (or was stopped), and every outcome it had posted was
   * delivered: the jobs posted on that link (OutgoingJob.posted) and not answered never will be.
   */
  onLinkLost(link: number, error: Error): void;
  /** Jobs that never left their outbox: their worker was gone, or the batch could not be posted. */
  onBatchFailed(ids: readonly number[], error: Error): void;
  /** A shard's worker died (crash, exit, out of memory); piscina starts a replacement. */
  onWorkerLost(shard: number): void;
  /** A shard's worker has loaded (its ports arrived) and can take jobs. */
  onWorkerReady(shard: number): void;
}

const IGNORED: ShardEvents = {
  onOutcome: () => undefined,
  onLinkLost: () => undefined,
  onBatchFailed: () => undefined,
  onWorkerLost: () => undefined,
  onWorkerReady: () => undefined,
};

/** What waits to leave for one shard at the end of the current microtask checkpoint. */
interface Outbox {
  jobs: OutgoingJob[];
  cancels: number[];
}

export class Shards {
  readonly #hosts: ThreadHost[];
  readonly #links: (WorkerLink | undefined)[];
  /** The shard's previous thread, until it has exited: its sockets still hold their connection units. */
  readonly #exiting: (WorkerLink | undefined)[];
  readonly #counters: ConnectionCounters;
  /** Set once by {@link listen}, before any thread can have announced itself (that takes an event-loop turn). */
  #events: ShardEvents = IGNORED;
  readonly #outbox: Outbox[];
  #flushScheduled = false;
  #stopping = false;
  /** Callers of ready() waiting for every shard to have a worker that takes jobs. */
  #readyWaiters: (() => void)[] = [];
  /** Every profile by index, as each worker is told of it (a replacement worker is told them all at load). */
  readonly #profiles = new Map<number, WorkerProfile>();

  constructor(options: ResolvedOptions, counters: ConnectionCounters) {
    this.#counters = counters;
    this.#outbox = Array.from({ length: options.workers }, () => ({ jobs: [], cancels: [] }));
    this.#links = new Array<WorkerLink | undefined>(options.workers).fill(undefined);
    this.#exiting = new Array<WorkerLink | undefined>(options.workers).fill(undefined);
    this.#hosts = Array.from({ length: options.workers }, (_, shard) => {
      const bootData: WorkerBootData = {
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
      return new ThreadHost(options, bootData, (thread) => {
        this.#attach(shard, thread);
      });
    });
  }

  /** Where the shards' events go (the runtime's pipeline and coordinator). */
  listen(events: ShardEvents): void {
    this.#events = events;
  }

  /** Resolves once every shard has a worker that takes jobs (at once if they all do now). */
  ready(): Promise<void> {
    if (this.#allReady()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#readyWaiters.push(resolve);
    });
  }

  #allReady(): boolean {
    for (let shard = 0; shard < this.#links.length; shard++) {
      if (this.#links[shard] === undefined || this.#exiting[shard] !== undefined) return false;
    }
    return true;
  }

  /** A shard became ready: tell the runtime, and wake ready() callers once all are. */
  #shardReady(shard: number): void {
    this.#events.onWorkerReady(shard);
    if (this.#readyWaiters.length === 0 || !this.#allReady()) return;
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Queues a job for a shard; every job and cancel queued before the current microtask checkpoint ends
   * leaves as one message. (A setImmediate flush gathers more jobs per batch but measured no different on
   * the job port; the microtask keeps a lone job's latency lowest.)
   */
  send(shard: number, job: OutgoingJob): void {
    this.#outboxOf(shard).jobs.push(job);
    this.#scheduleFlush();
  }

  /**
   * Takes a job back out of the outbox if it has not left yet. True when it was there: it was never posted,
   * and nothing of it will reach the worker.
   */
  unsend(shard: number, id: number): boolean {
    const jobs = this.#outboxOf(shard).jobs;
    const index = jobs.findIndex((job) => job.id === id);
    if (index < 0) return false;
    jobs.splice(index, 1);
    return true;
  }

  /**
   * Installs or replaces a profile in every worker, once per change. Posted at once on each job port, so it is
   * ahead of every job queued after this call (the outbox leaves at the end of the microtask checkpoint).
   */
  setProfile(index: number, profile: WorkerProfile): void {
    this.#profiles.set(index, profile);
    for (const link of this.#links) link?.postProfiles([[index, profile]]);
  }

  /** Asks the shard's worker to abort a job already posted to it; the cancel travels behind the job. */
  cancel(shard: number, id: number): void {
    this.#outboxOf(shard).cancels.push(id);
    this.#scheduleFlush();
  }

  #outboxOf(shard: number): Outbox {
    const outbox = this.#outbox[shard];
    if (outbox === undefined) throw new RangeError(`no shard ${shard}`);
    return outbox;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flush();
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    for (let shard = 0; shard < this.#outbox.length; shard++) {
      const outbox = this.#outbox[shard];
      if (outbox === undefined || (outbox.jobs.length === 0 && outbox.cancels.length === 0)) continue;
      const { jobs, cancels } = outbox;
      this.#outbox[shard] = { jobs: [], cancels: [] };
      const link = this.#links[shard];
      if (link === undefined) {
        // The worker died after these jobs were dispatched to it in this turn: they never left. (Cancels for
        // jobs on the dead worker are answered by its crash.)
        if (jobs.length > 0)
          this.#failLater(jobs, this.#exiting[shard]?.diedOf ?? new Error('the worker is not running'));
        continue;
      }
      if (!link.post(jobs, cancels)) {
        // Structured clone refused the batch (normalizeJob copies bodies, so nothing a caller passes should
        // get here). Thrown from this microtask it would be the engine's uncaught exception.
        this.#failLater(jobs, new Error('the jobs could not be sent to the worker (structured clone refused them)'));
      }
    }
  }

  #failLater(jobs: readonly OutgoingJob[], error: Error): void {
    const ids = jobs.map((job) => job.id);
    setImmediate(() => {
      this.#events.onBatchFailed(ids, error);
    });
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

  /** Stops the threads once piscina has nothing running (flowpool's jobs are drained by the runtime first). */
  async close(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#hosts.map((host) => host.close()));
    this.#detachAll();
  }

  /** Terminates every thread at once. */
  async destroy(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#hosts.map((host) => host.destroy()));
    this.#detachAll();
  }

  #attach(shard: number, thread: AnnouncedThread): void {
    const { ports, worker } = thread;
    const previous = this.#links[shard];
    // A new thread while the shard's link is still set: the old one died without its 'exit' yet.
    if (previous !== undefined) this.#lose(shard, previous);
    const link = new WorkerLink(ports.port, ports.jobs, ports.threadId, {
      onOutcome: (id, outcome) => {
        this.#events.onOutcome(id, outcome);
      },
      onJobsClosed: (closed) => {
        if (closed.exited) this.#failUnanswered(closed);
      },
    });
    this.#links[shard] = link;
    if (this.#profiles.size > 0) link.postProfiles([...this.#profiles]);
    this.#watch(shard, link, worker);
    if (this.#exiting[shard] === undefined) this.#shardReady(shard);
  }

  /** Follows the thread's own events: 'error' (why it dies) always comes before 'exit'. */
  #watch(shard: number, link: WorkerLink, worker: Worker): void {
    worker.once('error', (error: unknown) => {
      link.diedOf ??= error instanceof Error ? error : new Error(String(error));
      if (this.#links[shard] === link) this.#lose(shard, link);
    });
    worker.once('exit', (code: number) => {
      link.diedOf ??= new Error(`the worker (thread ${link.threadId}) exited with code ${code}`);
      link.exited = true;
      if (this.#links[shard] === link) this.#lose(shard, link);
      if (this.#stopping) return;
      // Its sockets died with it: give their units back, and only now let a replacement take jobs.
      this.#counters.resetWorker(shard);
      if (this.#exiting[shard] === link) this.#exiting[shard] = undefined;
      if (this.#links[shard] !== undefined) this.#shardReady(shard);
      if (link.jobsClosed) this.#failUnanswered(link);
    });
  }

  /** The shard's thread is dying: no more jobs for it until a replacement has announced itself. */
  #lose(shard: number, link: WorkerLink): void {
    this.#links[shard] = undefined;
    // The job port stays open: it closes by itself once the dead thread's last messages are in.
    link.close(false);
    if (this.#stopping) return;
    if (!link.exited) this.#exiting[shard] = link;
    this.#events.onWorkerLost(shard);
  }

  #failUnanswered(link: WorkerLink): void {
    this.#events.onLinkLost(link.serial, link.diedOf ?? new Error(`the worker (thread ${link.threadId}) exited`));
  }

  #detachAll(): void {
    for (let shard = 0; shard < this.#links.length; shard++) {
      const link = this.#links[shard];
      this.#links[shard] = undefined;
      if (link === undefined) continue;
      link.close(true);
      // Its port closed while it was still the shard's link (a death never reported): fail what it held.
      if (link.jobsClosed) this.#failUnanswered(link);
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // Referenced: an awaited stats() must keep the process alive until the worker answers (its port is
    // unref'd), and this timer bounds that wait.
    const timer = setTimeout(() => {
      reject(new Error('timed out'));
    }, ms);
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
