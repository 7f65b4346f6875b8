/**
 * Picks the settings for a host from a table keyed by `host:port`, `host`, `*.suffix` or `*` (the
 * default): an exact host with port wins, then the exact host, then the longest matching suffix, then
 * `*`. IPv6 hosts are written as in URLs (`[::1]`, `[::1]:8080`). Compiled once.
 */
export class HostPatterns<T> {
  readonly #exact = new Map<string, T>();
  readonly #suffixes: (readonly [string, T])[] = [];
  readonly #fallback: T | undefined;

  constructor(table: Readonly<Record<string, T>>) {
    let fallback: T | undefined;
    for (const [pattern, value] of Object.entries(table)) {
      const key = pattern.toLowerCase();
      if (key === '*') fallback = value;
      else if (key.startsWith('*.')) this.#suffixes.push([key.slice(1), value]);
      else this.#exact.set(key, value);
    }
    this.#suffixes.sort((a, b) => b[0].length - a[0].length);
    this.#fallback = fallback;
  }

  /** `hostname` as `URL.hostname` gives it; `hostWithPort` as `URL.host` (port only when not default). */
  match(hostname: string, hostWithPort?: string): T | undefined {
    if (hostWithPort !== undefined && hostWithPort !== hostname) {
      const withPort = this.#exact.get(hostWithPort.toLowerCase());
      if (withPort !== undefined) return withPort;
    }
    const host = hostname.toLowerCase();
    const exact = this.#exact.get(host);
    if (exact !== undefined) return exact;
    for (const [suffix, value] of this.#suffixes) if (host.endsWith(suffix)) return value;
    return this.#fallback;
  }
}
