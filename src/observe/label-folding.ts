/**
 * The label sets of the per-host and per-tenant metrics at scrape time, following the `metrics` option:
 * an origin is labelled by itself, by its host, or not at all; a tenant by its name or not at all. Values
 * keep their own label in the order the request-duration histogram first saw them, then while there is
 * room under `maxLabelValues`; the rest are summed under `other`, as the histogram counts them.
 */
import { hostOf, type RequestDurationsSnapshot } from '../traffic/request-durations.js';
import { OTHER_LABEL } from '../traffic/label-values.js';

export interface LabelFolding {
  /** `['origin']`, or `[]` when the origin label is off. */
  readonly originNames: string[];
  /** `['tenant']`, or `[]` when the tenant label is off. */
  readonly tenantNames: string[];
  /** The origin label of an origin: `{ origin }` (the origin, its host or `other`), or `{}`. */
  origin(origin: string): Record<string, string>;
  /** The tenant label of a tenant: `{ tenant }` (its name or `other`), or `{}`. */
  tenant(tenant: string): Record<string, string>;
}

export function labelFolding(durations: RequestDurationsSnapshot): LabelFolding {
  const { origin: mode, tenant: byTenant, maxLabelValues } = durations.labels;
  const origins = bounded(durations.originLabels, maxLabelValues);
  const tenants = bounded(durations.tenantLabels, maxLabelValues);
  return {
    originNames: mode === false ? [] : ['origin'],
    tenantNames: byTenant ? ['tenant'] : [],
    origin: (origin): Record<string, string> =>
      mode === false ? {} : { origin: origins(mode === 'host' ? hostOf(origin) : origin) },
    // The tenant counters count names beyond their own bound under '' (src/observe/tenant-stats.ts).
    tenant: (tenant): Record<string, string> =>
      byTenant ? { tenant: tenant === '' ? OTHER_LABEL : tenants(tenant) } : {},
  };
}

/** A label for each value: its own while it is known or there is room, `other` after. */
function bounded(known: readonly string[], max: number): (value: string) => string {
  const named = new Set(known);
  return (value) => {
    if (named.has(value)) return value;
    if (named.size < max) {
      named.add(value);
      return value;
    }
    return OTHER_LABEL;
  };
}
