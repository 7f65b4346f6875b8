/** The fixed-memory latency histogram behind `latencyP50Ms` / `latencyP99Ms`. */
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../dist/src/traffic/latency-histogram.js';
import { seededRandom } from '../fixtures/fake-clock.js';

function within(actual: number, expected: number, tolerance = 0.1): void {
  expect(actual).toBeGreaterThanOrEqual(expected * (1 - tolerance));
  expect(actual).toBeLessThanOrEqual(expected * (1 + tolerance));
}

describe('LatencyHistogram', () => {
  it('reports 0 when empty', () => {
    const h = new LatencyHistogram();
    expect(h.count).toBe(0);
    expect(h.percentile(0.5)).toBe(0);
    expect(h.percentile(0.99)).toBe(0);
  });

  it('p50 and p99 of a uniform 1..1000 ms distribution are within 10% of 500 and 990', () => {
    const h = new LatencyHistogram();
    for (let ms = 1; ms <= 1_000; ms++) h.record(ms);
    expect(h.count).toBe(1_000);
    within(h.percentile(0.5), 500);
    within(h.percentile(0.99), 990);
  });

  it('p50 and p99 of an exponential distribution (mean 40 ms) are within 10% of the true quantiles', () => {
    const h = new LatencyHistogram();
    const n = 20_000;
    // Deterministic quantile sampling of Exp(mean 40): the i-th value is the (i + 0.5)/n quantile.
    for (let i = 0; i < n; i++) h.record(-40 * Math.log(1 - (i + 0.5) / n));
    within(h.percentile(0.5), 40 * Math.LN2);
    within(h.percentile(0.99), 40 * Math.log(100));
  });

  it('is accurate on shuffled, seeded samples across several decades (0.2 ms .. 20 s)', () => {
    const random = seededRandom(3);
    const values = Array.from({ length: 10_000 }, () => 0.2 * 10 ** (5 * random()));
    const h = new LatencyHistogram();
    for (const v of values) h.record(v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.99]) within(h.percentile(q), sorted[Math.ceil(q * sorted.length) - 1] ?? 0);
  });

  it('reports an upper bound: a percentile is never below the true value', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 100; i++) h.record(12.3);
    expect(h.percentile(0.5)).toBeGreaterThanOrEqual(12.3);
    within(h.percentile(0.5), 12.3);
  });

  it('keeps p50 <= p99 and handles extremes (0, negative, huge) without growing', () => {
    const h = new LatencyHistogram();
    h.record(0);
    h.record(-5);
    h.record(Number.NaN);
    h.record(1e12);
    for (let i = 0; i < 96; i++) h.record(5);
    expect(h.count).toBe(100);
    expect(h.percentile(0.5)).toBeLessThanOrEqual(h.percentile(0.99));
    expect(Number.isFinite(h.percentile(1))).toBe(true);
  });
});
