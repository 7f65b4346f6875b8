/**
 * Periodic samples while the flood runs: the harness process's RSS and heap, and the runtime's stats.
 * Per-worker counters (stale-connection resends, heap) die with a crashed worker, so they are kept per
 * thread id and summed over every thread that ever reported: the total survives the crashes.
 */
import type { Runtime, RuntimeStats } from '../../src/index.js';

export interface MonitorFigures {
  readonly peakRss: number;
  readonly peakHeapUsed: number;
  readonly peakWorkerHeap: number;
  /** staleConnectionRetries summed over every worker thread seen. */
  readonly staleConnectionRetries: number;
  /**
   * Most connections open to each origin at once as the runtime reports them (`stats().hosts`: the larger
   * of the shared counter and the sockets the workers' Agents hold).
   */
  readonly peakOpenByOrigin: ReadonlyMap<string, number>;
  readonly samples: number;
  readonly last: RuntimeStats | undefined;
}

export class Monitor {
  readonly #runtime: Runtime;
  readonly #memoryTimer: NodeJS.Timeout;
  readonly #statsTimer: NodeJS.Timeout;
  readonly #staleByThread = new Map<number, number>();
  readonly #peakOpenByOrigin = new Map<string, number>();
  #peakRss = 0;
  #peakHeapUsed = 0;
  #peakWorkerHeap = 0;
  #samples = 0;
  #sampling = false;
  #last: RuntimeStats | undefined;

  constructor(runtime: Runtime, everyMs = 1_000) {
    this.#runtime = runtime;
    this.#memoryTimer = setInterval(() => this.#sampleMemory(), 100);
    this.#statsTimer = setInterval(() => void this.sample(), everyMs);
  }

  async sample(): Promise<void> {
    this.#sampleMemory();
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      const stats = await this.#runtime.stats();
      this.#samples++;
      this.#last = stats;
      for (const worker of stats.workers) {
        if (worker.threadId !== undefined) {
          this.#staleByThread.set(
            worker.threadId,
            Math.max(this.#staleByThread.get(worker.threadId) ?? 0, worker.staleConnectionRetries),
          );
        }
        this.#peakWorkerHeap = Math.max(this.#peakWorkerHeap, worker.heapUsedBytes);
      }
      for (const host of stats.hosts) {
        this.#peakOpenByOrigin.set(
          host.origin,
          Math.max(this.#peakOpenByOrigin.get(host.origin) ?? 0, host.openConnections),
        );
      }
    } catch {
      // The runtime is closing: the last sample stands.
    } finally {
      this.#sampling = false;
    }
  }

  stop(): void {
    clearInterval(this.#memoryTimer);
    clearInterval(this.#statsTimer);
  }

  figures(): MonitorFigures {
    let stale = 0;
    for (const count of this.#staleByThread.values()) stale += count;
    return {
      peakRss: this.#peakRss,
      peakHeapUsed: this.#peakHeapUsed,
      peakWorkerHeap: this.#peakWorkerHeap,
      staleConnectionRetries: stale,
      peakOpenByOrigin: this.#peakOpenByOrigin,
      samples: this.#samples,
      last: this.#last,
    };
  }

  #sampleMemory(): void {
    const memory = process.memoryUsage();
    this.#peakRss = Math.max(this.#peakRss, memory.rss);
    this.#peakHeapUsed = Math.max(this.#peakHeapUsed, memory.heapUsed);
  }
}
