/**
 * Admission and placement: which worker runs each job, and when. Pure logic, no threads: the runtime
 * injects a view of the open-connection counters, so tests drive it directly. It never calls its owner back
 * with a placement: every call that may place tickets (submit, release, setReady, sweep) leaves them in a
 * list the owner takes with {@link Coordinator.takePlaced}; a placement made by a timer (a rate-limit token
 * due, a counter row freed) is announced by `onWake`, and taken the same way.
 *
 * Rules, in order:
 * - An origin has a home worker (the one with the fewest origins when it is first seen), so its
 *   keep-alive pool stays warm in one place.
 * - A job may go to worker w only if w has a free in-flight slot and either an idle socket to the
 *   origin is waiting on w, or the origin's demand (per worker, the larger of sockets open and jobs in
 *   flight, summed) is under `connectionsPerHost`. This keeps the global cap without making the
 *   connector wait: the connector's counter is the hard guarantee, this just avoids running into it.
 * - A home that carries clearly more than its share of the load (bounded-load hashing: above
 *   max(SPILL_MIN_LOAD, 1.25 x average)) spills the job to the least-loaded worker that can take it, so
 *   a hot origin spreads over workers; when the load falls, jobs go home again and the other workers'
 *   sockets to it expire.
 * - Everything else waits in a per-origin queue, bounded by `maxQueue` in total and by each tenant's
 *   `maxQueued`. Within an origin's queue the tenants with jobs waiting take turns by weight (deficit
 *   round robin, fair-queue.ts); with one tenant it is a plain FIFO.
 */
import { FairQueue } from './fair-queue.js';
import { DEFAULT_TENANT, UNIFORM_TENANTS, type TenantRules } from './tenants.js';
import type {
  ConnectionView,
  CoordinatorConfig,
  CoordinatorSnapshot,
  OriginSnapshot,
  OriginState,
  Ticket,
} from './coordinator-types.js';
import { Placement } from './placement.js';

export type {
  ConnectionView,
  CoordinatorConfig,
  CoordinatorSnapshot,
  OriginRules,
  OriginSnapshot,
  RateGate,
  TenantSnapshot,
  Ticket,
  TicketState,
} from './coordinator-types.js';

const defaultSchedule = (wake: () => void, ms: number): void => {
  setTimeout(wake, ms).unref();
};

/** One tenant's jobs in the coordinator right now; the record is dropped when both reach 0. */
interface TenantLoad {
  readonly tenant: string;
  queued: number;
  running: number;
  /** Forgotten (both counts reached 0); a later job of the tenant gets a new record. */
  dropped: boolean;
}

const NOTHING_PLACED: never[] = [];

/** Idle origins inspected per eviction attempt, so a full table never costs a full scan. */
const EVICTION_SCAN = 64;
/** While jobs wait for a row, look again this often: idle origins' sockets close without telling us. */
const SLOT_RETRY_MS = 50;

export class Coordinator<T> {
  readonly #config: CoordinatorConfig;
  readonly #connections: ConnectionView;
  /** Tickets placed since the owner last took them, in placement order. */
  #placed: Ticket<T>[] = [];
  readonly #origins = new Map<string, OriginState<T>>();
  /** Origins with nothing in flight and nothing queued: the eviction candidates, oldest first. */
  readonly #idle = new Set<OriginState<T>>();
  /** Origins with queued tickets, in the order they are served. */
  readonly #waitingOrigins = new Set<OriginState<T>>();
  /** Tickets for origins that could not get a counter row yet (the table is full of busy origins). */
  readonly #slotWaiters: FairQueue<Ticket<T>>;
  readonly #tenants: TenantRules;
  readonly #tenantLoads = new Map<string, TenantLoad>();
  /** The record looked up last: jobs of one tenant in a row (the usual case) skip the map. */
  #lastLoad: TenantLoad | undefined;
  readonly #freeSlots: number[];
  /** Per worker: load, origins homed, readiness; and where the next job of an origin goes. */
  readonly #workers: Placement<T>;
  readonly #schedule: (wake: () => void, ms: number) => void;
  #queued = 0;
  #slotRetryScheduled = false;

  constructor(config: CoordinatorConfig, connections: ConnectionView) {
    this.#config = config;
    this.#connections = connections;
    this.#workers = new Placement<T>(config, connections);
    this.#schedule = config.schedule ?? defaultSchedule;
    this.#tenants = config.tenants ?? UNIFORM_TENANTS;
    this.#slotWaiters = new FairQueue(this.#tenants.quantumOf);
    this.#freeSlots = Array.from({ length: config.maxOrigins }, (_, i) => config.maxOrigins - 1 - i);
  }

  get queued(): number {
    return this.#queued;
  }

  /** The tickets placed (given a worker) since the last call, in order; each is handed out once. */
  takePlaced(): readonly Ticket<T>[] {
    if (this.#placed.length === 0) return NOTHING_PLACED;
    const placed = this.#placed;
    this.#placed = [];
    return placed;
  }

  get running(): number {
    return this.#workers.running;
  }

  /**
   * Admits a job. Returns the ticket (dispatched at once or queued), or `undefined` when the queue is
   * full, or the tenant's share of it is ({@link queueFullReason} says which). `overflow` lets a caller
   * that bounds its own concurrency (runMany) queue past `maxQueue` and `maxQueued`. `ratePaid`: the job
   * took its rate token when first placed and nothing reached the host since (see {@link Ticket}).
   */
  submit(
    originKey: string,
    payload: T,
    overflow = false,
    tenant: string = DEFAULT_TENANT,
    ratePaid = false,
  ): Ticket<T> | undefined {
    const ticket: Ticket<T> = { payload, originKey, tenant, state: 'queued', worker: -1, slot: -1, ratePaid };
    const origin = this.#originFor(originKey);
    if (origin !== undefined) {
      ticket.slot = origin.slot;
      if (origin.waiting.size === 0) {
        const worker = this.#workers.place(origin);
        if (worker >= 0 && (ratePaid || this.#passesRate(origin))) {
          this.#start(origin, ticket, worker);
          return ticket;
        }
      }
    }
    const load = this.#findLoad(tenant);
    if (
      !overflow &&
      (this.#queued >= this.#config.maxQueue || (load?.queued ?? 0) >= this.#tenants.maxQueuedOf(tenant))
    )
      return undefined;
    this.#queued++;
    this.#loadOf(tenant, load).queued++;
    if (origin === undefined) {
      this.#slotWaiters.push(tenant, ticket);
      this.#scheduleSlotRetry();
    } else {
      origin.waiting.push(tenant, ticket);
      this.#idle.delete(origin);
      this.#waitingOrigins.add(origin);
    }
    return ticket;
  }

  /** Why `submit` refused a job of `tenant`: the tenant's own cap, or the whole queue's. */
  queueFullReason(tenant: string = DEFAULT_TENANT): string {
    const cap = this.#tenants.maxQueuedOf(tenant);
    if ((this.#findLoad(tenant)?.queued ?? 0) >= cap)
      return `tenant ${JSON.stringify(tenant)} has ${String(cap)} jobs queued (its maxQueued)`;
    return `the queue is full (maxQueue ${String(this.#config.maxQueue)})`;
  }

  /** Removes a queued ticket (cancelled or timed out in the queue). False if it already left the queue. */
  cancel(ticket: Ticket<T>): boolean {
    if (ticket.state !== 'queued') return false;
    ticket.state = 'cancelled';
    this.#queued--;
    this.#unload(ticket.tenant, -1, 0);
    return true;
  }

  /** A dispatched job has finished on its worker (whatever the outcome): frees its places. */
  release(ticket: Ticket<T>): void {
    if (ticket.state !== 'running') return;
    ticket.state = 'done';
    this.#workers.running--;
    this.#unload(ticket.tenant, 0, -1);
    const worker = ticket.worker;
    this.#workers.loads[worker] = (this.#workers.loads[worker] ?? 1) - 1;
    const origin = this.#origins.get(ticket.originKey);
    if (origin !== undefined) {
      origin.inflightTotal--;
      origin.inflight[worker] = (origin.inflight[worker] ?? 1) - 1;
      this.#pump(origin);
      if (origin.inflightTotal === 0 && origin.waiting.size === 0) this.#idle.add(origin);
    }
    this.#pumpAll();
  }

  /**
   * A worker died: its origins get a new home on their next job. Its running tickets are settled by
   * the runtime, which calls `release` for each; its connection counters are reset by the owner.
   */
  workerLost(worker: number): void {
    for (const origin of this.#origins.values()) {
      if (origin.home === worker) {
        origin.home = -1;
        this.#workers.homed[worker] = (this.#workers.homed[worker] ?? 1) - 1;
      }
    }
  }

  /**
   * Marks a worker able (or not) to take jobs: not before it has booted, not while it is replaced.
   * Workers start ready unless the owner says otherwise.
   */
  setReady(worker: number, ready: boolean): void {
    this.#workers.ready[worker] = ready ? 1 : 0;
    if (ready) this.#pumpAll();
  }

  /** Forgets idle origins whose sockets have all closed; returns how many were forgotten. */
  sweep(): number {
    let forgotten = 0;
    for (const origin of this.#idle) {
      if (this.#evictable(origin)) {
        this.#forget(origin);
        forgotten++;
      }
    }
    if (forgotten > 0) this.#serveSlotWaiters();
    return forgotten;
  }

  /** Which worker an origin is homed on (-1 when unknown or not yet placed). */
  homeOf(originKey: string): number {
    return this.#origins.get(originKey)?.home ?? -1;
  }

  snapshot(maxOrigins = 1000): CoordinatorSnapshot {
    const origins: OriginSnapshot[] = [];
    for (const origin of this.#origins.values()) {
      if (origins.length >= maxOrigins) break;
      origins.push({
        origin: origin.key,
        home: origin.home,
        inFlight: origin.inflightTotal,
        inFlightPerWorker: Array.from(origin.inflight),
        queued: origin.waiting.size,
        openConnections: this.#connections.total(origin.slot),
      });
    }
    return {
      queued: this.#queued,
      running: this.#workers.running,
      loads: Array.from(this.#workers.loads),
      originsTracked: this.#origins.size,
      origins,
      tenants: Array.from(this.#tenantLoads.values(), ({ tenant, queued, running }) => ({ tenant, queued, running })),
    };
  }

  #findLoad(tenant: string): TenantLoad | undefined {
    const last = this.#lastLoad;
    if (last !== undefined && last.tenant === tenant && !last.dropped) return last;
    const load = this.#tenantLoads.get(tenant);
    if (load !== undefined) this.#lastLoad = load;
    return load;
  }

  #loadOf(tenant: string, known: TenantLoad | undefined): TenantLoad {
    if (known !== undefined) return known;
    const load: TenantLoad = { tenant, queued: 0, running: 0, dropped: false };
    this.#tenantLoads.set(tenant, load);
    this.#lastLoad = load;
    return load;
  }

  /** Moves a tenant's counts; a tenant with nothing queued or running is forgotten, so records stay bounded. */
  #unload(tenant: string, queued: number, running: number): void {
    const load = this.#findLoad(tenant);
    if (load === undefined) return;
    load.queued += queued;
    load.running += running;
    if (load.queued <= 0 && load.running <= 0) {
      load.dropped = true;
      this.#tenantLoads.delete(tenant);
    }
  }

  #originFor(key: string): OriginState<T> | undefined {
    const existing = this.#origins.get(key);
    if (existing !== undefined) {
      this.#idle.delete(existing);
      return existing;
    }
    let slot = this.#freeSlots.pop();
    if (slot === undefined) {
      this.#evictOne();
      slot = this.#freeSlots.pop();
      if (slot === undefined) return undefined;
    }
    const rules = this.#config.originRules?.(key);
    const origin: OriginState<T> = {
      key,
      slot,
      home: -1,
      limit: rules?.concurrency ?? Infinity,
      rate: rules?.rate,
      retained: rules?.retained,
      wakeScheduled: false,
      inflightTotal: 0,
      inflight: new Int32Array(this.#config.workers),
      waiting: new FairQueue<Ticket<T>>(this.#tenants.quantumOf),
    };
    this.#origins.set(key, origin);
    return origin;
  }

  #evictOne(): void {
    let inspected = 0;
    for (const origin of this.#idle) {
      if (this.#evictable(origin)) {
        this.#forget(origin);
        return;
      }
      // Still holds sockets (its row cannot be reused yet) or state to keep: rotate it so the next scan
      // looks further.
      this.#idle.delete(origin);
      this.#idle.add(origin);
      if (++inspected >= EVICTION_SCAN) return;
    }
  }

  /**
   * The one eviction rule: an idle origin (nothing in flight or queued: it is in #idle) whose sockets have all
   * closed and whose rules retain nothing (no open circuit, no retries in the budget's window).
   */
  #evictable(origin: OriginState<T>): boolean {
    return this.#connections.total(origin.slot) === 0 && origin.retained?.() !== true;
  }

  #forget(origin: OriginState<T>): void {
    this.#config.onForget?.(origin.key);
    this.#idle.delete(origin);
    this.#origins.delete(origin.key);
    if (origin.home >= 0) this.#workers.homed[origin.home] = (this.#workers.homed[origin.home] ?? 1) - 1;
    this.#freeSlots.push(origin.slot);
  }

  #scheduleSlotRetry(): void {
    if (this.#slotRetryScheduled || this.#slotWaiters.size === 0) return;
    this.#slotRetryScheduled = true;
    this.#schedule(() => {
      this.#slotRetryScheduled = false;
      this.#serveSlotWaiters();
      this.#scheduleSlotRetry();
      this.#woke();
    }, SLOT_RETRY_MS);
  }

  #serveSlotWaiters(): void {
    while (this.#slotWaiters.size > 0) {
      const ticket = this.#slotWaiters.peek();
      if (ticket === undefined) break;
      if (ticket.state === 'cancelled') {
        this.#slotWaiters.shift();
        continue;
      }
      const origin = this.#originFor(ticket.originKey);
      if (origin === undefined) return;
      this.#slotWaiters.shift();
      ticket.slot = origin.slot;
      origin.waiting.push(ticket.tenant, ticket);
      this.#waitingOrigins.add(origin);
      this.#pump(origin);
    }
  }

  #start(origin: OriginState<T>, ticket: Ticket<T>, worker: number): void {
    ticket.state = 'running';
    ticket.worker = worker;
    this.#workers.running++;
    this.#loadOf(ticket.tenant, this.#findLoad(ticket.tenant)).running++;
    this.#workers.loads[worker] = (this.#workers.loads[worker] ?? 0) + 1;
    origin.inflightTotal++;
    origin.inflight[worker] = (origin.inflight[worker] ?? 0) + 1;
    this.#placed.push(ticket);
  }

  /** After a timer's pump: tell the owner there is something to take. */
  #woke(): void {
    if (this.#placed.length > 0) this.#config.onWake?.();
  }

  /** Dispatches as many of the origin's queued tickets as placement allows. True if none is left. */
  #pump(origin: OriginState<T>): boolean {
    const waiting = origin.waiting;
    while (waiting.size > 0) {
      const head = waiting.peek();
      if (head === undefined) break;
      if (head.state === 'cancelled') {
        waiting.shift();
        continue;
      }
      const worker = this.#workers.place(origin);
      if (worker < 0 || (!head.ratePaid && !this.#passesRate(origin))) return false;
      waiting.shift();
      this.#queued--;
      // Counted down in place (not through #unload): #start counts it as running on the same record.
      const load = this.#findLoad(head.tenant);
      if (load !== undefined) load.queued--;
      this.#start(origin, head, worker);
    }
    this.#waitingOrigins.delete(origin);
    return true;
  }

  #pumpAll(): void {
    if (this.#slotWaiters.size > 0) this.#serveSlotWaiters();
    // A blocked origin is re-added at the end of the Set, which iteration would then visit again:
    // bound the pass to the origins waiting when it began.
    let remaining = this.#waitingOrigins.size;
    for (const origin of this.#waitingOrigins) {
      if (remaining-- <= 0 || !this.#workers.hasCapacity()) return;
      // Held by its own cap, or waiting for its rate's next token: no other origin's release can move it (its
      // own release, or its token's timer, pumps it), so it keeps its turn.
      if (origin.inflightTotal >= origin.limit || origin.wakeScheduled) continue;
      if (!this.#pump(origin)) {
        // Served in turn: an origin that could not go now waits behind the others next time.
        this.#waitingOrigins.delete(origin);
        this.#waitingOrigins.add(origin);
      }
    }
  }

  /**
   * Takes a token from the origin's rate gate; without one, arranges for the origin to be pumped again
   * when the next token is due. Asked last, right before dispatch, so a token is never taken in vain.
   */
  #passesRate(origin: OriginState<T>): boolean {
    if (origin.rate === undefined) return true;
    // Already waiting for the next token: asking again would only count a second deferral.
    if (origin.wakeScheduled) return false;
    const wait = origin.rate.take();
    if (wait === 0) return true;
    origin.wakeScheduled = true;
    this.#schedule(() => {
      origin.wakeScheduled = false;
      if (this.#origins.get(origin.key) === origin) this.#pump(origin);
      this.#woke();
    }, wait);
    return false;
  }
}
