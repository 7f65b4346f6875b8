// Hostname normalisation and the name rules that apply before any address is known.
//
// Loopback names are blocked by name so that the error says what happened ("loopback name") instead of a later
// "loopback address" after a resolver round trip, and so that a name a hosts file maps elsewhere is still refused.

/** Reason given when a loopback name is blocked. */
export const LOOPBACK_NAME_REASON = 'loopback name (localhost, *.localhost)';

// Loopback names of RFC 6761 plus the spellings common hosts files give ::1 and 127.0.0.1 (Debian, RHEL).
const LOOPBACK_NAMES: ReadonlySet<string> = new Set([
  'localhost',
  'localhost.localdomain',
  'localhost4',
  'localhost4.localdomain4',
  'localhost6',
  'localhost6.localdomain6',
  'ip6-localhost',
  'ip6-loopback',
]);

const LOCALHOST_SUFFIX = '.localhost';

/**
 * Normalises a hostname for comparison: strips IPv6 brackets, lower-cases, and strips one trailing dot
 * (`Example.COM.` -> `example.com`, `[::1]` -> `::1`).
 */
export function normaliseHostname(hostname: string): string {
  let h = hostname;
  const length = h.length;
  if (length >= 2 && h.charCodeAt(0) === 91 /* [ */ && h.charCodeAt(length - 1) === 93 /* ] */) {
    h = h.slice(1, -1);
  }
  h = h.toLowerCase();
  if (h.length > 1 && h.charCodeAt(h.length - 1) === 46 /* . */) h = h.slice(0, -1);
  return h;
}

/** True for a loopback name: `localhost`, `*.localhost`, `localhost.localdomain` and kin. Expects a normalised name. */
export function isLoopbackName(normalised: string): boolean {
  return LOOPBACK_NAMES.has(normalised) || normalised.endsWith(LOCALHOST_SUFFIX);
}
