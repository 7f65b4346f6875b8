/** What a job's method and header lines may be: the rules both the full parser and the plain-job path apply. */

export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * undici's own rule for a header value (RFC 9110 field-value: visible ASCII, space, tab, obs-text): any
 * other character (a control character such as `\v`, `\x01` or DEL, anything above U+00FF) makes undici
 * throw when the request is dispatched, in the worker, where it would count as a connection failure,
 * be retried and feed the host's circuit breaker. Refused here instead, before anything is queued.
 */
export const HEADER_VALUE_INVALID = /[^\t\x20-\x7e\x80-\xff]/;
/**
 * Methods refused outright: CONNECT turns the connection into a tunnel (a proxy to anywhere), TRACE and
 * TRACK echo requests back (cross-site tracing).
 */
export const REFUSED_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'TRACE', 'TRACK']);

/**
 * Headers flowpool or undici own: they describe the connection or the framing, and letting a stranger set
 * them invites request smuggling (`transfer-encoding`, `content-length`) or virtual-host tricks (`host`).
 */
export const REFUSED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
  'expect',
]);
