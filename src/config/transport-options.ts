/**
 * Transport options: TLS (runtime-wide and per host pattern), the egress proxy, HTTP/2, default headers and
 * auth. Spread into `runtimeOptionsSchema`; `transportBootData` turns the parsed options into the plain data
 * a worker builds its connectors from (once, at load).
 */
import { z } from 'zod';
import { proxiesFromEnv } from './proxy-env.js';
import type { WorkerTransport } from '../wire/protocol.js';

/**
 * Validation messages for secrets say "received" themselves, so the shared formatter (src/config/validation.ts)
 * does not quote the value.
 */
const HIDDEN = '(received value not shown: it may be a secret)';

/** A PEM certificate or key: a string, or bytes (a Buffer is a Uint8Array). */
const pem = z.union([
  z.string().min(1),
  // Any Uint8Array (z.instanceof would type it as Uint8Array<ArrayBuffer>, narrower than what is accepted).
  z.custom<Uint8Array>((value) => value instanceof Uint8Array, { error: 'expected a PEM string or bytes (a Buffer)' }),
]);

/** Same forms as `hostLimits` keys, matched the same way (see src/policy/host-patterns.ts). */
export const hostPatternKey = z.string().regex(/^(\*|(\*\.)?[A-Za-z0-9.-]+(:\d+)?|\[[0-9A-Fa-f:.]+\](:\d+)?)$/, {
  error: 'expected a host, host:port, [IPv6], a *.suffix wildcard or * (the default)',
});

/** A `hostAuth` key: a host pattern, optionally naming its scheme (`http://` lets it go over plain HTTP). */
export const hostAuthKey = z
  .string()
  .regex(/^(https?:\/\/)?(\*|(\*\.)?[A-Za-z0-9.-]+(:\d+)?|\[[0-9A-Fa-f:.]+\](:\d+)?)$/i, {
    error:
      'expected a host pattern as in hostLimits, optionally prefixed with http:// (to allow plain HTTP) or https://',
  });

/** TLS settings, runtime-wide (`tls`) or for the hosts of one pattern (`hostTls`). */
export const tlsSettingsSchema = z.strictObject({
  /** Extra trusted CA certificates (PEM), added to Node's roots unless `tlsReplaceRoots` is true. */
  ca: z.union([pem, z.array(pem).min(1).max(1000)]).optional(),
  /** Client certificate chain (PEM) for mutual TLS; needs `key`. */
  cert: pem.optional(),
  /** Private key (PEM) of the client certificate. */
  key: pem.optional(),
  /** Passphrase of an encrypted `key`. */
  passphrase: z
    .string()
    .max(1024, { error: `expected at most 1024 characters ${HIDDEN}` })
    .optional(),
  /**
   * Server name sent in SNI and checked against the certificate.
   * @default the URL's hostname (none for IP literals)
   */
  servername: z.string().min(1).max(253).optional(),
  /**
   * Refuse servers whose certificate is not trusted, expired or for another name. `false` turns every check
   * off (like curl -k): a man in the middle then reads and changes everything.
   * @default true
   */
  rejectUnauthorized: z.boolean().optional(),
  /**
   * Lowest TLS version offered.
   * @default 'TLSv1.2'
   */
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).optional(),
});

/** Per-pattern TLS settings may also turn HTTP/2 on or off for those hosts. */
export const hostTlsSettingsSchema = tlsSettingsSchema.extend({
  /**
   * Negotiate HTTP/2 (ALPN) with these hosts.
   * @default the runtime's `allowH2`
   */
  allowH2: z.boolean().optional(),
});

/** Credentials sent as `authorization`: basic (username, password) or a bearer token. */
export const authSchema = z.union([
  z.strictObject({
    username: z
      .string()
      .max(1024, { error: `expected at most 1024 characters ${HIDDEN}` })
      .refine((u) => !u.includes(':'), { error: `expected a username without ":" ${HIDDEN}` }),
    password: z.string().max(4096, { error: `expected at most 4096 characters ${HIDDEN}` }),
  }),
  z.strictObject({
    bearer: z
      .string()
      .min(1, { error: `expected a non-empty token ${HIDDEN}` })
      .max(16_384, { error: `expected at most 16384 characters ${HIDDEN}` }),
  }),
]);

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'expected a header name token' });
const headerValue = z.string().refine((v) => !/[\r\n\0]/.test(v), {
  error: `expected a header value without CR, LF or NUL ${HIDDEN}`,
});
export const headerTable = z.record(headerName, headerValue);

export const proxyUrl = z
  .string()
  .max(2048, { error: `expected at most 2048 characters ${HIDDEN}` })
  .refine((value) => URL.canParse(value), {
    error: `expected a proxy URL (http://host:port), 'env' or false ${HIDDEN}`,
    abort: true,
  })
  .refine((value) => ['http:', 'https:'].includes(new URL(value).protocol), {
    error: `expected an http: or https: proxy URL ${HIDDEN}`,
  });

export const noProxyEntry = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[^\s,]+$/, { error: 'expected one host entry (no spaces or commas)' });

/** Schema shape spread into the runtime options (src/config/options.ts). */
export const transportOptionsShape = {
  /**
   * TLS for every HTTPS origin (and an https: proxy). Certificates are loaded once per worker.
   * @default {} (Node's roots, verification on, TLS 1.2 or later)
   */
  tls: tlsSettingsSchema.default({}),
  /**
   * Trust only `tls.ca` (and a host pattern's own `ca`), not Node's bundled roots.
   * @default false
   */
  tlsReplaceRoots: z.boolean().default(false),
  /**
   * TLS settings per host pattern (same keys and matching as `hostLimits`), merged over `tls` key by key;
   * `allowH2` may be set per pattern too.
   * @default {}
   */
  hostTls: z.record(hostPatternKey, hostTlsSettingsSchema).default({}),
  /**
   * Egress proxy: a URL (`http://user:pass@proxy:3128`), `'env'` (read when the runtime is created, by curl's
   * rules: `http_proxy` in lower case only for http: targets, `https_proxy` then `HTTPS_PROXY` for https:,
   * `no_proxy` then `NO_PROXY`; empty counts as unset; `host:port` means `http://host:port`; any scheme but
   * http: or https: is FLOWPOOL_INVALID_OPTIONS naming the variable) or false (direct). HTTPS goes through CONNECT, plain
   * HTTP in absolute form. The policy still judges every target before anything is sent to the proxy.
   * @default false
   */
  proxy: z.union([z.literal(false), z.literal('env'), proxyUrl]).default(false),
  /**
   * Hosts reached directly despite `proxy` (NO_PROXY syntax: `host`, `.suffix`, `*.suffix`, `host:port`,
   * `*` for all). Added to NO_PROXY in `'env'` mode.
   * @default []
   */
  noProxy: z.array(noProxyEntry).max(10_000).default([]),
  /**
   * Negotiate HTTP/2 over TLS (ALPN), falling back to HTTP/1.1. With h2 a worker keeps one session per
   * origin (streams multiplexed on it), and that session is the "connection" `connectionsPerHost` counts.
   * @default false
   */
  allowH2: z.boolean().default(false),
  /**
   * Headers sent with every job, under the job's own (a job's header of the same name wins). Besides
   * these, `user-agent: flowpool/<version>` and `accept-encoding: gzip, deflate, br` are sent unless a
   * job or this table sets them.
   * @default {}
   */
  headers: headerTable.default({}),
  /**
   * Headers per host pattern (same matching as `hostLimits`), over `headers`, under the job's.
   * @default {}
   */
  hostHeaders: z.record(hostPatternKey, headerTable).default({}),
  /**
   * Credentials per host pattern, used when a job has no `auth` and no `authorization` header of its own.
   * Sent over https only: a key without a scheme (or with `https://`) never applies to an `http:` URL. To
   * send a credential in clear, name the scheme in the key (`'http://intranet.test:8080'`): such a key
   * applies to http: URLs only. Never sent to another origin on a redirect.
   * @default {}
   */
  hostAuth: z.record(hostAuthKey, authSchema).default({}),
};

/** The transport options alone (for their types; the runtime parses them inside runtimeOptionsSchema). */
export const transportOptionsSchema = z.object(transportOptionsShape);
export type TransportOptions = z.output<typeof transportOptionsSchema>;
export type AuthSettings = z.output<typeof authSchema>;
export type TlsSettings = z.output<typeof tlsSettingsSchema>;

/** The plain data a worker needs to build its TLS connectors and proxy route (see WorkerTransport). */
export function transportBootData(
  options: TransportOptions,
  env: Readonly<Record<string, string | undefined>> = process.env,
): WorkerTransport {
  return {
    tls: options.tls,
    tlsReplaceRoots: options.tlsReplaceRoots,
    hostTls: options.hostTls,
    allowH2: options.allowH2,
    proxy: resolveProxy(options.proxy, options.noProxy, env),
  };
}

/**
 * The proxy route: one URL per scheme and the bypass list. `'env'` follows curl (see proxy-env.ts): lower-case
 * `http_proxy` only for http:, `https_proxy` then `HTTPS_PROXY` for https:, empty counts as unset, `host:port`
 * means `http://host:port`, other schemes are refused here, at `createRuntime`. The worker gets normalised URLs.
 */
export function resolveProxy(
  proxy: TransportOptions['proxy'],
  noProxy: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): WorkerTransport['proxy'] {
  if (proxy === false) return undefined;
  if (proxy !== 'env') return { http: proxy, https: proxy, noProxy: [...noProxy] };
  const fromEnv = proxiesFromEnv(env);
  if (fromEnv.http === undefined && fromEnv.https === undefined) return undefined;
  return {
    ...(fromEnv.http === undefined ? {} : { http: fromEnv.http }),
    ...(fromEnv.https === undefined ? {} : { https: fromEnv.https }),
    noProxy: [...fromEnv.noProxy, ...noProxy],
  };
}
