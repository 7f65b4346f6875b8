/**
 * Issue 21, item 6: per-tenant records on the main thread stay bounded under any number of tenant names,
 * without threads or clocks: a record lives while its tenant has work (or is listed in `tenants`); when a
 * tenant's last job settles it goes idle, and beyond 999 idle tenants the longest idle one is folded into
 * the aggregate record `''`, whose counts keep the totals whole.
 */
import { describe, expect, it } from 'vitest';
import { MAX_IDLE_TENANT_RECORDS, OTHER_TENANTS, TenantCounters } from '../../dist/src/observe/tenant-stats.js';

function totals(counters: TenantCounters): { submitted: number; succeeded: number; failed: number } {
  const sum = { submitted: 0, succeeded: 0, failed: 0 };
  for (const [, count] of counters.entries()) {
    sum.submitted += count.submitted;
    sum.succeeded += count.succeeded;
    sum.failed += count.failed;
  }
  return sum;
}

describe('tenant records', () => {
  it('after 100,000 distinct tenants each ran one job, at most 1,000 records remain and no count is lost', () => {
    const counters = new TenantCounters();
    for (let i = 0; i < 100_000; i++) {
      const tenant = `t-${i}`;
      counters.submitted(tenant);
      if (i % 10 === 0) counters.failed(tenant);
      else counters.succeeded(tenant);
    }
    expect(counters.size).toBeLessThanOrEqual(1_000);
    expect(MAX_IDLE_TENANT_RECORDS + 1).toBe(1_000);
    expect(totals(counters)).toEqual({ submitted: 100_000, succeeded: 90_000, failed: 10_000 });
    // The most recently idle keep their own records; the oldest were folded.
    expect(counters.get('t-99999')).toEqual({ submitted: 1, succeeded: 1, failed: 0 });
    expect(counters.get('t-0')).toBeUndefined();
    expect(counters.get(OTHER_TENANTS)?.submitted).toBe(100_000 - MAX_IDLE_TENANT_RECORDS);
  });

  it('keeps a tenant with queued or running work, and a listed tenant while idle', () => {
    const counters = new TenantCounters(['vip']);
    counters.submitted('vip');
    counters.succeeded('vip');
    counters.submitted('busy');
    for (let i = 0; i < 5_000; i++) {
      counters.submitted(`t-${i}`);
      counters.succeeded(`t-${i}`);
    }
    expect(counters.get('vip')).toEqual({ submitted: 1, succeeded: 1, failed: 0 });
    expect(counters.get('busy')).toEqual({ submitted: 1, succeeded: 0, failed: 0 });
    counters.succeeded('busy');
    expect(counters.get('busy')).toEqual({ submitted: 1, succeeded: 1, failed: 0 });
    expect(counters.size).toBeLessThanOrEqual(1_000 + 1);
    expect(totals(counters).submitted).toBe(5_002);
  });

  it('keeps counting a tenant whose record was folded (a new record, the old counts in the aggregate)', () => {
    const counters = new TenantCounters();
    counters.submitted('a');
    counters.succeeded('a');
    for (let i = 0; i < MAX_IDLE_TENANT_RECORDS; i++) {
      counters.submitted(`t-${i}`);
      counters.succeeded(`t-${i}`);
    }
    expect(counters.get('a')).toBeUndefined();
    counters.submitted('a');
    counters.failed('a');
    expect(counters.get('a')).toEqual({ submitted: 1, succeeded: 0, failed: 1 });
    expect(totals(counters)).toEqual({ submitted: 1_001, succeeded: 1_000, failed: 1 });
  });
});
