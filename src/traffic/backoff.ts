/**
 * Exponential backoff with full jitter (a uniformly random delay between 0 and the capped exponential),
 * which spreads retries of many clients instead of synchronising them.
 * `retry` counts from 1 (the first retry).
 */
export function fullJitterDelay(
  retry: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

const HTTP_DATE: readonly RegExp[] = [
  /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/, // IMF-fixdate
  /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/, // RFC 850
  /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/, // asctime
];

/**
 * Parses a `Retry-After` header: delta-seconds or an HTTP-date. Returns milliseconds to wait, or
 * undefined when the header is absent or unusable. `nowEpochMs` is wall-clock time (dates are absolute).
 */
export function parseRetryAfter(value: string | string[] | undefined, nowEpochMs: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (text === undefined || text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only the three date shapes of RFC 9110: V8's Date.parse also reads "1.5" or "-1" as dates in 2001.
  if (!HTTP_DATE.some((shape) => shape.test(text))) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowEpochMs);
}
