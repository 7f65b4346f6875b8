/**
 * Where the next job of an origin goes, and the per-worker state that decides it (load, origins homed,
 * readiness). The rules (coordinator.ts says them in full): an origin's home worker while it has a free slot
 * and the global connection cap allows; a hot home spills to the least-loaded worker that can take the job.
 */
import type { ConnectionView, CoordinatorConfig, OriginState } from './coordinator-types.js';

/** Below this many jobs in flight a home worker never spills: light load stays warm in one place. */
const SPILL_MIN_LOAD = 8;
const SPILL_FACTOR = 1.25;

export class Placement<T> {
  /** Jobs in flight per worker. */
  readonly loads: Int32Array;
  /** Origins homed per worker. */
  readonly homed: Int32Array;
  /** 1 when the shard's worker has booted and can take jobs; a job sent earlier would wait in piscina. */
  readonly ready: Uint8Array;
  /** Jobs in flight over all workers. */
  running = 0;
  readonly #config: CoordinatorConfig;
  readonly #connections: ConnectionView;

  constructor(config: CoordinatorConfig, connections: ConnectionView) {
    this.#config = config;
    this.#connections = connections;
    this.loads = new Int32Array(config.workers);
    this.homed = new Int32Array(config.workers);
    this.ready = new Uint8Array(config.workers).fill(1);
  }

  hasCapacity(): boolean {
    for (let w = 0; w < this.loads.length; w++) if (this.#free(w)) return true;
    return false;
  }

  /** The worker is up and has an in-flight slot. */
  #free(worker: number): boolean {
    return this.ready[worker] === 1 && (this.loads[worker] ?? 0) < this.#config.concurrencyPerWorker;
  }

  place(origin: OriginState<T>): number {
    if (this.#config.balancing === 'least-busy') return this.#leastBusy(origin, -1);
    if (origin.home < 0) {
      origin.home = this.#pickHome();
      this.homed[origin.home] = (this.homed[origin.home] ?? 0) + 1;
    }
    const home = origin.home;
    // A home still booting (or being replaced) is waited for, not spilled from: the first jobs would
    // otherwise open the origin's pool on another worker, and the cap would keep it there.
    if (this.ready[home] !== 1) return -1;
    const homeLoad = this.loads[home] ?? 0;
    const hot = this.#overloaded(homeLoad);
    // A hot origin's home opens new sockets only up to its share of the cap, so the cap can still be
    // split with the workers it spills to; once the load falls it may grow to the whole cap again.
    const share = hot ? Math.ceil(this.#config.connectionsPerHost / this.#config.workers) : Infinity;
    const homeUsable = this.#free(home) && this.#canUse(origin, home, share);
    if (homeUsable && !hot) return home;
    const other = this.#leastBusy(origin, home, share);
    if (other >= 0 && (!homeUsable || (this.loads[other] ?? 0) < homeLoad)) return other;
    return homeUsable ? home : -1;
  }

  #overloaded(load: number): boolean {
    const average = (this.running + 1) / this.#config.workers;
    return load >= Math.max(SPILL_MIN_LOAD, Math.ceil(SPILL_FACTOR * average));
  }

  /** The least-loaded worker (other than `except`) that can take a job for the origin; -1 if none. */
  #leastBusy(origin: OriginState<T>, except: number, share = Infinity): number {
    let best = -1;
    let bestLoad = Infinity;
    for (let w = 0; w < this.loads.length; w++) {
      const load = this.loads[w] ?? 0;
      if (w === except || !this.#free(w) || load >= bestLoad) continue;
      if (!this.#canUse(origin, w, share)) continue;
      best = w;
      bestLoad = load;
    }
    return best;
  }

  #pickHome(): number {
    let best = 0;
    for (let w = 1; w < this.homed.length; w++) {
      const homed = this.homed[w] ?? 0;
      const bestHomed = this.homed[best] ?? 0;
      if (homed < bestHomed || (homed === bestHomed && (this.loads[w] ?? 0) < (this.loads[best] ?? 0))) best = w;
    }
    return best;
  }

  /**
   * Can worker w run one more job for the origin without breaking the global connection cap (and, for a
   * hot origin, without growing past its `share` of sockets on w)?
   */
  #canUse(origin: OriginState<T>, worker: number, share = Infinity): boolean {
    if (origin.inflightTotal >= origin.limit) return false;
    // The comparison baseline: every worker keeps its own pool of up to the cap, as a naive pool would.
    if (this.#config.balancing === 'least-busy')
      return (origin.inflight[worker] ?? 0) < this.#config.connectionsPerHost;
    const inflight = origin.inflight[worker] ?? 0;
    const open = this.#connections.open(origin.slot, worker);
    if (open > inflight) return true; // an idle socket waits there
    if (Math.max(open, inflight) >= share) return false;
    let demand = 0;
    for (let w = 0; w < origin.inflight.length; w++) {
      demand += Math.max(this.#connections.open(origin.slot, w), origin.inflight[w] ?? 0);
    }
    return demand < this.#config.connectionsPerHost;
  }
}
