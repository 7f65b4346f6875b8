import type { Clock } from './clock.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * A circuit breaker per host. Closed: requests flow and consecutive failures are counted; at
 * `failureThreshold` it opens. Open: requests fail fast until `cooldownMs` has passed, then it is
 * half-open: exactly one probe goes through. The probe's success closes it; its failure opens it again
 * for another cool-down.
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

  constructor(failureThreshold: number, cooldownMs: number, clock: Clock, onChange: (from: CircuitState, to: CircuitState) => void = () => {}) {
    this.failureThreshold = failureThreshold;
    this.cooldownMs = cooldownMs;
    this.#clock = clock;
    this.#onChange = onChange;
  }

  get state(): CircuitState {
    if (this.#state === 'open' && this.#clock.now() - this.#openedAt >= this.cooldownMs) this.#move('half-open');
    return this.#state;
  }

  /**
   * Asks to send a request. `true`: go (in half-open, this request is the probe). `false`: fail fast.
   */
  tryPass(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#probeInFlight) return false;
    this.#probeInFlight = true;
    return true;
  }

  /** Milliseconds until an open circuit lets a probe through (0 when not open). */
  get retryInMs(): number {
    return this.state === 'open' ? Math.max(0, this.cooldownMs - (this.#clock.now() - this.#openedAt)) : 0;
  }

  recordSuccess(): void {
    this.#failures = 0;
    this.#probeInFlight = false;
    if (this.#state !== 'closed') this.#move('closed');
  }

  recordFailure(): void {
    this.#probeInFlight = false;
    if (this.#state === 'half-open') return this.#open();
    if (this.#state === 'closed' && ++this.#failures >= this.failureThreshold) this.#open();
  }

  /** A request that passed but ended with neither verdict (cancelled): frees the probe slot. */
  recordNeutral(): void {
    this.#probeInFlight = false;
  }

  #open(): void {
    this.#failures = 0;
    this.#openedAt = this.#clock.now();
    this.#move('open');
  }

  #move(to: CircuitState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#onChange(from, to);
  }
}
