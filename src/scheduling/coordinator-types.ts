/** The coordinator's data shapes: its configuration, the rules an origin brings, a ticket, its snapshots. */
import type { FairQueue } from './fair-queue.js';

/** Live read access to the shared connection counters. */
export interface ConnectionView {
  total(slot: number): number;
  open(slot: number, worker: number): number;
}

export interface CoordinatorConfig {
  readonly workers: number;
  readonly connectionsPerHost: number;
  readonly concurrencyPerWorker: number;
  readonly maxQueue: number;
  readonly maxOrigins: number;
  readonly balancing: 'affinity' | 'least-busy';
  /** Per-origin rules (concurrency cap, rate gate, retention); asked once, when the origin is first tracked. */
  readonly originRules?: (originKey: string) => OriginRules;
  /**
   * The origin is forgotten (idle, no sockets, nothing retained): whoever keeps state for it drops it too, so
   * every part of an origin's record ends by this one rule.
   */
  readonly onForget?: (originKey: string) => void;
  /** Runs `wake` after `ms` (a timer; injected so tests control time). @default unref'd setTimeout */
  readonly schedule?: (wake: () => void, ms: number) => void;
  /** Each tenant's weight and queue cap. @default every tenant weight 1, no cap of its own */
  readonly tenants?: TenantRules;
  /** A timer placed tickets: take them with `takePlaced()`. */
  readonly onWake?: () => void;
}

/** A rate limit checked at the moment of dispatch, so no queue between it and the wire can bunch jobs. */
export interface RateGate {
  /** Takes a token and returns 0, or takes nothing and returns the milliseconds until one is due. */
  take(): number;
}

export interface OriginRules {
  /** Jobs in flight to the origin at once, over all workers. */
  readonly concurrency: number;
  readonly rate: RateGate | undefined;
  /**
   * Whether the origin's record holds state that must outlive idleness (an open or half-open circuit, retries
   * within the retry budget's window): such an origin is never forgotten.
   */
  readonly retained?: () => boolean;
}

export type TicketState = 'queued' | 'running' | 'done' | 'cancelled';

/** The coordinator's record of one job. */
export interface Ticket<T> {
  readonly payload: T;
  readonly originKey: string;
  readonly tenant: string;
  state: TicketState;
  /** Worker it runs on; -1 until dispatched. */
  worker: number;
  /** Connection-counter row of its origin; -1 until it has one. */
  slot: number;
  /** Its rate token is already taken (a job placed again after a worker handed it back unsent). */
  readonly ratePaid: boolean;
}

export interface TenantSnapshot {
  readonly tenant: string;
  readonly queued: number;
  readonly running: number;
}

export interface OriginSnapshot {
  readonly origin: string;
  readonly home: number;
  readonly inFlight: number;
  readonly inFlightPerWorker: readonly number[];
  readonly queued: number;
  readonly openConnections: number;
}

export interface CoordinatorSnapshot {
  readonly queued: number;
  readonly running: number;
  readonly loads: readonly number[];
  readonly originsTracked: number;
  readonly origins: readonly OriginSnapshot[];
  /** Tenants with jobs queued or running. */
  readonly tenants: readonly TenantSnapshot[];
}

/** The coordinator's record of one origin (internal to scheduling/). */
export interface OriginState<T> {
  readonly key: string;
  readonly slot: number;
  home: number;
  /** Jobs in flight allowed to this origin at once, over all workers. */
  readonly limit: number;
  readonly rate: RateGate | undefined;
  readonly retained: (() => boolean) | undefined;
  /** A wake-up is scheduled for when the rate gate has a token again. */
  wakeScheduled: boolean;
  inflightTotal: number;
  readonly inflight: Int32Array;
  readonly waiting: FairQueue<Ticket<T>>;
}

/** Each tenant's share of an origin's dispatches and its queue cap (scheduling/tenants.ts builds them). */
export interface TenantRules {
  /** The tenant's weight scaled so the smallest configured weight is 1 (a DRR quantum; see fair-queue.ts). */
  readonly quantumOf: (tenant: string) => number;
  /** Jobs of the tenant that may be queued at once. */
  readonly maxQueuedOf: (tenant: string) => number;
}
