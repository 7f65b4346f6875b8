/**
 * The one module that touches piscina. Each shard is a single-thread piscina pool: piscina starts the thread,
 * applies its resource limits and starts a replacement when it dies. Everything else (jobs, cancels,
 * outcomes, the death of a thread) flowpool reads from the thread's own ports and its `Worker` object, whose
 * events are Node's documented ones ('error' before 'exit'), not from the order of piscina's events.
 */
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ResolvedOptions } from '../config/options.js';
import { isControlPortMessage, type ControlPortMessage, type WorkerBootData } from '../wire/protocol.js';

const WORKER_FILE = new URL('../worker/entry.js', import.meta.url).href;

/** A worker thread that has loaded and announced its ports. */
export interface AnnouncedThread {
  readonly ports: ControlPortMessage;
  /** The thread itself: its 'error' and 'exit' events say when and why it died. */
  readonly worker: Worker;
}

/** One shard's thread, started and replaced by piscina. */
export class ThreadHost {
  readonly #pool: Piscina;
  #stopping = false;

  /** `onAnnounce` runs for the first thread and for every replacement, once it has loaded. */
  constructor(options: ResolvedOptions, bootData: WorkerBootData, onAnnounce: (thread: AnnouncedThread) => void) {
    this.#pool = new Piscina({
      filename: WORKER_FILE,
      minThreads: 1,
      maxThreads: 1,
      // A worker holds a warm connection pool: never let it idle out.
      idleTimeout: Infinity,
      // 'sync' would freeze an idle worker's event loop, and with it the Agent's timers and comlink.
      atomics: 'disabled',
      recordTiming: false,
      workerData: bootData,
      resourceLimits: options.workerResourceLimits,
    });
    this.#pool.on('message', (message: unknown) => {
      if (!isControlPortMessage(message)) return;
      // A worker can announce itself and die before its announcement is read: piscina has dropped it from
      // its threads by then, and its ports lead nowhere.
      const worker = this.#pool.threads.find((thread) => thread.threadId === message.threadId);
      if (this.#stopping || worker === undefined) {
        message.port.close();
        message.jobs.close();
        return;
      }
      onAnnounce({ ports: message, worker });
    });
    // piscina re-emits a worker's failure here when no task of its own was running (always, for flowpool).
    // The reason is read from the Worker's own 'error' event; without a listener this would throw.
    this.#pool.on('error', () => {});
  }

  /** Waits for piscina's own tasks (none) and stops the thread. */
  async close(): Promise<void> {
    this.#stopping = true;
    await this.#pool.close();
  }

  /** Terminates the thread at once. */
  async destroy(): Promise<void> {
    this.#stopping = true;
    await this.#pool.destroy();
  }
}
