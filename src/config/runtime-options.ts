/**
 * What `createRuntime` accepts: written interfaces, so the main entry's declarations carry no zod type.
 * `runtimeOptionsSchema` (options.ts) checks them and holds the defaults (DEFAULTS); the TSDoc there and here
 * says the same. test/unit/public-types.test.ts holds the two together (each assignable to the other).
 */

/** Credentials sent as `authorization`: basic (`username`, `password`) or a bearer token. */
export type AuthOptions = { username: string; password: string } | { bearer: string };

/** A job's own retry settings: any field of the runtime's `retry`, overriding it. */
export interface JobRetryOptions {
  /** Attempts in total, the first included: 1 means no retries. */
  attempts?: number;
  /** Base of the exponential backoff (full jitter). */
  minDelayMs?: number;
  /** Cap of one backoff delay. */
  maxDelayMs?: number;
  /** Statuses that are retried. */
  statuses?: number[];
  /** Error codes that are retried. */
  errorCodes?: ('FLOWPOOL_CONNECTION_FAILED' | 'FLOWPOOL_TIMEOUT' | 'FLOWPOOL_INVALID_RESPONSE')[];
}

/** A PEM certificate or key: a string, or bytes (a Buffer is a Uint8Array). */
export type Pem = string | Uint8Array;

/** TLS settings, runtime-wide (`tls`) or for the hosts of one pattern (`hostTls`). */
export interface TlsOptions {
  /** Extra trusted CA certificates (PEM), added to Node's roots unless `tlsReplaceRoots` is true. */
  ca?: Pem | Pem[];
  /** Client certificate chain (PEM) for mutual TLS; needs `key`. */
  cert?: Pem;
  /** Private key (PEM) of the client certificate. */
  key?: Pem;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  /**
   * Server name sent in SNI and checked against the certificate.
   * @default the URL's hostname (none for IP literals)
   */
  servername?: string;
  /**
   * Refuse servers whose certificate is not trusted, expired or for another name. `false` turns every check off.
   * @default true
   */
  rejectUnauthorized?: boolean;
  /**
   * Lowest TLS version offered.
   * @default 'TLSv1.2'
   */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/** Per-pattern TLS settings may also turn HTTP/2 on or off for those hosts. */
export interface HostTlsOptions extends TlsOptions {
  /**
   * Negotiate HTTP/2 (ALPN) with these hosts.
   * @default the runtime's `allowH2`
   */
  allowH2?: boolean;
}

/** Limits for the hosts of one `hostLimits` pattern. */
export interface HostLimitOptions {
  /** Requests per second (token bucket); jobs wait for a token within their deadline. */
  rps?: number;
  /** Tokens the bucket holds beyond the steady rate. */
  burst?: number;
  /** Jobs in flight to the host at once. */
  concurrency?: number;
}

/** One tenant's settings. */
export interface TenantOptions {
  /**
   * Share of an origin's dispatches while several tenants have jobs waiting for it.
   * @default 1
   */
  weight?: number;
  /**
   * Jobs of this tenant that may wait at once (over all origins).
   * @default the runtime's `maxQueue`
   */
  maxQueued?: number;
}

export interface RuntimeOptions {
  /**
   * Worker threads, each a single-thread piscina pool with its own undici Agent.
   * @default os.availableParallelism()
   */
  workers?: number;
  /**
   * Jobs in flight on one worker at once; more wait in the coordinator's queue.
   * @default 256
   */
  concurrencyPerWorker?: number;
  /**
   * Jobs that may wait; `run()` beyond it rejects with `FLOWPOOL_QUEUE_FULL` (`runMany` waits instead).
   * @default 50000
   */
  maxQueue?: number;
  /**
   * Open connections to one origin, summed over ALL workers. Extra jobs wait their turn.
   * @default 100
   */
  connectionsPerHost?: number;
  /**
   * How long an idle keep-alive connection is kept; a server's `Keep-Alive: timeout=N` may lower it.
   * @default 90000
   */
  keepAliveTimeoutMs?: number;
  /**
   * Time allowed to open a connection (TCP and TLS).
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * Time allowed from sending the request to receiving the response headers.
   * @default 30000
   */
  headersTimeoutMs?: number;
  /**
   * Total deadline of a job, body included, from the moment it is submitted (or, for a job submitted while
   * the workers start, from the moment a worker can take it: see `startupTimeoutMs`). A job may lower it.
   * @default 60000
   */
  timeoutMs?: number;
  /**
   * How long a job submitted right after `createRuntime` may wait for the workers to start before its own
   * `timeoutMs` begins; past it, the job fails with FLOWPOOL_TIMEOUT, phase `startup`.
   * @default 30000
   */
  startupTimeoutMs?: number;
  /**
   * Largest response body a job may receive, after decompression. A job may lower or raise it.
   * @default 10485760 (10 MiB)
   */
  maxResponseBytes?: number;
  /**
   * Largest total size of response headers.
   * @default 16384
   */
  maxHeaderBytes?: number;
  /**
   * Request header lines a job may send at most (an array value counts one line per item).
   * @default 100
   */
  maxRequestHeaders?: number;
  /**
   * Total size of a job's request header lines (name, value, ": " and CRLF each) at most, in bytes.
   * @default 16384
   */
  maxRequestHeaderBytes?: number;
  /**
   * Redirects followed per job at most (every hop is checked by the policy).
   * @default 5
   */
  maxRedirects?: number;
  /**
   * Destination rules: hostnames, `*.suffix` wildcards, IPs or CIDRs. Deny wins, then allow, then the
   * default: public unicast addresses only.
   * @default { allow: [], deny: [] }
   */
  policy?: { allow?: string[]; deny?: string[] };
  /**
   * Static name -> addresses overrides, like curl's `--resolve`. The policy still checks the addresses.
   * @default {}
   */
  resolve?: Record<string, string[]>;
  /**
   * `affinity` keeps each origin on one worker under the global cap; `least-busy` is a comparison baseline.
   * @default 'affinity'
   */
  balancing?: 'affinity' | 'least-busy';
  /**
   * Base a job's relative `url` is resolved against (WHATWG rules). A job's own `baseUrl` wins.
   * @default undefined (job URLs must be absolute)
   */
  baseUrl?: string;
  /**
   * Named transforms: name -> absolute path or `file:` URL of an ES module whose default export transforms a
   * body in the worker.
   * @default {}
   */
  transforms?: Record<string, string>;
  /**
   * V8 heap limits of each worker thread; a worker over them is replaced.
   * @default { maxYoungGenerationSizeMb: 6 } (Node's defaults otherwise)
   */
  workerResourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; stackSizeMb?: number };
  /**
   * Retries for every job (a job's own `retry` overrides field by field); idempotent jobs only.
   * @default { attempts: 1, minDelayMs: 100, maxDelayMs: 10000, statuses: [429, 502, 503, 504], errorCodes: ['FLOWPOOL_CONNECTION_FAILED'] }
   */
  retry?: JobRetryOptions;
  /**
   * Retries to a host at most `ratio` x its requests of the last `windowMs`, plus `minRetries`.
   * @default { ratio: 0.2, minRetries: 10, windowMs: 10000 }
   */
  retryBudget?: { ratio?: number; minRetries?: number; windowMs?: number };
  /**
   * Per-host limits keyed by host, `*.suffix` or `*` (every other host).
   * @default {}
   */
  hostLimits?: Record<string, HostLimitOptions>;
  /**
   * Circuit breaker per host; off unless given.
   * @default false
   */
  circuitBreaker?: false | { failureThreshold?: number; cooldownMs?: number; failOn5xx?: boolean };
  /**
   * Origins the coordinator tracks at once; idle ones without sockets are forgotten first.
   * @default 10000
   */
  maxOrigins?: number;
  /**
   * TLS for every HTTPS origin (and an https: proxy).
   * @default {} (Node's roots, verification on, TLS 1.2 or later)
   */
  tls?: TlsOptions;
  /**
   * Trust only `tls.ca` (and a host pattern's own `ca`), not Node's bundled roots.
   * @default false
   */
  tlsReplaceRoots?: boolean;
  /**
   * TLS settings per host pattern (matched like `hostLimits`), merged over `tls` key by key.
   * @default {}
   */
  hostTls?: Record<string, HostTlsOptions>;
  /**
   * Egress proxy: a URL (`http://user:pass@proxy:3128`), `'env'` (curl's rules: `http_proxy` for http:,
   * `https_proxy` then `HTTPS_PROXY` for https:, `no_proxy` then `NO_PROXY`; never `HTTP_PROXY`) or false.
   * @default false
   */
  proxy?: false | string;
  /**
   * Hosts reached directly despite `proxy` (NO_PROXY syntax).
   * @default []
   */
  noProxy?: string[];
  /**
   * Negotiate HTTP/2 over TLS (ALPN), falling back to HTTP/1.1.
   * @default false
   */
  allowH2?: boolean;
  /**
   * Headers sent with every job, under the job's own.
   * @default {}
   */
  headers?: Record<string, string>;
  /**
   * Headers per host pattern, over `headers`, under the job's.
   * @default {}
   */
  hostHeaders?: Record<string, Record<string, string>>;
  /**
   * Credentials per host pattern, for jobs without `auth` or an `authorization` header.
   * @default {}
   */
  hostAuth?: Record<string, AuthOptions>;
  /**
   * Tenants by name (a job's `tenant`); `default` applies to every tenant not listed.
   * @default {} (every tenant weight 1, capped only by `maxQueue`)
   */
  tenants?: Record<string, TenantOptions>;
  /**
   * The label sets of the Prometheus metrics (`runtime.metrics()`), so their cardinality is the caller's
   * choice. `origin`: label per-host series by `origin` (scheme, host and port), by `host` (the host name
   * alone) or not at all (`false`). `tenant`: label per-tenant series by tenant, or not. `maxLabelValues`:
   * distinct values each label takes at most; values seen after that many are counted under `other`.
   * @default { origin: 'origin', tenant: true, maxLabelValues: 100 }
   */
  metrics?: MetricsOptions;
  /**
   * Named sets of transport settings a job picks with `job.profile` (per credential or per tenant what the
   * options above set for the whole runtime). A field a profile gives replaces the runtime's; a field it
   * leaves out is the runtime's. `runtime.setProfile(name, settings)` adds or replaces one while running.
   * @default {}
   */
  profiles?: Record<string, ProfileSettings>;
}

/**
 * One profile (see {@link RuntimeOptions.profiles}): each field as the runtime option of the same name. A
 * field left out is the runtime's.
 */
export interface ProfileSettings {
  /** @default the runtime's `tls` */
  tls?: TlsOptions;
  /** @default the runtime's `hostTls` */
  hostTls?: Record<string, HostTlsOptions>;
  /** @default the runtime's `proxy` */
  proxy?: false | string;
  /** @default the runtime's `noProxy` */
  noProxy?: string[];
  /** Destination rules for this profile's jobs and every redirect they follow. @default the runtime's `policy` */
  policy?: { allow?: string[]; deny?: string[] };
  /** @default the runtime's `hostAuth` */
  hostAuth?: Record<string, AuthOptions>;
  /** @default the runtime's `headers` */
  headers?: Record<string, string>;
  /** @default the runtime's `hostHeaders` */
  hostHeaders?: Record<string, Record<string, string>>;
  /** @default the runtime's `allowH2` */
  allowH2?: boolean;
}

/** The label sets of the Prometheus metrics (see {@link RuntimeOptions.metrics}). */
export interface MetricsOptions {
  /** @default 'origin' */
  origin?: 'host' | 'origin' | false;
  /** @default true */
  tenant?: boolean;
  /** @default 100 */
  maxLabelValues?: number;
}

/**
 * The options in force (`runtime.options`): every option decided, defaults filled in (`baseUrl` stays
 * optional). Nested settings are typed as given; the runtime fills in their defaults too.
 */
export type ResolvedRuntimeOptions = Readonly<Required<Omit<RuntimeOptions, 'baseUrl'>>> &
  Readonly<Pick<RuntimeOptions, 'baseUrl'>>;
