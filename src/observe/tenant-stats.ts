/**
 * Jobs submitted, succeeded and failed per tenant, counted on the main thread. Tenant names come from
 * callers, so the records are bounded: past {@link MAX_TENANT_RECORDS} names, new ones are counted
 * together under {@link OTHER_TENANTS}.
 */

export const MAX_TENANT_RECORDS = 10_000;
/** The record that counts the tenants beyond the bound (not a valid tenant name: names are never empty). */
export const OTHER_TENANTS = '';

export interface TenantCount {
  submitted: number;
  succeeded: number;
  failed: number;
}

export class TenantCounters {
  readonly #counts = new Map<string, TenantCount>();

  submitted(tenant: string): void {
    this.#of(tenant).submitted++;
  }

  succeeded(tenant: string): void {
    this.#of(tenant).succeeded++;
  }

  failed(tenant: string): void {
    this.#of(tenant).failed++;
  }

  /** The counts of one tenant, or undefined when none was counted under its name. */
  get(tenant: string): Readonly<TenantCount> | undefined {
    return this.#counts.get(tenant);
  }

  entries(): IterableIterator<[string, Readonly<TenantCount>]> {
    return this.#counts.entries();
  }

  #of(tenant: string): TenantCount {
    let count = this.#counts.get(tenant);
    if (count === undefined) {
      const key = this.#counts.size < MAX_TENANT_RECORDS ? tenant : OTHER_TENANTS;
      count = this.#counts.get(key);
      if (count === undefined) {
        count = { submitted: 0, succeeded: 0, failed: 0 };
        this.#counts.set(key, count);
      }
    }
    return count;
  }
}
