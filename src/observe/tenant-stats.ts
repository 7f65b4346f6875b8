/**
 * Jobs submitted, succeeded and failed per tenant, counted on the main thread. Tenant names come from
 * callers (one per end customer, in a multi-tenant engine), so the records are bounded twice:
 * - a tenant's record lives while it has jobs queued or running, and while it is listed in the `tenants`
 *   option; once idle it joins the idle list, and past {@link MAX_IDLE_TENANT_RECORDS} idle tenants the
 *   longest idle one is folded into the aggregate record {@link OTHER_TENANTS} (its counts are added there,
 *   so the totals over all records never go down). Folding happens when a tenant's last job settles: no
 *   timer, no sweep. After any flood, once idle, at most 1,000 records remain (999 idle + the aggregate),
 *   plus the listed and the busy tenants.
 * - past {@link MAX_TENANT_RECORDS} records at once (that many tenants busy together), new names are
 *   counted under the aggregate from the start.
 */

export const MAX_TENANT_RECORDS = 10_000;
/** Idle (no queued or running job), unlisted tenants whose records are kept before the oldest is folded. */
export const MAX_IDLE_TENANT_RECORDS = 999;
/** The aggregate record: folded idle tenants and those beyond the bound (never a tenant name: names are never empty). */
export const OTHER_TENANTS = '';

export interface TenantCount {
  submitted: number;
  succeeded: number;
  failed: number;
}

interface TenantRecord extends TenantCount {
  /** Jobs submitted and not yet settled. */
  active: number;
}

export class TenantCounters {
  readonly #counts = new Map<string, TenantRecord>();
  /** Idle, unlisted tenants, longest idle first (a Set keeps insertion order). */
  readonly #idle = new Set<string>();
  readonly #listed: ReadonlySet<string>;

  /** `listed`: tenants whose records are kept even when idle (the keys of the `tenants` option). */
  constructor(listed: Iterable<string> = []) {
    this.#listed = new Set(listed);
  }

  submitted(tenant: string): void {
    let key = this.#counts.has(tenant) || this.#counts.size < MAX_TENANT_RECORDS ? tenant : OTHER_TENANTS;
    if (key !== tenant && this.#counts.size >= MAX_TENANT_RECORDS && this.#idle.size > 0) {
      // Busy tenants hold the bound: make room by folding the longest idle one instead of losing this name.
      this.#foldOldestIdle();
      key = tenant;
    }
    const record = this.#record(key);
    record.submitted++;
    record.active++;
    this.#idle.delete(key);
  }

  succeeded(tenant: string): void {
    const key = this.#counts.has(tenant) ? tenant : OTHER_TENANTS;
    const record = this.#record(key);
    record.succeeded++;
    this.#settled(key, record);
  }

  failed(tenant: string): void {
    const key = this.#counts.has(tenant) ? tenant : OTHER_TENANTS;
    const record = this.#record(key);
    record.failed++;
    this.#settled(key, record);
  }

  /** The counts of one tenant, or undefined when it has no record of its own (never counted, or folded). */
  get(tenant: string): Readonly<TenantCount> | undefined {
    const record = this.#counts.get(tenant);
    return record === undefined ? undefined : view(record);
  }

  /** Every record, the aggregate (tenant `''`) included once it exists. */
  *entries(): IterableIterator<[string, Readonly<TenantCount>]> {
    for (const [tenant, record] of this.#counts) yield [tenant, view(record)];
  }

  get size(): number {
    return this.#counts.size;
  }

  #settled(key: string, record: TenantRecord): void {
    record.active = Math.max(0, record.active - 1);
    if (record.active > 0 || key === OTHER_TENANTS || this.#listed.has(key)) return;
    this.#idle.add(key);
    while (this.#idle.size > MAX_IDLE_TENANT_RECORDS) this.#foldOldestIdle();
  }

  #foldOldestIdle(): void {
    const oldest = this.#idle.values().next();
    if (oldest.done === true) return;
    this.#idle.delete(oldest.value);
    const record = this.#counts.get(oldest.value);
    this.#counts.delete(oldest.value);
    if (record === undefined) return;
    const aggregate = this.#record(OTHER_TENANTS);
    aggregate.submitted += record.submitted;
    aggregate.succeeded += record.succeeded;
    aggregate.failed += record.failed;
  }

  #record(key: string): TenantRecord {
    let record = this.#counts.get(key);
    if (record === undefined) {
      record = { submitted: 0, succeeded: 0, failed: 0, active: 0 };
      this.#counts.set(key, record);
    }
    return record;
  }
}

function view(record: TenantRecord): TenantCount {
  return { submitted: record.submitted, succeeded: record.succeeded, failed: record.failed };
}
