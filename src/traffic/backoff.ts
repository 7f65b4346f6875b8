/**
 * Exponential backoff with full jitter (a uniformly random delay between 0 and the capped exponential),
 * which spreads retries of many clients instead of synchronising them.
 * `retry` counts from 1 (the first retry).
 */
export function fullJitterDelay(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Parses a `Retry-After` header: delta-seconds or an HTTP-date. Returns milliseconds to wait, or
 * undefined when the header is absent or unusable. `nowEpochMs` is wall-clock time (dates are absolute).
 */
export function parseRetryAfter(value: string | string[] | undefined, nowEpochMs: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (text === undefined || text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowEpochMs);
}
