/**
 * Tenants: the share of each origin's queue a tenant is served (its weight) and how many of its jobs may
 * wait at once (its maxQueued). The option's schema lives here, next to the one function that reads it.
 */
import { z } from 'zod';
import type { TenantRules } from './coordinator-types.js';

/** The tenant of a job that names none, and the entry of `tenants` every unlisted tenant follows. */
export const DEFAULT_TENANT = 'default';

/** A tenant name: what a job's `tenant` and the keys of the `tenants` option accept. */
export const tenantName = z.string().min(1).max(128);

/** One tenant's settings. */
export const tenantSettingsSchema = z.strictObject({
  /**
   * Share of an origin's dispatches while several tenants have jobs waiting for it: two backlogged tenants
   * of weights 3 and 1 get 3 of every 4 dispatches and 1.
   * @default 1
   */
  weight: z.number().positive().max(1_000_000).default(1),
  /**
   * Jobs of this tenant that may wait at once (over all origins); `run()` beyond it rejects with
   * `FLOWPOOL_QUEUE_FULL` naming the tenant while other tenants are still admitted (`runMany` waits instead).
   * @default the runtime's `maxQueue`
   */
  maxQueued: z.int().min(0).max(10_000_000).optional(),
});

/** Schema of the runtime's `tenants` option. */
export const tenantsSchema = z.record(tenantName, tenantSettingsSchema);

export type TenantsOption = z.output<typeof tenantsSchema>;

/** What the coordinator asks about a tenant. */
export type { TenantRules } from './coordinator-types.js';

/** Every tenant alike: plain FIFO order, no per-tenant cap. */
export const UNIFORM_TENANTS: TenantRules = {
  quantumOf: () => 1,
  maxQueuedOf: () => Infinity,
};

/**
 * Resolves the option once: an unlisted tenant takes `default`'s settings (weight 1, the runtime's
 * `maxQueue`, when `default` is not listed either).
 */
export function resolveTenants(tenants: TenantsOption, maxQueue: number): TenantRules {
  const fallback = tenants[DEFAULT_TENANT] ?? { weight: 1 };
  const listed = new Map(Object.entries(tenants));
  let smallest = fallback.weight;
  for (const settings of listed.values()) smallest = Math.min(smallest, settings.weight);
  const quanta = new Map<string, number>();
  const caps = new Map<string, number>();
  for (const [name, settings] of listed) {
    quanta.set(name, settings.weight / smallest);
    caps.set(name, settings.maxQueued ?? maxQueue);
  }
  const defaultQuantum = fallback.weight / smallest;
  const defaultCap = fallback.maxQueued ?? maxQueue;
  return {
    quantumOf: (tenant) => quanta.get(tenant) ?? defaultQuantum,
    maxQueuedOf: (tenant) => caps.get(tenant) ?? defaultCap,
  };
}
