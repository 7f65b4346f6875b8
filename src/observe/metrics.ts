/**
 * Prometheus text exposition of a runtime's stats, through prom-client. Values are read from one
 * `stats()` snapshot at scrape time, so metrics cost nothing on the job path. Per-host series are
 * labelled by origin; the runtime tracks at most `maxOrigins` of them, which bounds the cardinality.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { RuntimeStats } from './stats.js';

type Labels = Record<string, string | number>;

export async function renderMetrics(stats: RuntimeStats): Promise<string> {
  const registry = new Registry();
  const counter = (name: string, help: string, labelNames: string[], rows: [Labels, number][]): void => {
    const metric = new Counter({ name, help, labelNames, registers: [registry] });
    for (const [labels, value] of rows) if (value > 0) metric.inc(labels, value);
  };
  const gauge = (name: string, help: string, labelNames: string[], rows: [Labels, number][]): void => {
    const metric = new Gauge({ name, help, labelNames, registers: [registry] });
    for (const [labels, value] of rows) metric.set(labels, value);
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

  counter(
    'flowpool_host_requests_total',
    'Jobs per host.',
    ['origin'],
    hosts.map((h) => [{ origin: h.origin }, h.requests ?? 0]),
  );
  counter(
    'flowpool_host_responses_total',
    'Responses per host and status class.',
    ['origin', 'class'],
    hosts.flatMap((h) =>
      Object.entries(h.statuses ?? {}).map(([cls, n]): [Labels, number] => [{ origin: h.origin, class: cls }, n]),
    ),
  );
  counter(
    'flowpool_host_errors_total',
    'Failed attempts per host and error code.',
    ['origin', 'code'],
    hosts.flatMap((h) =>
      Object.entries(h.errorsByCode ?? {}).map(([code, n]): [Labels, number] => [{ origin: h.origin, code }, n]),
    ),
  );
  counter(
    'flowpool_host_retries_total',
    'Retries per host.',
    ['origin'],
    hosts.map((h) => [{ origin: h.origin }, h.retries ?? 0]),
  );
  counter(
    'flowpool_host_retries_denied_total',
    'Retries the retry budget refused.',
    ['origin'],
    hosts.map((h) => [{ origin: h.origin }, h.retriesDenied ?? 0]),
  );
  counter(
    'flowpool_host_limiter_waits_total',
    'Dispatches deferred by the rate limit.',
    ['origin'],
    hosts.map((h) => [{ origin: h.origin }, h.limiterWaits ?? 0]),
  );
  gauge(
    'flowpool_host_latency_seconds',
    'Response latency per host (dispatch to body), by quantile.',
    ['origin', 'quantile'],
    hosts.flatMap((h): [Labels, number][] => [
      [{ origin: h.origin, quantile: '0.5' }, (h.latencyP50Ms ?? 0) / 1000],
      [{ origin: h.origin, quantile: '0.99' }, (h.latencyP99Ms ?? 0) / 1000],
    ]),
  );
  gauge(
    'flowpool_host_connections_open',
    'Sockets open to the host, all workers.',
    ['origin'],
    hosts.map((h) => [{ origin: h.origin }, h.openConnections]),
  );
  gauge(
    'flowpool_host_in_flight',
    'Jobs in flight to the host.',
    ['origin'],
    hosts.map((h) => [{ origin: h.origin }, h.inFlight]),
  );
  gauge(
    'flowpool_host_circuit_state',
    'Circuit breaker state per host: 0 closed, 1 half-open, 2 open (absent when off).',
    ['origin'],
    hosts
      .filter((h) => h.circuit !== undefined && h.circuit !== 'off')
      .map((h) => [{ origin: h.origin }, h.circuit === 'open' ? 2 : h.circuit === 'half-open' ? 1 : 0]),
  );
  const tenants = stats.tenants;
  counter(
    'flowpool_tenant_jobs_submitted_total',
    'Jobs submitted per tenant (invalid or blocked jobs count in the totals only).',
    ['tenant'],
    tenants.map((t) => [{ tenant: t.tenant }, t.submitted]),
  );
  counter(
    'flowpool_tenant_jobs_succeeded_total',
    'Jobs that resolved, per tenant.',
    ['tenant'],
    tenants.map((t) => [{ tenant: t.tenant }, t.succeeded]),
  );
  counter(
    'flowpool_tenant_jobs_failed_total',
    'Jobs that rejected, per tenant (invalid or blocked jobs count in the totals only).',
    ['tenant'],
    tenants.map((t) => [{ tenant: t.tenant }, t.failed]),
  );
  gauge(
    'flowpool_tenant_jobs_queued',
    'Jobs waiting in the coordinator, per tenant.',
    ['tenant'],
    tenants.map((t) => [{ tenant: t.tenant }, t.queued]),
  );
  gauge(
    'flowpool_tenant_jobs_in_flight',
    'Jobs running on workers, per tenant.',
    ['tenant'],
    tenants.map((t) => [{ tenant: t.tenant }, t.inFlight]),
  );
  return registry.metrics();
}
