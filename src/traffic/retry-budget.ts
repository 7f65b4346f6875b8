import type { Clock } from './clock.js';

/**
 * A retry budget per host: retries may be at most `ratio` of the requests of the last `windowMs`,
 * plus `minRetries` so a quiet host can still retry. When a host fails wholesale, this is what keeps
 * retries from multiplying its load (a retry storm). Counts live in a ring of 10 time buckets.
 */
export class RetryBudget {
  static readonly BUCKETS = 10;
  readonly ratio: number;
  readonly minRetries: number;
  readonly #bucketMs: number;
  readonly #clock: Clock;
  readonly #requests = new Float64Array(RetryBudget.BUCKETS);
  readonly #retries = new Float64Array(RetryBudget.BUCKETS);
  #bucket = 0;
  #bucketStart: number;

  constructor(ratio: number, minRetries: number, windowMs: number, clock: Clock) {
    this.ratio = ratio;
    this.minRetries = minRetries;
    this.#bucketMs = windowMs / RetryBudget.BUCKETS;
    this.#clock = clock;
    this.#bucketStart = clock.now();
  }

  /** Records a first attempt (not a retry). */
  recordRequest(): void {
    this.#advance();
    this.#requests[this.#bucket] = (this.#requests[this.#bucket] ?? 0) + 1;
  }

  /** Retries were taken within the window: forgetting the budget now would hand a failing host a fresh one. */
  get active(): boolean {
    this.#advance();
    for (let i = 0; i < RetryBudget.BUCKETS; i++) if ((this.#retries[i] ?? 0) > 0) return true;
    return false;
  }

  /** Takes one retry from the budget if it allows one; false means: do not retry. */
  tryRetry(): boolean {
    this.#advance();
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < RetryBudget.BUCKETS; i++) {
      requests += this.#requests[i] ?? 0;
      retries += this.#retries[i] ?? 0;
    }
    if (retries + 1 > this.minRetries + this.ratio * requests) return false;
    this.#retries[this.#bucket] = (this.#retries[this.#bucket] ?? 0) + 1;
    return true;
  }

  #advance(): void {
    const now = this.#clock.now();
    let steps = Math.floor((now - this.#bucketStart) / this.#bucketMs);
    if (steps <= 0) return;
    this.#bucketStart += steps * this.#bucketMs;
    if (steps > RetryBudget.BUCKETS) steps = RetryBudget.BUCKETS;
    for (let i = 0; i < steps; i++) {
      this.#bucket = (this.#bucket + 1) % RetryBudget.BUCKETS;
      this.#requests[this.#bucket] = 0;
      this.#retries[this.#bucket] = 0;
    }
  }
}
