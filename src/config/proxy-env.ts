/**
 * `proxy: 'env'`: which environment variable serves which target scheme, and what a value may be. The rules
 * are curl's (libcurl-env(3), curl_getenv):
 * - http: targets read `http_proxy`, lower case only. `HTTP_PROXY` is never read: under CGI (and any server
 *   that maps request headers to `HTTP_*` variables) a client's `Proxy:` header becomes `HTTP_PROXY`
 *   ("httpoxy"), which would let a stranger pick the proxy that sees every plain-HTTP job.
 * - https: targets read `https_proxy`, then `HTTPS_PROXY`. No fallback to the http one (curl has none).
 * - `no_proxy`, then `NO_PROXY`.
 * - A variable set to the empty string (or blanks) counts as unset, as in curl: an empty `https_proxy` does
 *   not hide a set `HTTPS_PROXY`.
 * - `ALL_PROXY` is not read (it commonly names a socks5:// proxy, which flowpool cannot use).
 * A value without `://` is `http://` + value (curl's default scheme), so `localhost:3128` is
 * `http://localhost:3128/`. Any other scheme, a value that is no URL, a URL without a host or with a path,
 * query or credentials-only form is refused at `createRuntime` naming the variable; the value itself is
 * never quoted (it may hold a password).
 */
import { FlowpoolError } from '../errors/flowpool-error.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface EnvProxies {
  /** Normalised proxy URL (`href`) for http: targets, if any. */
  readonly http: string | undefined;
  /** Normalised proxy URL (`href`) for https: targets, if any. */
  readonly https: string | undefined;
  /** NO_PROXY entries, split on commas and blanks. */
  readonly noProxy: readonly string[];
}

/** Reads the proxy variables of `env` by curl's rules; throws FLOWPOOL_INVALID_OPTIONS on a bad value. */
export function proxiesFromEnv(env: Env): EnvProxies {
  const http = firstSet(env, ['http_proxy']);
  const https = firstSet(env, ['https_proxy', 'HTTPS_PROXY']);
  const noProxy = firstSet(env, ['no_proxy', 'NO_PROXY']);
  return {
    http: http === undefined ? undefined : normaliseProxyUrl(http.name, http.value),
    https: https === undefined ? undefined : normaliseProxyUrl(https.name, https.value),
    noProxy: (noProxy?.value ?? '').split(/[\s,]+/).filter((entry) => entry !== ''),
  };
}

function firstSet(env: Env, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

/** `host:port` -> `http://host:port/`; only http: and https: proxies with a host and no path pass. */
export function normaliseProxyUrl(variable: string, value: string): string {
  const withScheme = value.includes('://') ? value : `http://${value}`;
  const refuse = (received: string): never => {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_OPTIONS',
      `invalid options: proxy: 'env' expected ${variable} to hold an http:// or https:// proxy URL ` +
        `(or host:port, read as http://host:port), received ${received} (value not shown: it may hold a password)`,
      { field: 'options.proxy', variable },
    );
  };
  if (!URL.canParse(withScheme)) return refuse('a value that is not a URL');
  const url = new URL(withScheme);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return refuse(`a ${url.protocol} URL`);
  if (url.hostname === '') return refuse('a URL without a host');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') return refuse('a URL with a path or query');
  return url.href;
}
