/**
 * Prometheus text exposition of a runtime's stats, through prom-client. Values are read from one
 * `stats()` snapshot at scrape time, so metrics cost nothing on the job path but the request-duration
 * histogram's one observation per request (see src/traffic/request-durations.ts). Per-host and per-tenant
 * series follow the `metrics` option's label sets: by origin, by host or not at all, by tenant or not, each
 * label bounded by `maxLabelValues` (later values are summed under `other`).
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { RuntimeStats } from './stats.js';
import { labelFolding } from './label-folding.js';
import { renderDurationHistogram } from './duration-histogram-text.js';

type Labels = Record<string, string | number>;

export async function renderMetrics(stats: RuntimeStats): Promise<string> {
  const registry = new Registry();
  const fold = labelFolding(stats.requestDurations);
  // Rows that fold into one label set are summed (prom-client's inc adds up; a gauge starts from 0).
  const counter = (name: string, help: string, labelNames: string[], rows: [Labels, number][]): void => {
    const metric = new Counter({ name, help, labelNames, registers: [registry] });
    for (const [labels, value] of rows) if (value > 0) metric.inc(labels, value);
  };
  const gauge = (name: string, help: string, labelNames: string[], rows: [Labels, number][]): void => {
    const metric = new Gauge({ name, help, labelNames, registers: [registry] });
    for (const [labels, value] of rows) metric.inc(labels, value);
  };
  const { totals, hosts, workers } = stats;

  counter('flowpool_jobs_submitted_total', 'Jobs submitted to the runtime.', [], [[{}, totals.submitted]]);
  counter('flowpool_jobs_succeeded_total', 'Jobs that resolved (any HTTP status).', [], [[{}, totals.succeeded]]);
  counter(
    'flowpool_jobs_failed_total',
    'Jobs that rejected, by error code.',
    ['code'],
    Object.entries(totals.failedByCode).map(([code, n]) => [{ code }, n]),
  );
  counter('flowpool_retries_total', 'Retries scheduled by the retry rules.', [], [[{}, totals.retries]]);
  counter(
    'flowpool_crash_reruns_total',
    'Jobs run again after their worker died.',
    [],
    [[{}, totals.rerunsAfterCrash]],
  );
  counter(
    'flowpool_no_connection_handbacks_total',
    "Jobs a worker handed back because other workers' sockets held every connection unit of their origin.",
    [],
    [[{}, totals.noConnectionHandBacks]],
  );
  gauge('flowpool_jobs_queued', 'Jobs waiting in the coordinator.', [], [[{}, totals.queued]]);
  gauge('flowpool_jobs_running', 'Jobs running on workers.', [], [[{}, totals.running]]);
  gauge('flowpool_origins_tracked', 'Origins the coordinator tracks.', [], [[{}, totals.originsTracked]]);

  counter(
    'flowpool_worker_restarts_total',
    'Workers replaced after dying.',
    ['worker'],
    workers.map((w) => [{ worker: w.worker }, w.restarts]),
  );
  gauge(
    'flowpool_worker_in_flight',
    'Jobs in flight per worker.',
    ['worker'],
    workers.map((w) => [{ worker: w.worker }, w.inFlight]),
  );
  counter(
    'flowpool_worker_connections_opened_total',
    'Sockets a worker dialled.',
    ['worker'],
    workers.map((w) => [{ worker: w.worker }, w.connectionsOpened]),
  );
  counter(
    'flowpool_worker_requests_on_reused_connections_total',
    'Requests sent on an already used socket.',
    ['worker'],
    workers.map((w) => [{ worker: w.worker }, w.requestsOnReusedConnections]),
  );
  gauge(
    'flowpool_worker_heap_used_bytes',
    'V8 heap in use per worker.',
    ['worker'],
    workers.map((w) => [{ worker: w.worker }, w.heapUsedBytes]),
  );

  const o = fold.originNames;
  const byHost = (rows: [string, Labels, number][]): [Labels, number][] =>
    rows.map(([origin, labels, value]) => [{ ...fold.origin(origin), ...labels }, value]);
  counter(
    'flowpool_host_requests_total',
    'Jobs per host.',
    o,
    byHost(hosts.map((h) => [h.origin, {}, h.requests ?? 0])),
  );
  counter(
    'flowpool_host_responses_total',
    'Responses per host and status class.',
    [...o, 'class'],
    byHost(
      hosts.flatMap((h) =>
        Object.entries(h.statuses ?? {}).map(([cls, n]): [string, Labels, number] => [h.origin, { class: cls }, n]),
      ),
    ),
  );
  counter(
    'flowpool_host_errors_total',
    'Failed attempts per host and error code.',
    [...o, 'code'],
    byHost(
      hosts.flatMap((h) =>
        Object.entries(h.errorsByCode ?? {}).map(([code, n]): [string, Labels, number] => [h.origin, { code }, n]),
      ),
    ),
  );
  counter(
    'flowpool_host_retries_total',
    'Retries per host.',
    o,
    byHost(hosts.map((h) => [h.origin, {}, h.retries ?? 0])),
  );
  counter(
    'flowpool_host_retries_denied_total',
    'Retries the retry budget refused.',
    o,
    byHost(hosts.map((h) => [h.origin, {}, h.retriesDenied ?? 0])),
  );
  counter(
    'flowpool_host_limiter_waits_total',
    'Dispatches deferred by the rate limit.',
    o,
    byHost(hosts.map((h) => [h.origin, {}, h.limiterWaits ?? 0])),
  );
  gauge(
    'flowpool_host_jobs_queued',
    'Jobs waiting in the coordinator per host (queue depth).',
    o,
    byHost(hosts.map((h) => [h.origin, {}, h.queued])),
  );
  gauge(
    'flowpool_host_connections_open',
    'Sockets open to the host, all workers.',
    o,
    byHost(hosts.map((h) => [h.origin, {}, h.openConnections])),
  );
  gauge(
    'flowpool_host_in_flight',
    'Jobs in flight to the host.',
    o,
    byHost(hosts.map((h) => [h.origin, {}, h.inFlight])),
  );
  // Hosts folded into one label set show their worst circuit (states do not add up).
  const circuits = new Map<string, [Labels, number]>();
  for (const h of hosts) {
    if (h.circuit === undefined || h.circuit === 'off') continue;
    const labels = fold.origin(h.origin);
    const state = h.circuit === 'open' ? 2 : h.circuit === 'half-open' ? 1 : 0;
    const key = JSON.stringify(labels);
    if ((circuits.get(key)?.[1] ?? -1) < state) circuits.set(key, [labels, state]);
  }
  gauge(
    'flowpool_host_circuit_state',
    'Circuit breaker state per host: 0 closed, 1 half-open, 2 open (absent when off; the worst of the hosts folded together).',
    o,
    [...circuits.values()],
  );
  const t = fold.tenantNames;
  const byTenant = (pick: (tenant: RuntimeStats['tenants'][number]) => number): [Labels, number][] =>
    stats.tenants.map((tenant) => [fold.tenant(tenant.tenant), pick(tenant)]);
  counter(
    'flowpool_tenant_jobs_submitted_total',
    'Jobs submitted per tenant (invalid or blocked jobs count in the totals only).',
    t,
    byTenant((x) => x.submitted),
  );
  counter(
    'flowpool_tenant_jobs_succeeded_total',
    'Jobs that resolved, per tenant.',
    t,
    byTenant((x) => x.succeeded),
  );
  counter(
    'flowpool_tenant_jobs_failed_total',
    'Jobs that rejected, per tenant (invalid or blocked jobs count in the totals only).',
    t,
    byTenant((x) => x.failed),
  );
  gauge(
    'flowpool_tenant_jobs_queued',
    'Jobs waiting in the coordinator per tenant (queue depth).',
    t,
    byTenant((x) => x.queued),
  );
  gauge(
    'flowpool_tenant_jobs_in_flight',
    'Jobs running on workers, per tenant.',
    t,
    byTenant((x) => x.inFlight),
  );
  // The request-duration histogram comes first: the one `_seconds` histogram of the exposition.
  return renderDurationHistogram(stats.requestDurations) + (await registry.metrics());
}
