/**
 * Redirect hops, judged in the worker: whether a response is a redirect to follow, and the next hop's
 * request (checked by the policy; credentials dropped across origins; 303, and 301/302 after POST, turned
 * into a bodiless GET as browsers do).
 */
import { FlowpoolError } from '../../errors/flowpool-error.js';
import type { DestinationPolicy } from '../../policy/index.js';
import type { HopRequest } from '../../wire/protocol.js';

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** Headers that must not follow a redirect to another origin: they carry the caller's identity. */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'proxy-authorization']);
/** Body-describing headers dropped when a redirect turns the request into a bodiless GET. */
const BODY_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-encoding',
  'content-language',
  'content-location',
]);

/** One request of a job: its own, or a redirect hop. */
export interface Hop extends HopRequest {
  /** Parsed only once a redirect needs it: the first hop travels as origin + path. */
  readonly url: URL | undefined;
}

export function isRedirectStatus(status: number): boolean {
  return REDIRECT_STATUSES.has(status);
}

/** Whether following `status` would send `hop`'s body again: a streamed body was read once and cannot be. */
export function resendsBody(hop: Hop, status: number): boolean {
  return status === 307 || status === 308 || ((status === 301 || status === 302) && hop.method !== 'POST');
}

export function nextHop(hop: Hop, status: number, location: string, policy: DestinationPolicy): Hop {
  const base = hop.url ?? hopUrl(hop);
  if (!URL.canParse(location, base.href)) {
    throw new FlowpoolError('FLOWPOOL_BLOCKED_DESTINATION', 'redirect to an invalid URL', {
      reason: 'invalid redirect location',
    });
  }
  const url = new URL(location, base);
  const verdict = policy.checkUrl(url);
  if (!verdict.allowed) {
    throw new FlowpoolError('FLOWPOOL_BLOCKED_DESTINATION', `redirect blocked: ${verdict.reason ?? 'blocked'}`, {
      reason: verdict.reason ?? 'blocked',
    });
  }
  const toGet = status === 303 || ((status === 301 || status === 302) && hop.method === 'POST');
  const crossOrigin = url.origin !== hop.origin;
  const headers: string[] = [];
  for (let i = 0; i < hop.headers.length; i += 2) {
    const name = hop.headers[i] ?? '';
    if (crossOrigin && CREDENTIAL_HEADERS.has(name)) continue;
    if (toGet && BODY_HEADERS.has(name)) continue;
    headers.push(name, hop.headers[i + 1] ?? '');
  }
  return {
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    url,
    method: toGet && hop.method !== 'HEAD' ? 'GET' : hop.method,
    headers,
    body: toGet ? undefined : hop.body,
  };
}

/**
 * The hop's URL. Joined as text, never resolved as a reference against the origin: a path that starts with
 * `//` (`http://a.test//b.test/x`) would resolve to another host.
 */
export function hopUrl(hop: { readonly origin: string; readonly path: string }): URL {
  return new URL(`${hop.origin}${hop.path}`);
}

/** The hop as it crosses back to the main thread: without its URL object, which structured clone refuses. */
export function wireHop(hop: Hop): HopRequest {
  return { origin: hop.origin, path: hop.path, method: hop.method, headers: hop.headers, body: hop.body };
}
