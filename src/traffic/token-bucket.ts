import type { Clock } from './clock.js';

/**
 * A token bucket: `rate` tokens per second, holding at most `burst`. Starts full, so a host gets its
 * burst at once and then the steady rate.
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  readonly #clock: Clock;
  /** How often `take` found no token (a job had to wait for the rate). */
  deferrals = 0;
  #tokens: number;
  #updatedAt: number;
  /** A `take` failed and its caller will come back when told: lateness is credited to it. */
  #owed = false;

  constructor(rate: number, burst: number, clock: Clock) {
    if (!(rate > 0) || !(burst >= 1)) throw new RangeError('token bucket needs rate > 0 and burst >= 1');
    this.rate = rate;
    this.burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#updatedAt = clock.now();
  }

  /**
   * Takes a token if one is there and returns 0; otherwise takes nothing and returns the milliseconds
   * until one will be. Callers that wait must call again after that time (others may have taken it).
   */
  take(): number {
    this.#refill();
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      this.#owed = false;
      return 0;
    }
    this.#owed = true;
    this.deferrals++;
    return Math.max(1, Math.ceil(((1 - this.#tokens) / this.rate) * 1000));
  }

  get available(): number {
    this.#refill();
    return this.#tokens;
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = now - this.#updatedAt;
    this.#updatedAt = now;
    // While a caller waits, its wake-up may come late: keep up to one token above the burst so the
    // lateness is credited to the next token instead of lowering the rate.
    const cap = this.#owed ? this.burst + 1 : this.burst;
    if (elapsed > 0) this.#tokens = Math.min(cap, this.#tokens + (elapsed / 1000) * this.rate);
  }
}
