/**
 * The fast path for the job most engines send most of the time: a plain object with an absolute http(s) URL
 * and at most a method, string headers, a response type, a deadline, an id, a tenant and a profile. Such a job
 * needs no schema walk: a few type checks decide it, and what depends only on the URL's scheme and authority
 * (the parsed origin and hostname, the policy's verdict, the default header lines) is computed once per
 * distinct `scheme://authority` prefix (and per profile). The rest of the URL is taken as it is written when it
 * holds only characters the WHATWG parser leaves as they are and no dot segment (see {@link takenAsWritten});
 * any other URL is parsed whole. Anything else, or anything doubtful, returns undefined and goes through the
 * full parser (job.ts), which also gives every error: this path never refuses a job, so its errors cannot
 * drift from the schema's (test/unit/plain-job.test.ts holds the two side by side).
 */
import { DEFAULTS } from '../config/options.js';
import { FlowpoolError } from '../errors/flowpool-error.js';
import type { DestinationPolicy, PolicyVerdict } from '../policy/index.js';
import { DEFAULT_TENANT } from '../scheduling/tenants.js';
import type { JobDefaults, NormalizedJob } from './job.js';
import { HEADER_VALUE_INVALID, REFUSED_HEADERS, TOKEN } from './header-rules.js';
import { isRepeatable } from './repeatable.js';
import { addDefaultHeaders } from './request-headers.js';

/** Methods taken as they are written (either case); any other goes through the full parser. */
const METHODS: ReadonlyMap<string, string> = new Map(
  ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].flatMap((m) => [
    [m, m],
    [m.toLowerCase(), m],
  ]),
);
const MAX_URL_LENGTH = 16_384;
const MAX_DEADLINE_MS = 2_147_483_647;
/** Origins remembered at once; the table starts over when full (bounded under any flood). */
const MAX_REMEMBERED = 4_096;

/** What is the same for every plain job to one origin (one `scheme://authority` prefix as written). */
interface OriginFacts {
  readonly origin: string;
  readonly hostname: string;
  readonly verdict: PolicyVerdict;
  /** The default lines a job without headers of its own is sent with (shared, never mutated). */
  readonly defaultHeaders: readonly string[];
}

/** A prefix the parser does not take as a plain origin (credentials, no host, ...): such URLs are parsed whole. */
const PARSE_WHOLE = null;

/**
 * The characters after the authority that the WHATWG URL parser leaves exactly as written in a path and in
 * a query (none of its percent-encode sets holds them; no tab, newline, space, quote, backslash or `#`).
 */
const AS_WRITTEN = /^[/?][\w\-.~!$&()*+,;=:@/?%]*$/;
/** A dot segment (`.`, `..`, or `%2e` forms) in the path part, which the parser would remove. */
const DOT_SEGMENT = /^[^?]*\/(?:\.|%2e)/i;

/** Whether `rest` (what follows the authority) is the path and query the parser would write. */
function takenAsWritten(rest: string): boolean {
  return AS_WRITTEN.test(rest) && !DOT_SEGMENT.test(rest);
}

/** A profile as the fast path sees it: the index workers know it by, and its own per-origin facts. */
export interface PlainProfile {
  readonly index: number;
  /** Built with the profile's header defaults and policy; replaced (with its cache) when the profile is. */
  readonly plain: PlainJobs;
}

export class PlainJobs {
  readonly #defaults: JobDefaults;
  readonly #policy: DestinationPolicy;
  /** Per prefix as written (`http://Host:80` and `http://host` are two keys with the same facts). */
  readonly #prefixes = new Map<string, OriginFacts | typeof PARSE_WHOLE>();
  /** Per origin, for URLs parsed whole. */
  readonly #origins = new Map<string, OriginFacts>();
  readonly #profileNamed: ((name: string) => PlainProfile | undefined) | undefined;

  constructor(
    defaults: JobDefaults,
    policy: DestinationPolicy,
    profileNamed?: (name: string) => PlainProfile | undefined,
  ) {
    this.#defaults = defaults;
    this.#policy = policy;
    this.#profileNamed = profileNamed;
  }

  /**
   * The normalised job, or undefined when `input` is not a plain job. Throws only
   * FLOWPOOL_BLOCKED_DESTINATION, for a plain job the policy refuses.
   */
  normalize(input: unknown): NormalizedJob | undefined {
    if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype)
      return undefined;
    let fields: PlainFields | undefined;
    try {
      fields = readPlainFields(input as Record<string, unknown>);
    } catch {
      // A getter or Proxy trap threw: the full parser says so properly.
      return undefined;
    }
    if (fields === undefined) return undefined;
    // A profile's jobs take its facts (policy verdict, default headers); the full parser refuses an unknown name.
    const named = fields.profile === undefined ? undefined : this.#profileNamed?.(fields.profile);
    if (fields.profile !== undefined && named === undefined) return undefined;
    const owner = named === undefined ? this : named.plain;
    const text = fields.url;
    // After `http://` or `https://` (readPlainFields checked one of them), the authority runs to the first
    // '/', '?', '#' or '\' (the parser's own rule for special schemes).
    const start = text.charCodeAt(4) === 58 ? 7 : 8;
    let end = start;
    for (; end < text.length; end++) {
      const c = text.charCodeAt(end);
      if (c === 47 || c === 63 || c === 35 || c === 92) break;
    }
    const rest = end === text.length ? '' : text.slice(end);
    let facts = rest === '' || takenAsWritten(rest) ? owner.#prefixFacts(text.slice(0, end)) : PARSE_WHOLE;
    let href: string;
    let path: string;
    if (facts !== PARSE_WHOLE) {
      path = rest === '' ? '/' : rest.charCodeAt(0) === 63 ? `/${rest}` : rest;
      href = facts.origin + path;
    } else {
      const url = parseHttpUrl(text);
      if (url === undefined) return undefined;
      facts = owner.#facts(url);
      path = `${url.pathname}${url.search}`;
      href = url.href;
    }
    if (!facts.verdict.allowed) {
      const reason = facts.verdict.reason ?? 'blocked';
      const details = fields.id === undefined ? { reason } : { reason, jobId: fields.id };
      throw new FlowpoolError('FLOWPOOL_BLOCKED_DESTINATION', `destination blocked: ${reason}`, details);
    }
    const headers = fields.headers === undefined ? facts.defaultHeaders : this.#withDefaults(fields.headers, facts);
    if (headers === undefined) return undefined;
    const method = fields.method;
    const defaults = this.#defaults;
    const repeatable = isRepeatable(method, undefined);
    return {
      id: fields.id,
      href,
      hostname: facts.hostname,
      path,
      origin: facts.origin,
      method,
      headers,
      body: undefined,
      responseType: fields.responseType,
      timeoutMs: fields.timeoutMs ?? defaults.timeoutMs,
      maxResponseBytes: defaults.maxResponseBytes,
      followRedirects: true,
      maxRedirects: defaults.maxRedirects,
      transform: undefined,
      retry: defaults.retry,
      repeatable,
      payload: undefined,
      cookieJar: undefined,
      tenant: fields.tenant ?? DEFAULT_TENANT,
      profile: named?.index ?? 0,
      profileName: named === undefined ? undefined : fields.profile,
    };
  }

  /** The facts of a `scheme://authority` prefix as written, parsed once; PARSE_WHOLE when it is not a plain origin. */
  #prefixFacts(prefix: string): OriginFacts | typeof PARSE_WHOLE {
    const known = this.#prefixes.get(prefix);
    if (known !== undefined) return known;
    const url = parseHttpUrl(prefix);
    // No host (`http:///x` skips slashes to find one further on), or not what was written: parse such URLs whole.
    const facts = url === undefined || url.hostname === '' || url.pathname !== '/' ? PARSE_WHOLE : this.#facts(url);
    if (this.#prefixes.size >= MAX_REMEMBERED) this.#prefixes.clear();
    this.#prefixes.set(prefix, facts);
    return facts;
  }

  #facts(url: URL): OriginFacts {
    const origin = url.origin;
    const known = this.#origins.get(origin);
    if (known !== undefined) return known;
    const defaultHeaders: string[] = [];
    addDefaultHeaders(defaultHeaders, url, undefined, true, this.#defaults);
    const facts: OriginFacts = { origin, hostname: url.hostname, verdict: this.#policy.checkUrl(url), defaultHeaders };
    if (this.#origins.size >= MAX_REMEMBERED) this.#origins.clear();
    this.#origins.set(origin, facts);
    return facts;
  }

  /** The job's own header lines (checked here), then each default line whose name the job did not set. */
  #withDefaults(own: Readonly<Record<string, string>>, facts: OriginFacts): string[] | undefined {
    const headers: string[] = [];
    let bytes = 0;
    for (const name in own) {
      const value = own[name] as string;
      const lower = name.toLowerCase();
      if (!TOKEN.test(name) || REFUSED_HEADERS.has(lower) || HEADER_VALUE_INVALID.test(value)) return undefined;
      headers.push(lower, value);
      bytes += name.length + value.length + 4;
    }
    const defaults = this.#defaults;
    if (
      headers.length / 2 > (defaults.maxRequestHeaders ?? DEFAULTS.maxRequestHeaders) ||
      bytes > (defaults.maxRequestHeaderBytes ?? DEFAULTS.maxRequestHeaderBytes)
    )
      return undefined;
    const ownCount = headers.length;
    const extra = facts.defaultHeaders;
    for (let i = 0; i < extra.length; i += 2) {
      const name = extra[i] as string;
      let set = false;
      for (let j = 0; j < ownCount; j += 2) if (headers[j] === name) set = true;
      if (!set) headers.push(name, extra[i + 1] as string);
    }
    return headers;
  }
}

/** An absolute http(s) URL without credentials, or undefined (the full parser then judges the job). */
function parseHttpUrl(text: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  // Credentials in the URL, or a URL the parser rewrote beyond recognition: the full path judges it.
  if (url.username !== '' || url.password !== '' || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    return undefined;
  return url;
}

interface PlainFields {
  url: string;
  method: string;
  headers: Readonly<Record<string, string>> | undefined;
  responseType: 'text' | 'json' | 'bytes';
  timeoutMs: number | undefined;
  id: string | undefined;
  tenant: string | undefined;
  profile: string | undefined;
}

/** The fields of a plain job, or undefined at the first key or value the fast path does not take. */
function readPlainFields(input: Record<string, unknown>): PlainFields | undefined {
  if (hasUnusualKeys(input)) return undefined;
  const fields: PlainFields = {
    url: '',
    method: 'GET',
    headers: undefined,
    responseType: 'text',
    timeoutMs: undefined,
    id: undefined,
    tenant: undefined,
    profile: undefined,
  };
  let keys = 0;
  for (const key in input) {
    keys++;
    const value = input[key];
    if (value === undefined) {
      // An unknown key is refused even when undefined: the full parser names it.
      if (!KNOWN_KEYS.has(key)) return undefined;
      continue;
    }
    switch (key) {
      case 'url':
        if (typeof value !== 'string' || value.length > MAX_URL_LENGTH) return undefined;
        if (!value.startsWith('http://') && !value.startsWith('https://')) return undefined;
        fields.url = value;
        break;
      case 'method': {
        const method = typeof value === 'string' ? METHODS.get(value) : undefined;
        if (method === undefined) return undefined;
        fields.method = method;
        break;
      }
      case 'headers':
        if (!isStringRecord(value)) return undefined;
        fields.headers = value;
        break;
      case 'responseType':
        if (value !== 'text' && value !== 'json' && value !== 'bytes') return undefined;
        fields.responseType = value;
        break;
      case 'timeoutMs':
        if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_DEADLINE_MS) return undefined;
        fields.timeoutMs = value as number;
        break;
      case 'id':
        if (typeof value !== 'string' || value.length > 256) return undefined;
        fields.id = value;
        break;
      case 'tenant':
        if (typeof value !== 'string' || value.length < 1 || value.length > 128) return undefined;
        fields.tenant = value;
        break;
      case 'profile':
        if (typeof value !== 'string' || value.length > 64) return undefined;
        fields.profile = value;
        break;
      default:
        return undefined;
    }
  }
  // A non-enumerable own property is invisible to for...in but read by the schema: the full parser takes it.
  if (keys !== Object.getOwnPropertyNames(input).length) return undefined;
  return fields.url === '' ? undefined : fields;
}

const KNOWN_KEYS: ReadonlySet<string> = new Set([
  'url',
  'method',
  'headers',
  'responseType',
  'timeoutMs',
  'id',
  'tenant',
  'profile',
]);

function isStringRecord(value: unknown): value is Readonly<Record<string, string>> {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  if (hasUnusualKeys(value)) return false;
  for (const key in value) if (typeof (value as Record<string, unknown>)[key] !== 'string') return false;
  return true;
}

/**
 * Symbol keys, and the names refused in every record (config/forbidden-keys.ts): `for...in` may not report a
 * JSON-parsed own `__proto__`, so it is asked for by name. The full parser refuses them with the right error.
 */
function hasUnusualKeys(value: object): boolean {
  return (
    Object.hasOwn(value, '__proto__') ||
    Object.hasOwn(value, 'constructor') ||
    Object.hasOwn(value, 'prototype') ||
    Object.getOwnPropertySymbols(value).length > 0
  );
}
