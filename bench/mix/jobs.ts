/**
 * The mix's job list: which host, tenant and method each job index has, drawn by `unitHash` from fixed
 * seeds, so the list is the same in every run and both clients run exactly the same jobs.
 */
import { LAYOUT, POST_SHARE, SEEDS, TENANTS, unitHash, type HostKind } from './layout.js';

/** A POST's JSON body: a small record, as a workflow step would send (~200 B serialised). */
export interface MixPayload {
  readonly tenant: string;
  readonly index: number;
  readonly step: string;
  readonly fields: Readonly<Record<string, string | number | boolean>>;
  readonly tags: readonly string[];
}

export interface MixJob {
  readonly index: number;
  readonly kind: HostKind;
  readonly origin: string;
  /** `/mix/<index>`: the target process reads the index to decide a flaky or slow host's answer. */
  readonly path: string;
  /** origin + path, for clients that take a URL. */
  readonly url: string;
  readonly tenant: string;
  /** Set for a JSON POST; a GET otherwise. */
  readonly json: MixPayload | undefined;
  /** Not the big tenant's, and to a fast host: the jobs whose latency the report quotes. */
  readonly quietFast: boolean;
}

export const BIG_TENANT = tenantName(0);

function tenantName(i: number): string {
  return `tenant-${String(i).padStart(3, '0')}`;
}

/** `count` jobs over `origins` (one per host of the layout, in its order). */
export function mixJobs(origins: readonly string[], count: number): MixJob[] {
  const byKind = new Map<HostKind, string[]>();
  let next = 0;
  for (const { kind, hosts } of LAYOUT) {
    byKind.set(kind, origins.slice(next, next + hosts));
    next += hosts;
  }
  if (next !== origins.length)
    throw new Error(`mix jobs: expected ${String(next)} origins, received ${String(origins.length)}`);
  return Array.from({ length: count }, (_, index) => {
    const kind = pickKind(unitHash(SEEDS.kind, index));
    const hosts = byKind.get(kind) ?? [];
    const origin = hosts[Math.floor(unitHash(SEEDS.host, index) * hosts.length)] ?? '';
    const tenant = pickTenant(unitHash(SEEDS.tenant, index));
    const path = `/mix/${String(index)}`;
    const post = unitHash(SEEDS.method, index) < POST_SHARE;
    return {
      index,
      kind,
      origin,
      path,
      url: `${origin}${path}`,
      tenant,
      json: post ? payload(tenant, index) : undefined,
      quietFast: tenant !== BIG_TENANT && kind === 'fast',
    };
  });
}

function pickKind(u: number): HostKind {
  let cumulative = 0;
  for (const { kind, jobShare } of LAYOUT) {
    cumulative += jobShare;
    if (u < cumulative) return kind;
  }
  return 'fast';
}

function pickTenant(u: number): string {
  if (u < TENANTS.bigShare) return BIG_TENANT;
  const quiet = TENANTS.count - 1;
  const share = (u - TENANTS.bigShare) / (1 - TENANTS.bigShare);
  return tenantName(1 + Math.min(quiet - 1, Math.floor(share * quiet)));
}

function payload(tenant: string, index: number): MixPayload {
  return {
    tenant,
    index,
    step: 'enrich-contact',
    fields: { email: `user${String(index)}@example.test`, plan: 'team', seats: (index % 40) + 1, active: true },
    tags: ['workflow', 'crm', 'sync'],
  };
}
