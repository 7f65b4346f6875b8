/**
 * The request-duration histogram, pure (issue 22, item 6): bucket placement and cumulative counts, the
 * label sets of the `metrics` option (origin, host or none; tenant or none), the cap that folds later
 * values into `other`, and its exposition text.
 */
import { describe, expect, it } from 'vitest';
import {
  REQUEST_DURATION_BUCKETS,
  RequestDurations,
  type MetricLabelOptions,
} from '../../dist/src/traffic/request-durations.js';
import { renderDurationHistogram } from '../../dist/src/observe/duration-histogram-text.js';
import { labelFolding } from '../../dist/src/observe/label-folding.js';

const BY_ORIGIN: MetricLabelOptions = { origin: 'origin', tenant: true, maxLabelValues: 100 };

describe('RequestDurations', () => {
  it('places each observation in its bucket; counts are cumulative, +Inf equals count', () => {
    const durations = new RequestDurations(BY_ORIGIN);
    for (const seconds of [0.001, 0.005, 0.0051, 0.3, 61]) durations.observe('http://a.test', 'default', seconds);
    const [series] = durations.snapshot().series;
    expect(series?.count).toBe(5);
    expect(series?.sum).toBeCloseTo(0.001 + 0.005 + 0.0051 + 0.3 + 61);
    const at = (bound: number) => series?.buckets[REQUEST_DURATION_BUCKETS.indexOf(bound)];
    expect(at(0.005)).toBe(2); // le is inclusive
    expect(at(0.01)).toBe(3);
    expect(at(0.25)).toBe(3);
    expect(at(0.5)).toBe(4);
    expect(at(60)).toBe(4);
    expect(series?.buckets.at(-1)).toBe(5);
    expect(series?.buckets).toHaveLength(REQUEST_DURATION_BUCKETS.length + 1);
  });

  it('labels by origin and tenant by default, one series per pair', () => {
    const durations = new RequestDurations(BY_ORIGIN);
    durations.observe('http://a.test', 't1', 0.01);
    durations.observe('http://a.test', 't2', 0.01);
    durations.observe('http://a.test:8080', 't1', 0.01);
    durations.observe('http://a.test', 't1', 0.01);
    const series = durations.snapshot().series.map((s) => [s.origin, s.tenant, s.count]);
    expect(series).toEqual([
      ['http://a.test', 't1', 2],
      ['http://a.test', 't2', 1],
      ['http://a.test:8080', 't1', 1],
    ]);
  });

  it("origin: 'host' puts every port and scheme of a host together; false and tenant: false drop the labels", () => {
    const byHost = new RequestDurations({ origin: 'host', tenant: false, maxLabelValues: 100 });
    for (const origin of ['http://a.test', 'https://a.test:8443', 'http://b.test']) byHost.observe(origin, 'x', 0.01);
    expect(byHost.snapshot().series.map((s) => [s.origin, s.tenant, s.count])).toEqual([
      ['a.test', undefined, 2],
      ['b.test', undefined, 1],
    ]);
    const none = new RequestDurations({ origin: false, tenant: false, maxLabelValues: 100 });
    none.observe('http://a.test', 'x', 0.01);
    none.observe('http://b.test', 'y', 0.01);
    expect(none.snapshot().series).toMatchObject([{ count: 2 }]);
    expect(none.snapshot().series[0]).not.toHaveProperty('origin');
  });

  it('folds values beyond maxLabelValues into other, per label, and keeps the first ones for good', () => {
    const durations = new RequestDurations({ origin: 'origin', tenant: true, maxLabelValues: 2 });
    for (const origin of ['http://a.test', 'http://b.test', 'http://c.test', 'http://d.test', 'http://a.test'])
      durations.observe(origin, 'only', 0.01);
    for (const tenant of ['t1', 't2', 't3']) durations.observe('http://a.test', tenant, 0.01);
    const snapshot = durations.snapshot();
    const counts = Object.fromEntries(snapshot.series.map((s) => [`${s.origin ?? ''}|${s.tenant ?? ''}`, s.count]));
    expect(counts).toEqual({
      'http://a.test|only': 2,
      'http://b.test|only': 1,
      'other|only': 2,
      'http://a.test|t1': 1,
      'http://a.test|other': 2,
    });
    expect(snapshot.originLabels).toEqual(['http://a.test', 'http://b.test']);
    expect(snapshot.tenantLabels).toEqual(['only', 't1']);
  });

  it('bounds the series under a flood of distinct origins and tenants', () => {
    const durations = new RequestDurations({ origin: 'origin', tenant: true, maxLabelValues: 3 });
    for (let i = 0; i < 20_000; i++) durations.observe(`http://h${i}.test`, `t${i % 50}`, 0.01);
    const snapshot = durations.snapshot();
    // (3 origins + other) x (3 tenants + other) at most.
    expect(snapshot.series.length).toBeLessThanOrEqual(16);
    expect(snapshot.series.reduce((n, s) => n + s.count, 0)).toBe(20_000);
  });
});

describe('exposition', () => {
  it('writes a Prometheus histogram with escaped labels, le buckets, +Inf, sum and count', () => {
    const durations = new RequestDurations(BY_ORIGIN);
    durations.observe('http://a.test', 'we "quote"\\n', 0.02);
    const text = renderDurationHistogram(durations.snapshot());
    expect(text).toContain('# TYPE flowpool_request_duration_seconds histogram\n');
    const labels = 'origin="http://a.test",tenant="we \\"quote\\"\\\\n"';
    expect(text).toContain(`flowpool_request_duration_seconds_bucket{${labels},le="0.01"} 0\n`);
    expect(text).toContain(`flowpool_request_duration_seconds_bucket{${labels},le="0.025"} 1\n`);
    expect(text).toContain(`flowpool_request_duration_seconds_bucket{${labels},le="+Inf"} 1\n`);
    expect(text).toContain(`flowpool_request_duration_seconds_sum{${labels}} 0.02\n`);
    expect(text).toContain(`flowpool_request_duration_seconds_count{${labels}} 1\n`);
  });

  it('folds the other per-host and per-tenant series as the histogram does', () => {
    const durations = new RequestDurations({ origin: 'host', tenant: true, maxLabelValues: 1 });
    durations.observe('http://a.test:1', 'first', 0.01);
    const fold = labelFolding(durations.snapshot());
    expect(fold.origin('http://a.test:2')).toEqual({ origin: 'a.test' });
    expect(fold.origin('http://b.test')).toEqual({ origin: 'other' });
    expect(fold.tenant('first')).toEqual({ tenant: 'first' });
    expect(fold.tenant('second')).toEqual({ tenant: 'other' });
    const off = labelFolding(new RequestDurations({ origin: false, tenant: false, maxLabelValues: 1 }).snapshot());
    expect([off.originNames, off.tenantNames, off.origin('http://a.test'), off.tenant('x')]).toEqual([[], [], {}, {}]);
  });
});
