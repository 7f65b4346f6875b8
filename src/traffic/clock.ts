/** Monotonic milliseconds. Injected so the traffic rules are tested without sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };
