/** What traffic control reports per host (part of `runtime.stats()`); a type file of its own, free of zod. */
import type { FlowpoolErrorCode } from '../errors/flowpool-error.js';
import type { CircuitState } from './circuit-breaker.js';
import type { RequestDurationsSnapshot } from './request-durations.js';

export interface HostTrafficStats {
  readonly origin: string;
  /** Jobs submitted to the host (retries not included; jobs refused by an open circuit included). */
  readonly requests: number;
  /** Attempts that got an HTTP response, whatever its status (retried ones included). */
  readonly responses: number;
  readonly errorsByCode: Partial<Record<FlowpoolErrorCode, number>>;
  /** Responses by status class, e.g. `{ '2xx': 10, '5xx': 2 }`. */
  readonly statuses: Record<string, number>;
  readonly retries: number;
  /** Retries the budget refused. */
  readonly retriesDenied: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly circuit: CircuitState | 'off';
  /** Times a job found no rate-limit token at dispatch and had to wait for the next one. */
  readonly limiterWaits: number;
}

/** What the traffic controller reports for stats and metrics. */
export interface TrafficSnapshot {
  readonly hosts: HostTrafficStats[];
  /** Every request's duration, by the label sets of the `metrics` option. */
  readonly requestDurations: RequestDurationsSnapshot;
}
