/**
 * NO_PROXY matching, with the rules of curl and undici's EnvHttpProxyAgent: `*` bypasses every host; an
 * entry matches the host itself and its subdomains (a leading `.` or `*.` is dropped); `host:port` matches
 * only that port. IP entries match the same literal (brackets optional for IPv6); CIDR ranges are not
 * supported (as in undici 7).
 */
export class NoProxy {
  readonly #all: boolean;
  readonly #entries: readonly { readonly name: string; readonly port: string | undefined }[];

  constructor(entries: readonly string[]) {
    let all = false;
    const parsed: { name: string; port: string | undefined }[] = [];
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase();
      if (entry === '') continue;
      if (entry === '*') {
        all = true;
        continue;
      }
      const { name, port } = splitPort(entry);
      const bare = name.replace(/^\*?\./, '');
      if (bare !== '') parsed.push({ name: bare, port });
    }
    this.#all = all;
    this.#entries = parsed;
  }

  /** `hostname` as URL.hostname gives it (IPv6 in brackets); `port` the effective port. */
  bypasses(hostname: string, port: number): boolean {
    if (this.#all) return true;
    const host = unbracket(hostname.toLowerCase()).replace(/\.$/, '');
    for (const entry of this.#entries) {
      if (entry.port !== undefined && entry.port !== String(port)) continue;
      if (host === entry.name || host.endsWith(`.${entry.name}`)) return true;
    }
    return false;
  }
}

function splitPort(entry: string): { name: string; port: string | undefined } {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    const port = entry.slice(close + 1).startsWith(':') ? entry.slice(close + 2) : undefined;
    return { name: entry.slice(1, close), port };
  }
  const colons = entry.split(':').length - 1;
  // More than one colon: a bare IPv6 address, no port.
  if (colons !== 1) return { name: entry, port: undefined };
  const [name = '', port] = entry.split(':');
  return { name, port };
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
