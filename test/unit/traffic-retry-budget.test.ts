/** The per-host retry budget: a share of recent requests plus a floor, over a sliding window. */
import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../../dist/src/traffic/retry-budget.js';
import { FakeClock } from '../fixtures/fake-clock.js';

function takeAll(budget: RetryBudget, max = 1_000): number {
  let granted = 0;
  while (granted < max && budget.tryRetry()) granted++;
  return granted;
}

describe('RetryBudget', () => {
  it('allows retries up to ratio x requests (minRetries 0)', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget(0.2, 0, 10_000, clock);
    for (let i = 0; i < 100; i++) budget.recordRequest();
    expect(takeAll(budget)).toBe(20);
    expect(budget.tryRetry()).toBe(false);
  });

  it('denies every retry with no requests and minRetries 0', () => {
    const budget = new RetryBudget(0.2, 0, 10_000, new FakeClock());
    expect(budget.tryRetry()).toBe(false);
  });

  it('grants minRetries on top of the ratio, so a quiet host can still retry', () => {
    const clock = new FakeClock();
    const quiet = new RetryBudget(0.2, 3, 10_000, clock);
    expect(takeAll(quiet)).toBe(3);
    const busy = new RetryBudget(0.2, 3, 10_000, clock);
    for (let i = 0; i < 10; i++) busy.recordRequest();
    expect(takeAll(busy)).toBe(5); // 3 + 0.2 x 10
  });

  it('lets new requests earn new retries as they come', () => {
    const budget = new RetryBudget(0.5, 0, 10_000, new FakeClock());
    budget.recordRequest();
    expect(budget.tryRetry()).toBe(false); // 1 > 0.5
    budget.recordRequest();
    expect(budget.tryRetry()).toBe(true); // 1 <= 1
    expect(budget.tryRetry()).toBe(false);
  });

  it('forgets requests older than windowMs: they no longer earn retries', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget(0.2, 0, 1_000, clock);
    for (let i = 0; i < 50; i++) budget.recordRequest();
    clock.advance(850); // still inside the window (buckets of 100 ms)
    expect(budget.tryRetry()).toBe(true);
    clock.advance(150); // windowMs after they were recorded
    expect(budget.tryRetry()).toBe(false);
  });

  it('forgets retries older than windowMs: the budget is available again', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget(0, 2, 1_000, clock);
    expect(takeAll(budget)).toBe(2);
    clock.advance(850);
    expect(budget.tryRetry()).toBe(false);
    clock.advance(150);
    expect(takeAll(budget)).toBe(2);
  });

  it('slides: requests of the last window count, older ones drop out bucket by bucket', () => {
    const clock = new FakeClock(0);
    const budget = new RetryBudget(1, 0, 1_000, clock);
    for (let i = 0; i < 5; i++) budget.recordRequest(); // t = 0
    clock.advance(500);
    for (let i = 0; i < 3; i++) budget.recordRequest(); // t = 500
    clock.advance(500); // t = 1000: the first 5 are out, the 3 remain
    expect(takeAll(budget)).toBe(3);
    clock.advance(500); // t = 1500: all out, but so are the 3 retries just taken
    expect(budget.tryRetry()).toBe(false);
  });

  it('survives a clock jump far beyond the window', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget(0.5, 0, 1_000, clock);
    for (let i = 0; i < 10; i++) budget.recordRequest();
    clock.advance(86_400_000);
    expect(budget.tryRetry()).toBe(false);
    budget.recordRequest();
    budget.recordRequest();
    expect(takeAll(budget)).toBe(1);
  });
});
