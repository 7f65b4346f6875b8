/**
 * Regression: a straggler must not free or take the half-open probe slot.
 *
 * Was: the breaker did not know which request was the probe. Any request admitted earlier (while
 * closed) that ended during half-open cleared the probe slot, so a cancelled straggler let a second
 * probe through while the first was still in flight ("exactly one probe" did not hold), and a
 * straggler's success closed the circuit without the probe having answered.
 * Fixed: `tryPass()` says how it let a request through ('pass' while closed, 'probe' for the single
 * half-open probe) and `record(kind, verdict)` takes that kind back. Only a 'probe' record frees the
 * slot (and closes or re-opens the circuit); 'pass' records are ignored unless the circuit is closed.
 */
import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type AttemptVerdict } from '../../dist/src/traffic/circuit-breaker.js';
import { FakeClock } from '../fixtures/fake-clock.js';

/** Threshold 2, cool-down 1 s: one slow request in flight from before the opening, then the probe. */
function probeInFlightWithStraggler() {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker(2, 1_000, clock);
  expect(breaker.tryPass()).toBe('pass'); // a slow request, still in flight below
  for (let i = 0; i < 2; i++) {
    expect(breaker.tryPass()).toBe('pass');
    breaker.record('pass', 'failure');
  }
  expect(breaker.state).toBe('open');
  clock.advance(1_000);
  expect(breaker.tryPass()).toBe('probe'); // the probe, in flight
  return breaker;
}

describe('CircuitBreaker: a request from before the opening ends while the probe is in flight', () => {
  it('a cancelled straggler does not let a second probe through', () => {
    const breaker = probeInFlightWithStraggler();
    breaker.record('pass', 'neutral'); // the slow request from before is cancelled
    expect(breaker.tryPass()).toBeUndefined(); // still only one probe
    expect(breaker.state).toBe('half-open');
  });

  it.each<AttemptVerdict>(['success', 'failure'])(
    'a straggler %s neither frees the probe slot nor decides the circuit',
    (verdict) => {
      const breaker = probeInFlightWithStraggler();
      breaker.record('pass', verdict);
      expect(breaker.state).toBe('half-open');
      expect(breaker.tryPass()).toBeUndefined();
    },
  );

  it("the probe's own outcome still decides, after a straggler ended", () => {
    const breaker = probeInFlightWithStraggler();
    breaker.record('pass', 'neutral');
    breaker.record('probe', 'success');
    expect(breaker.state).toBe('closed');
    expect(breaker.tryPass()).toBe('pass');
  });
});
