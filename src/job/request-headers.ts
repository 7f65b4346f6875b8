/**
 * The headers a job is sent with, beyond its own: the runtime's `headers`, the host pattern's
 * `hostHeaders`, credentials (`auth` on the job, else `hostAuth`: over https only unless the key says
 * `http://`), and the defaults `user-agent` and
 * `accept-encoding`. Applied once, on the main thread, when the job is normalised. A job's own header of
 * the same name always wins. Credentials ride as `authorization`, which a redirect to another origin drops
 * (src/worker/request/redirects.ts, nextHop), so they never leave the origin they were meant for.
 */
import { readFileSync } from 'node:fs';
import type { AuthSettings } from '../config/transport-options.js';
import { HostPatterns } from '../policy/host-patterns.js';

/** What the runtime options contribute (a subset of ResolvedOptions). */
export interface HeaderDefaults {
  readonly headers?: Readonly<Record<string, string>>;
  readonly hostHeaders?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly hostAuth?: Readonly<Record<string, AuthSettings>>;
}

/** The decoders the worker runs (response-reader.ts), each within the decoded-size limit. */
export const DEFAULT_ACCEPT_ENCODING = 'gzip, deflate, br';
export const DEFAULT_USER_AGENT = `flowpool/${packageVersion()}`;

/** Compiled pattern tables, per options object (options are parsed once per runtime). */
const compiledHeaders = new WeakMap<object, HostPatterns<Readonly<Record<string, string>>>>();
const compiledAuth = new WeakMap<object, SchemeAuth>();

/**
 * Appends to `headers` (flat `[name, value, ...]`, names lower-case, the job's own already in it) whatever
 * the defaults add. `decompress: false` sends no accept-encoding.
 */
export function addDefaultHeaders(
  headers: string[],
  url: URL,
  auth: AuthSettings | undefined,
  decompress: boolean,
  defaults: HeaderDefaults,
): void {
  const present = new Set<string>();
  for (let i = 0; i < headers.length; i += 2) present.add(headers[i] ?? '');
  const add = (name: string, value: string): void => {
    const lower = name.toLowerCase();
    if (present.has(lower)) return;
    present.add(lower);
    headers.push(lower, value);
  };
  const credentials = auth ?? matchAuth(url, defaults.hostAuth);
  if (credentials !== undefined) add('authorization', authorizationValue(credentials));
  const forHost = matchHeaders(url, defaults.hostHeaders);
  if (forHost !== undefined) for (const [name, value] of Object.entries(forHost)) add(name, value);
  if (defaults.headers !== undefined) for (const [name, value] of Object.entries(defaults.headers)) add(name, value);
  add('user-agent', DEFAULT_USER_AGENT);
  if (decompress) add('accept-encoding', DEFAULT_ACCEPT_ENCODING);
}

export function authorizationValue(auth: AuthSettings): string {
  if ('bearer' in auth) return `Bearer ${auth.bearer}`;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
}

function matchHeaders(url: URL, table: HeaderDefaults['hostHeaders']): Readonly<Record<string, string>> | undefined {
  if (table === undefined || Object.keys(table).length === 0) return undefined;
  let patterns = compiledHeaders.get(table);
  if (patterns === undefined) compiledHeaders.set(table, (patterns = new HostPatterns(table)));
  return patterns.match(url.hostname, url.host);
}

/**
 * `hostAuth` keys without a scheme (or with `https://`) apply to https: URLs only; a key that names `http://`
 * applies to http: URLs (and only to them). A stranger who types `http://` in a URL never gets a credential
 * meant for TLS sent in clear (issue 21).
 */
interface SchemeAuth {
  readonly secure: HostPatterns<AuthSettings>;
  readonly plain: HostPatterns<AuthSettings>;
}

function matchAuth(url: URL, table: HeaderDefaults['hostAuth']): AuthSettings | undefined {
  if (table === undefined || Object.keys(table).length === 0) return undefined;
  let patterns = compiledAuth.get(table);
  if (patterns === undefined) compiledAuth.set(table, (patterns = compileAuth(table)));
  const forScheme = url.protocol === 'https:' ? patterns.secure : url.protocol === 'http:' ? patterns.plain : undefined;
  return forScheme?.match(url.hostname, url.host);
}

function compileAuth(table: Readonly<Record<string, AuthSettings>>): SchemeAuth {
  const secure: Record<string, AuthSettings> = {};
  const plain: Record<string, AuthSettings> = {};
  for (const [key, auth] of Object.entries(table)) {
    const lower = key.toLowerCase();
    if (lower.startsWith('http://')) plain[lower.slice('http://'.length)] = auth;
    else secure[lower.startsWith('https://') ? lower.slice('https://'.length) : lower] = auth;
  }
  return { secure: new HostPatterns(secure), plain: new HostPatterns(plain) };
}

function packageVersion(): string {
  // dist/src/job/request-headers.js, or src/job/request-headers.ts under vitest: package.json at the package root.
  for (const relative of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'flowpool' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not there: try the next place
    }
  }
  return '0.0.0';
}
