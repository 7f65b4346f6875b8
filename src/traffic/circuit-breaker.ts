import type { Clock } from './clock.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * How a request got through: `pass` while the circuit was closed, `probe` as the single request a
 * half-open circuit lets through. The caller reports the outcome with the same kind, so a straggler
 * admitted before the circuit opened can never be taken for the probe.
 */
export type PassKind = 'pass' | 'probe';

export type AttemptVerdict = 'success' | 'failure' | 'neutral';

/**
 * A circuit breaker per host. Closed: requests flow and consecutive failures are counted; at
 * `failureThreshold` it opens. Open: requests fail fast until `cooldownMs` has passed, then it is
 * half-open: exactly one probe goes through. The probe's success closes it; its failure opens it again
 * for another cool-down; a neutral end (cancelled, never sent) frees the probe slot for another one.
 */
export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  readonly #clock: Clock;
  readonly #onChange: (from: CircuitState, to: CircuitState) => void;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probeInFlight = false;

  constructor(
    failureThreshold: number,
    cooldownMs: number,
    clock: Clock,
    onChange: (from: CircuitState, to: CircuitState) => void = () => {},
  ) {
    this.failureThreshold = failureThreshold;
    this.cooldownMs = cooldownMs;
    this.#clock = clock;
    this.#onChange = onChange;
  }

  get state(): CircuitState {
    if (this.#state === 'open' && this.#clock.now() - this.#openedAt >= this.cooldownMs) this.#move('half-open');
    return this.#state;
  }

  /** Asks to send a request: how it passes, or `undefined` to fail fast. */
  tryPass(): PassKind | undefined {
    const state = this.state;
    if (state === 'closed') return 'pass';
    if (state === 'open' || this.#probeInFlight) return undefined;
    this.#probeInFlight = true;
    return 'probe';
  }

  /** Milliseconds until an open circuit lets a probe through (0 when not open). */
  get retryInMs(): number {
    return this.state === 'open' ? Math.max(0, this.cooldownMs - (this.#clock.now() - this.#openedAt)) : 0;
  }

  /** Reports how a request admitted as `kind` ended. */
  record(kind: PassKind, verdict: AttemptVerdict): void {
    if (kind === 'probe') {
      this.#probeInFlight = false;
      if (verdict === 'success') this.#move('closed');
      else if (verdict === 'failure') this.#open();
      return;
    }
    // A request admitted while closed: it only counts while the circuit is still closed.
    if (this.#state !== 'closed' || verdict === 'neutral') return;
    if (verdict === 'success') this.#failures = 0;
    else if (++this.#failures >= this.failureThreshold) this.#open();
  }

  #open(): void {
    this.#failures = 0;
    this.#openedAt = this.#clock.now();
    this.#move('open');
  }

  #move(to: CircuitState): void {
    const from = this.#state;
    if (from === to) return;
    if (to === 'closed') this.#failures = 0;
    this.#state = to;
    this.#onChange(from, to);
  }
}
