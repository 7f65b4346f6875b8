/** The token bucket behind `hostLimits.rps/burst`, driven by a fake clock. */
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../dist/src/traffic/token-bucket.js';
import { FakeClock } from '../fixtures/fake-clock.js';

describe('TokenBucket', () => {
  it('starts full: the whole burst is available at once', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(4, 3, clock);
    expect(bucket.available).toBe(3);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 0]);
    expect(bucket.available).toBe(0);
    expect(bucket.deferrals).toBe(0);
  });

  it('returns the wait until the next token when empty, and takes nothing', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(4, 1, clock); // one token per 250 ms
    expect(bucket.take()).toBe(0);
    expect(bucket.take()).toBe(250);
    expect(bucket.available).toBe(0);
    clock.advance(125);
    expect(bucket.take()).toBe(125);
    expect(bucket.available).toBe(0.5);
    clock.advance(125);
    expect(bucket.take()).toBe(0); // exactly the wait it announced
  });

  it('refills at `rate` tokens per second', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 100, clock);
    for (let i = 0; i < 100; i++) bucket.take();
    expect(bucket.available).toBe(0);
    clock.advance(500);
    expect(bucket.available).toBe(5);
    clock.advance(1_000);
    expect(bucket.available).toBe(15);
  });

  it('never holds more than `burst`, however long it idles', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(50, 2, clock);
    bucket.take();
    clock.advance(3_600_000);
    expect(bucket.available).toBe(2);
    expect([bucket.take(), bucket.take()]).toEqual([0, 0]);
    expect(bucket.take()).toBe(20);
  });

  it('sustains exactly `rate` grants per second for a caller that waits as told', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(50, 1, clock);
    let granted = 0;
    const start = clock.now();
    // Bounded: a caller that sleeps (on the fake clock) for the announced wait, 1000 times.
    for (let i = 0; i < 1_000 && granted < 101; i++) {
      const wait = bucket.take();
      if (wait === 0) granted++;
      else clock.advance(wait);
    }
    // 101 grants: the first from the full bucket, then 100 at 50/s = 2000 ms.
    expect(granted).toBe(101);
    expect(clock.now() - start).toBe(2_000);
  });

  it('while a caller waits, a late return is credited: the refill may reach burst + 1', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(50, 1, clock); // one token per 20 ms
    expect(bucket.take()).toBe(0);
    expect(bucket.take()).toBe(20); // a caller now waits
    clock.advance(25); // and comes back 5 ms late
    expect(bucket.available).toBeCloseTo(1.25, 10);
    expect(bucket.take()).toBe(0);
    // The 5 ms are kept for the next token, which is due 5 ms sooner.
    expect(bucket.take()).toBe(15);
    clock.advance(15);
    expect(bucket.take()).toBe(0);
  });

  it('the credit is one token at most, and ends with the wait', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(50, 2, clock);
    expect([bucket.take(), bucket.take()]).toEqual([0, 0]);
    expect(bucket.take()).toBe(20); // a caller waits
    clock.advance(3_600_000);
    expect(bucket.available).toBe(3); // burst + 1, however long the wait
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 0]);
    expect(bucket.take()).toBe(20);
    clock.advance(40);
    expect(bucket.take()).toBe(0); // the waiter got its token: no one is owed any more
    clock.advance(3_600_000);
    expect(bucket.available).toBe(2); // back to burst
  });

  it('counts a deferral each time take() finds no token', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(1, 1, clock);
    bucket.take();
    bucket.take();
    bucket.take();
    expect(bucket.deferrals).toBe(2);
    clock.advance(1_000);
    expect(bucket.take()).toBe(0);
    expect(bucket.deferrals).toBe(2);
  });

  it('never announces a wait of 0 ms while empty (a caller would spin)', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(1_000_000, 1, clock);
    bucket.take();
    expect(bucket.take()).toBeGreaterThanOrEqual(1);
  });

  it('rejects a rate <= 0 or a burst < 1', () => {
    const clock = new FakeClock();
    expect(() => new TokenBucket(0, 1, clock)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0.5, clock)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.NaN, 1, clock)).toThrow(RangeError);
  });
});
