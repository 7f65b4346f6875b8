/**
 * `flowpool_request_duration_seconds`: how long each request took, from its dispatch to a worker to the
 * worker's answer (the body read), as a Prometheus histogram with fixed buckets. One series per label set
 * the `metrics` option asks for (origin or host or none, tenant or none), each label bounded by
 * `maxLabelValues` (later values counted under `other`).
 *
 * Observed once per request on the main thread, so the cost per job matters: after a series is first
 * resolved for an origin and a tenant, an observation is two Map lookups and a scan of the bucket bounds,
 * with nothing allocated.
 */
import { LabelValues } from './label-values.js';

/**
 * Upper bounds of the buckets, in seconds: from 5 ms (a warm loopback or LAN call) to 60 s (the default
 * `timeoutMs`); `+Inf` is implied.
 */
export const REQUEST_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** The label sets of the metrics (the runtime's `metrics` option). */
export interface MetricLabelOptions {
  readonly origin: 'host' | 'origin' | false;
  readonly tenant: boolean;
  readonly maxLabelValues: number;
}

/** One series of the histogram, its bucket counts cumulative (as Prometheus writes them). */
export interface DurationSeries {
  /** Absent when the `origin` label is off. */
  readonly origin?: string;
  /** Absent when the `tenant` label is off. */
  readonly tenant?: string;
  /** Cumulative counts per bucket (the upper bounds in seconds listed in docs/observability.md), then `+Inf` (equal to `count`). */
  readonly buckets: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** The histogram at one moment, with the label values that have a name of their own so far. */
export interface RequestDurationsSnapshot {
  readonly labels: MetricLabelOptions;
  readonly bounds: readonly number[];
  readonly series: readonly DurationSeries[];
  /** Origin label values (hosts or origins) with a series of their own, first seen first. */
  readonly originLabels: readonly string[];
  /** Tenant label values with a series of their own, first seen first. */
  readonly tenantLabels: readonly string[];
}

interface Series {
  readonly origin: string | undefined;
  readonly tenant: string | undefined;
  /** Per bucket, not cumulative; the last one is `+Inf`. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** The series of one origin label, by tenant name (raw names, each mapped to its label's series). */
interface OriginRow {
  readonly label: string | undefined;
  readonly byTenant: Map<string, Series>;
}

/**
 * Raw origins and tenant names remembered on the way to their series. Past this many the cache starts
 * again (a flood of distinct origins pays a lookup of its label again; the series and labels stay).
 */
const CACHE_LIMIT = 10_000;

export class RequestDurations {
  readonly #labels: MetricLabelOptions;
  readonly #origins: LabelValues;
  readonly #tenants: LabelValues;
  readonly #byOrigin = new Map<string, OriginRow>();
  /** One row per origin label, shared by every raw origin with that label. */
  readonly #rows = new Map<string, OriginRow>();
  /** One series per (origin label, tenant label). */
  readonly #series = new Map<string, Series>();

  constructor(labels: MetricLabelOptions) {
    this.#labels = labels;
    this.#origins = new LabelValues(labels.maxLabelValues);
    this.#tenants = new LabelValues(labels.maxLabelValues);
  }

  /** Records one request of `origin` for `tenant` that took `seconds`. */
  observe(origin: string, tenant: string, seconds: number): void {
    const row = this.#byOrigin.get(origin) ?? this.#rowFor(origin);
    const series = row.byTenant.get(tenant) ?? this.#seriesFor(row, tenant);
    const bounds = REQUEST_DURATION_BUCKETS;
    let bucket = 0;
    while (bucket < bounds.length && seconds > (bounds[bucket] ?? Infinity)) bucket++;
    series.counts[bucket] = (series.counts[bucket] ?? 0) + 1;
    series.sum += seconds;
    series.count++;
  }

  snapshot(): RequestDurationsSnapshot {
    const series: DurationSeries[] = [];
    for (const s of this.#series.values()) {
      const buckets: number[] = [];
      let running = 0;
      for (const count of s.counts) buckets.push((running += count));
      series.push({
        ...(s.origin === undefined ? {} : { origin: s.origin }),
        ...(s.tenant === undefined ? {} : { tenant: s.tenant }),
        buckets,
        sum: s.sum,
        count: s.count,
      });
    }
    return {
      labels: this.#labels,
      bounds: REQUEST_DURATION_BUCKETS,
      series,
      originLabels: this.#origins.values(),
      tenantLabels: this.#tenants.values(),
    };
  }

  #rowFor(origin: string): OriginRow {
    const mode = this.#labels.origin;
    const label = mode === false ? undefined : this.#origins.labelOf(mode === 'host' ? hostOf(origin) : origin);
    const key = label ?? '';
    let row = this.#rows.get(key);
    if (row === undefined) {
      row = { label, byTenant: new Map() };
      this.#rows.set(key, row);
    }
    if (this.#byOrigin.size >= CACHE_LIMIT) this.#byOrigin.clear();
    this.#byOrigin.set(origin, row);
    return row;
  }

  #seriesFor(row: OriginRow, tenant: string): Series {
    const label = this.#labels.tenant ? this.#tenants.labelOf(tenant) : undefined;
    const key = `${row.label ?? ''}\n${label ?? ''}`;
    let series = this.#series.get(key);
    if (series === undefined) {
      series = {
        origin: row.label,
        tenant: label,
        counts: new Float64Array(REQUEST_DURATION_BUCKETS.length + 1),
        sum: 0,
        count: 0,
      };
      this.#series.set(key, series);
    }
    if (row.byTenant.size >= CACHE_LIMIT) row.byTenant.clear();
    row.byTenant.set(tenant, series);
    return series;
  }
}

/** The host name of an origin (`https://api.example.com:8443` -> `api.example.com`). */
export function hostOf(origin: string): string {
  return URL.canParse(origin) ? new URL(origin).hostname : origin;
}
