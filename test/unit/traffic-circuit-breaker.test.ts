/** The circuit breaker's state machine, on a fake clock. */
import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitState } from '../../dist/src/traffic/circuit-breaker.js';
import { FakeClock } from '../fixtures/fake-clock.js';

function breaker(threshold = 3, cooldownMs = 1_000) {
  const clock = new FakeClock();
  const changes: [CircuitState, CircuitState][] = [];
  const cb = new CircuitBreaker(threshold, cooldownMs, clock, (from, to) => changes.push([from, to]));
  /** `n` requests admitted while closed, each ending in a failure. */
  const fail = (n: number): void => {
    for (let i = 0; i < n; i++) {
      expect(cb.tryPass()).toBe('pass');
      cb.record('pass', 'failure');
    }
  };
  return { clock, changes, cb, fail };
}

describe('CircuitBreaker', () => {
  it('starts closed and lets requests through', () => {
    const { cb, changes } = breaker();
    expect(cb.state).toBe('closed');
    for (let i = 0; i < 10; i++) expect(cb.tryPass()).toBe('pass');
    expect(cb.retryInMs).toBe(0);
    expect(changes).toEqual([]);
  });

  it('opens at failureThreshold consecutive failures, not before', () => {
    const { cb, fail, changes } = breaker(3);
    fail(2);
    expect(cb.state).toBe('closed');
    fail(1);
    expect(cb.state).toBe('open');
    expect(changes).toEqual([['closed', 'open']]);
  });

  it('a success resets the count of consecutive failures', () => {
    const { cb, fail } = breaker(3);
    fail(2);
    expect(cb.tryPass()).toBe('pass');
    cb.record('pass', 'success');
    fail(2);
    expect(cb.state).toBe('closed');
    fail(1);
    expect(cb.state).toBe('open');
  });

  it('a neutral outcome neither counts as a failure nor resets the count', () => {
    const { cb, fail } = breaker(3);
    fail(2);
    expect(cb.tryPass()).toBe('pass');
    cb.record('pass', 'neutral');
    expect(cb.state).toBe('closed');
    fail(1);
    expect(cb.state).toBe('open');
  });

  it('fails fast while open and says when the probe is due', () => {
    const { cb, fail, clock } = breaker(1, 1_000);
    fail(1);
    for (let i = 0; i < 5; i++) expect(cb.tryPass()).toBeUndefined();
    expect(cb.retryInMs).toBe(1_000);
    clock.advance(400);
    expect(cb.tryPass()).toBeUndefined();
    expect(cb.retryInMs).toBe(600);
    clock.advance(599);
    expect(cb.state).toBe('open');
    expect(cb.tryPass()).toBeUndefined();
  });

  it('half-opens after the cool-down and lets exactly one probe through', () => {
    const { cb, fail, clock, changes } = breaker(1, 1_000);
    fail(1);
    clock.advance(1_000);
    expect(cb.state).toBe('half-open');
    expect(cb.retryInMs).toBe(0);
    expect(cb.tryPass()).toBe('probe');
    for (let i = 0; i < 5; i++) expect(cb.tryPass()).toBeUndefined();
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half-open'],
    ]);
  });

  it('half-opens on the first tryPass after the cool-down, without anyone reading state', () => {
    const { cb, fail, clock } = breaker(1, 1_000);
    fail(1);
    clock.advance(5_000);
    expect(cb.tryPass()).toBe('probe');
    expect(cb.tryPass()).toBeUndefined();
  });

  it('closes when the probe succeeds, and then requests flow', () => {
    const { cb, fail, clock, changes } = breaker(2, 1_000);
    fail(2);
    clock.advance(1_000);
    expect(cb.tryPass()).toBe('probe');
    cb.record('probe', 'success');
    expect(cb.state).toBe('closed');
    for (let i = 0; i < 5; i++) expect(cb.tryPass()).toBe('pass');
    expect(changes.at(-1)).toEqual(['half-open', 'closed']);
    // Back to a fresh count: one failure does not re-open a threshold-2 breaker.
    cb.record('pass', 'failure');
    expect(cb.state).toBe('closed');
    cb.record('pass', 'failure');
    expect(cb.state).toBe('open');
  });

  it('re-opens for a full cool-down when the probe fails', () => {
    const { cb, fail, clock, changes } = breaker(3, 1_000);
    fail(3);
    clock.advance(1_500);
    expect(cb.tryPass()).toBe('probe');
    clock.advance(200); // the probe took a while
    cb.record('probe', 'failure');
    expect(cb.state).toBe('open');
    expect(cb.retryInMs).toBe(1_000); // counted from the probe's failure, not the first opening
    clock.advance(999);
    expect(cb.tryPass()).toBeUndefined();
    clock.advance(1);
    expect(cb.tryPass()).toBe('probe');
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half-open'],
      ['half-open', 'open'],
      ['open', 'half-open'],
    ]);
  });

  it('a neutral probe outcome frees the probe slot without closing or re-opening', () => {
    const { cb, fail, clock } = breaker(1, 1_000);
    fail(1);
    clock.advance(1_000);
    expect(cb.tryPass()).toBe('probe');
    expect(cb.tryPass()).toBeUndefined();
    cb.record('probe', 'neutral');
    expect(cb.state).toBe('half-open');
    expect(cb.tryPass()).toBe('probe'); // a new probe
    expect(cb.tryPass()).toBeUndefined();
  });

  it('reports each transition once, with from and to', () => {
    const { cb, fail, clock, changes } = breaker(1, 100);
    fail(1);
    clock.advance(100);
    // Reading the state twice must not let two probes through.
    expect(cb.state).toBe(cb.state);
    expect(cb.tryPass()).toBe('probe');
    cb.record('probe', 'success');
    cb.record('pass', 'success');
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half-open'],
      ['half-open', 'closed'],
    ]);
  });
});

describe('CircuitBreaker: outcomes of requests admitted while closed ("pass") after it opened', () => {
  it('are ignored while open: a late failure does not restart the cool-down, a late success does not close it', () => {
    const { cb, fail, clock, changes } = breaker(2, 1_000);
    expect(cb.tryPass()).toBe('pass'); // slow, still in flight
    expect(cb.tryPass()).toBe('pass'); // slow, still in flight
    fail(2);
    expect(cb.state).toBe('open');
    clock.advance(600);
    cb.record('pass', 'failure');
    expect(cb.retryInMs).toBe(400);
    cb.record('pass', 'success');
    expect(cb.state).toBe('open');
    clock.advance(400);
    expect(cb.state).toBe('half-open');
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half-open'],
    ]);
  });

  it('are ignored while half-open: only the probe decides', () => {
    const { cb, fail, clock, changes } = breaker(1, 1_000);
    expect(cb.tryPass()).toBe('pass'); // slow, still in flight
    expect(cb.tryPass()).toBe('pass'); // slow, still in flight
    fail(1);
    clock.advance(1_000);
    expect(cb.tryPass()).toBe('probe');
    cb.record('pass', 'success');
    expect(cb.state).toBe('half-open');
    cb.record('pass', 'failure');
    expect(cb.state).toBe('half-open');
    expect(cb.tryPass()).toBeUndefined(); // the probe is still the only one
    cb.record('probe', 'success');
    expect(cb.state).toBe('closed');
    expect(changes.at(-1)).toEqual(['half-open', 'closed']);
  });
});
