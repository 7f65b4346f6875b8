/**
 * How a cluster rate becomes Redis counters. rate-limiter-flexible counts in windows of whole seconds; a
 * 1 s window lets a full second's worth start at once at each window's start, so over any 5 s a server
 * could see 6 windows' worth (rps x 1.2). Short windows fix that: `rps` 50 becomes 5 requests per 100 ms
 * window, and any interval of T ms then touches at most floor(T / slotMs) + 2 windows: at most
 * rps x T / 1000 + 2 x `points` requests (+ `points` when T is a whole number of windows: 255 in any 5 s
 * at rps 50). Windows are
 * numbered by wall-clock time (each process's own clock), so every process counts in the same window.
 */
export interface RateSlots {
  /** Requests per window. */
  readonly points: number;
  /** Window length in ms. */
  readonly slotMs: number;
  /** How long Redis keeps a window's counter (whole seconds, as rate-limiter-flexible sets it). */
  readonly keySeconds: number;
}

/** Windows of about 100 ms (longer for rates under 10/s, so that a window allows at least one request). */
export function rateSlots(rps: number): RateSlots {
  const points = Math.max(1, Math.ceil(rps / 10));
  const slotMs = (1000 * points) / rps;
  return { points, slotMs, keySeconds: Math.ceil(slotMs / 1000) + 1 };
}

/** The window `now` falls in. */
export function slotIndex(now: number, slots: RateSlots): number {
  return Math.floor(now / slots.slotMs);
}

/** Milliseconds from `now` until the next window starts. */
export function msUntilNextSlot(now: number, slots: RateSlots): number {
  return (slotIndex(now, slots) + 1) * slots.slotMs - now;
}
