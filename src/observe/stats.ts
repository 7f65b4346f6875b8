/**
 * Counters kept on the main thread and their combination with what each worker reports.
 */
import type { FlowpoolErrorCode } from '../errors/flowpool-error.js';
import type { CoordinatorSnapshot } from '../scheduling/coordinator-types.js';
import type { WorkerStats } from '../wire/protocol.js';
import type { HostTrafficStats, TrafficSnapshot } from '../traffic/traffic-stats.js';
import type { RequestDurationsSnapshot } from '../traffic/request-durations.js';
import { TenantCounters } from './tenant-stats.js';

export interface WorkerView {
  readonly worker: number;
  /** Undefined while the worker is being replaced. */
  readonly threadId: number | undefined;
  readonly inFlight: number;
  /** Origins whose home is this worker. */
  readonly homeOrigins: readonly string[];
  readonly jobsCompleted: number;
  readonly connectionsOpened: number;
  readonly requestsOnReusedConnections: number;
  /** Idempotent requests resent after a kept-alive socket closed under them (the keep-alive race). */
  readonly staleConnectionRetries: number;
  readonly openConnections: number;
  readonly heapUsedBytes: number;
  readonly restarts: number;
}

/** One host: the coordinator's live view merged with its traffic counters. */
export interface HostView extends Partial<Omit<HostTrafficStats, 'origin'>> {
  readonly origin: string;
  /** -1 when the coordinator has forgotten the origin (idle) but its traffic counters remain. */
  readonly homeWorker: number;
  readonly inFlight: number;
  readonly inFlightPerWorker: readonly number[];
  readonly queued: number;
  /** Sockets open to the origin over all workers (the shared counter the cap is enforced on). */
  readonly openConnections: number;
}

/**
 * One tenant: its jobs waiting and running now, and its jobs since start. Jobs refused before they were
 * queued (invalid, blocked, closed runtime) are counted in the totals only. A tenant has a record while it
 * has jobs queued or running and while it is listed in `tenants`; of the idle ones the 999 most recently
 * active keep theirs, older ones are added into the aggregate record of tenant `''` (which also counts
 * names beyond 10,000 busy at once). So `stats().tenants` stays small under any number of tenant names.
 */
export interface TenantView {
  readonly tenant: string;
  readonly queued: number;
  readonly inFlight: number;
  readonly submitted: number;
  readonly succeeded: number;
  readonly failed: number;
}

export interface RuntimeStats {
  readonly workers: readonly WorkerView[];
  readonly hosts: readonly HostView[];
  readonly tenants: readonly TenantView[];
  /**
   * The duration of every request a worker answered, as histogram series by the label sets of the
   * `metrics` option (what `flowpool_request_duration_seconds` exports).
   */
  readonly requestDurations: RequestDurationsSnapshot;
  readonly totals: {
    readonly submitted: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly failedByCode: Partial<Record<FlowpoolErrorCode, number>>;
    readonly queued: number;
    readonly running: number;
    readonly originsTracked: number;
    readonly workerRestarts: number;
    readonly rerunsAfterCrash: number;
    /**
     * Jobs a worker handed back because every connection unit of their origin was held by other workers'
     * sockets: placed again where a socket waits (not an attempt, not a retry).
     */
    readonly noConnectionHandBacks: number;
    /** Retries scheduled by the retry rules (not counting keep-alive resends or crash re-runs). */
    readonly retries: number;
  };
}

/** Main-thread counters, bumped on the hot path: plain fields, no maps keyed by host. */
export class RuntimeCounters {
  submitted = 0;
  succeeded = 0;
  failed = 0;
  rerunsAfterCrash = 0;
  noConnectionHandBacks = 0;
  retries = 0;
  readonly failedByCode: Partial<Record<FlowpoolErrorCode, number>> = {};
  readonly restarts: number[];
  readonly tenants: TenantCounters;

  /** `listedTenants`: the keys of the `tenants` option, whose records are kept while idle. */
  constructor(workers: number, listedTenants: Iterable<string> = []) {
    this.restarts = new Array<number>(workers).fill(0);
    this.tenants = new TenantCounters(listedTenants);
  }

  recordFailure(code: FlowpoolErrorCode): void {
    this.failed++;
    this.failedByCode[code] = (this.failedByCode[code] ?? 0) + 1;
  }
}

export function combineStats(
  counters: RuntimeCounters,
  coordinator: CoordinatorSnapshot,
  traffic: TrafficSnapshot,
  workers: readonly (WorkerStats | undefined)[],
  threadIds: readonly (number | undefined)[],
): RuntimeStats {
  const homes = workers.map(() => [] as string[]);
  for (const host of coordinator.origins) if (host.home >= 0) homes[host.home]?.push(host.origin);
  const workerViews: WorkerView[] = workers.map((reported, worker) => {
    let openConnections = 0;
    if (reported !== undefined)
      for (const origin of Object.values(reported.origins)) openConnections += origin.connected;
    return {
      worker,
      threadId: reported?.threadId ?? threadIds[worker],
      inFlight: coordinator.loads[worker] ?? 0,
      homeOrigins: homes[worker] ?? [],
      jobsCompleted: reported?.jobsCompleted ?? 0,
      connectionsOpened: reported?.connectionsOpened ?? 0,
      requestsOnReusedConnections: reported?.requestsOnReusedConnections ?? 0,
      staleConnectionRetries: reported?.staleConnectionRetries ?? 0,
      openConnections,
      heapUsedBytes: reported?.heapUsedBytes ?? 0,
      restarts: counters.restarts[worker] ?? 0,
    };
  });
  // Sockets per origin as the workers' Agents report them: the shared counters only count origins the
  // cap applies to (not the least-busy baseline, whose jobs carry no counter row).
  const agentOpen = new Map<string, number>();
  for (const reported of workers) {
    if (reported === undefined) continue;
    for (const [origin, s] of Object.entries(reported.origins))
      agentOpen.set(origin, (agentOpen.get(origin) ?? 0) + s.connected);
  }
  const openOf = (origin: string, counted: number): number => Math.max(counted, agentOpen.get(origin) ?? 0);
  const live = new Map(coordinator.origins.map((origin) => [origin.origin, origin]));
  const hosts: HostView[] = [];
  for (const host of traffic.hosts) {
    const { origin: _origin, ...trafficCounters } = host;
    const state = live.get(host.origin);
    live.delete(host.origin);
    hosts.push({
      origin: host.origin,
      homeWorker: state?.home ?? -1,
      inFlight: state?.inFlight ?? 0,
      inFlightPerWorker: state?.inFlightPerWorker ?? [],
      queued: state?.queued ?? 0,
      openConnections: openOf(host.origin, state?.openConnections ?? 0),
      ...trafficCounters,
    });
  }
  for (const state of live.values()) {
    hosts.push({
      origin: state.origin,
      homeWorker: state.home,
      inFlight: state.inFlight,
      inFlightPerWorker: state.inFlightPerWorker,
      queued: state.queued,
      openConnections: openOf(state.origin, state.openConnections),
    });
  }
  const tenants: TenantView[] = [];
  const liveTenants = new Map(coordinator.tenants.map((t) => [t.tenant, t]));
  for (const [tenant, count] of counters.tenants.entries()) {
    const now = liveTenants.get(tenant);
    liveTenants.delete(tenant);
    tenants.push({ tenant, queued: now?.queued ?? 0, inFlight: now?.running ?? 0, ...count });
  }
  for (const now of liveTenants.values()) {
    tenants.push({
      tenant: now.tenant,
      queued: now.queued,
      inFlight: now.running,
      submitted: 0,
      succeeded: 0,
      failed: 0,
    });
  }
  return {
    workers: workerViews,
    hosts,
    tenants,
    requestDurations: traffic.requestDurations,
    totals: {
      submitted: counters.submitted,
      succeeded: counters.succeeded,
      failed: counters.failed,
      failedByCode: { ...counters.failedByCode },
      queued: coordinator.queued,
      running: coordinator.running,
      originsTracked: coordinator.originsTracked,
      workerRestarts: counters.restarts.reduce((a, b) => a + b, 0),
      rerunsAfterCrash: counters.rerunsAfterCrash,
      noConnectionHandBacks: counters.noConnectionHandBacks,
      retries: counters.retries,
    },
  };
}
