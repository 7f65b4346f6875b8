/**
 * Regression: a Retry-After that is neither delta-seconds nor an HTTP-date is ignored.
 *
 * Was: `parseRetryAfter` handed anything that was not 1*DIGIT to `Date.parse`, and V8's parser is
 * lenient: "1.5", "-1", "+5" or "abc 12" became dates in 2001, i.e. in the past, so the header read as
 * "retry now" (0 ms) and the job skipped its backoff.
 * Fixed: only delta-seconds or the three HTTP-date shapes of RFC 9110 (IMF-fixdate, obsolete RFC 850,
 * obsolete asctime) are read; anything else gives undefined, so the backoff applies
 * (src/traffic/backoff.ts, `HTTP_DATE`).
 */
import { describe, expect, it } from 'vitest';
import { normalizeJob } from '../../dist/src/job/job.js';
import { parseOptions } from '../../dist/src/config/options.js';
import { parseRetryAfter } from '../../dist/src/traffic/backoff.js';
import { TrafficController } from '../../dist/src/traffic/traffic-controller.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const NOW = Date.UTC(2025, 0, 1, 0, 0, 0);
/** Values V8's Date.parse reads as a date, none of them delta-seconds or an HTTP-date. */
const LENIENT = [
  '1.5',
  '-1',
  '+5',
  '1,5',
  'abc 12',
  '2025-01-01T00:00:05Z',
  'Wed, 01 Jan 2025 00:00:05',
  'January 1, 2025 00:00:05 GMT',
];

describe('parseRetryAfter: values V8 Date.parse accepts but HTTP does not', () => {
  it.each(LENIENT)('V8 reads %j as a date, but it is ignored', (value) => {
    // The premise: without the shape check this value would have been taken for a date.
    expect(Number.isNaN(Date.parse(value))).toBe(false);
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });

  it('still reads the three HTTP-date forms of RFC 9110 5.6.7', () => {
    const at = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', at - 1_000)).toBe(1_000); // IMF-fixdate
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', at - 1_000)).toBe(1_000); // obsolete RFC 850
    expect(parseRetryAfter('Sun Nov  6 08:49:37 1994', at - 1_000)).toBe(1_000); // obsolete asctime
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', NOW)).toBe(5_000);
  });

  it('a 429 with such a Retry-After backs off instead of retrying at once', () => {
    const options = parseOptions({ workers: 1, retry: { attempts: 3, minDelayMs: 100 } });
    const traffic = new TrafficController(
      options,
      new FakeClock(),
      { onCircuitChange: () => {} },
      () => 0.5,
      () => NOW,
    );
    const origin = 'http://api.test';
    traffic.recordFirstAttempt(origin, 'api.test');
    const job = normalizeJob({ url: `${origin}/x` }, options);
    for (const value of ['1.5', '-1']) {
      expect(
        traffic.retryDelay(origin, job, 1, { ok: true, status: 429, headers: { 'retry-after': value } }, 60_000),
      ).toBe(50);
    }
    // A real date is still honoured.
    expect(
      traffic.retryDelay(
        origin,
        job,
        1,
        { ok: true, status: 429, headers: { 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' } },
        60_000,
      ),
    ).toBe(5_000);
  });
});
