/** Full-jitter backoff and Retry-After parsing: pure functions, random and wall clock injected. */
import { describe, expect, it } from 'vitest';
import { fullJitterDelay, parseRetryAfter } from '../../dist/src/traffic/backoff.js';
import { seededRandom } from '../fixtures/fake-clock.js';

const JUST_BELOW_ONE = () => 0.999_999;
const ZERO = () => 0;

describe('fullJitterDelay', () => {
  it('is 0 when the random draw is 0', () => {
    for (let retry = 1; retry <= 10; retry++) expect(fullJitterDelay(retry, 100, 10_000, ZERO)).toBe(0);
  });

  it('stays below the ceiling base x 2^(retry-1) when the draw is just below 1', () => {
    expect(fullJitterDelay(1, 100, 10_000, JUST_BELOW_ONE)).toBe(99);
    expect(fullJitterDelay(2, 100, 10_000, JUST_BELOW_ONE)).toBe(199);
    expect(fullJitterDelay(3, 100, 10_000, JUST_BELOW_ONE)).toBe(399);
    expect(fullJitterDelay(4, 100, 10_000, JUST_BELOW_ONE)).toBe(799);
  });

  it('caps the ceiling at maxMs', () => {
    expect(fullJitterDelay(8, 100, 10_000, JUST_BELOW_ONE)).toBe(9_999); // 100 x 128 = 12800, capped
    expect(fullJitterDelay(20, 100, 10_000, JUST_BELOW_ONE)).toBe(9_999);
    expect(fullJitterDelay(1_000, 100, 10_000, JUST_BELOW_ONE)).toBe(9_999); // 2^999 must not overflow the cap
  });

  it('treats retry 0 (or less) like the first retry', () => {
    expect(fullJitterDelay(0, 100, 10_000, JUST_BELOW_ONE)).toBe(99);
  });

  it('spreads seeded draws uniformly over [0, ceiling)', () => {
    const random = seededRandom(42);
    const samples = Array.from({ length: 2_000 }, () => fullJitterDelay(3, 100, 10_000, random));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(400);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    expect(mean).toBeGreaterThan(200 * 0.9);
    expect(mean).toBeLessThan(200 * 1.1);
    // Jitter, not a fixed delay: many distinct values.
    expect(new Set(samples).size).toBeGreaterThan(300);
  });

  it('gives the same delays for the same seed', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    for (let retry = 1; retry <= 6; retry++)
      expect(fullJitterDelay(retry, 50, 5_000, a)).toBe(fullJitterDelay(retry, 50, 5_000, b));
  });
});

describe('parseRetryAfter', () => {
  const NOW = Date.UTC(2025, 0, 1, 0, 0, 0); // Wed, 01 Jan 2025 00:00:00 GMT

  it('reads delta-seconds as milliseconds', () => {
    expect(parseRetryAfter('1', NOW)).toBe(1_000);
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 3 ', NOW)).toBe(3_000);
  });

  it('reads an HTTP-date in the future as the time until it', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', NOW)).toBe(5_000);
    expect(parseRetryAfter(new Date(NOW + 90_000).toUTCString(), NOW)).toBe(90_000);
  });

  it('reads an HTTP-date in the past (or now) as 0', () => {
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter(new Date(NOW).toUTCString(), NOW)).toBe(0);
  });

  it('ignores garbage and empty values', () => {
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter('5 seconds', NOW)).toBeUndefined();
    expect(parseRetryAfter('', NOW)).toBeUndefined();
    expect(parseRetryAfter('   ', NOW)).toBeUndefined();
  });

  it('takes the first of repeated headers (an array)', () => {
    expect(parseRetryAfter(['7', '9'], NOW)).toBe(7_000);
    expect(parseRetryAfter(['Wed, 01 Jan 2025 00:00:02 GMT'], NOW)).toBe(2_000);
    expect(parseRetryAfter([], NOW)).toBeUndefined();
  });

  it('returns undefined when the header is absent', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});
