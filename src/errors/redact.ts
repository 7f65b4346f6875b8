/**
 * Redaction of what must never reach an error message, a detail or a log: URL credentials (userinfo).
 * Messages quote what a caller passed so they can fix it; a URL like `https://user:token@host/` is quoted
 * as `https://***:***@host/`. Header values are never quoted at all (see `src/config/validation.ts`), so only URLs
 * need rewriting here.
 */

// scheme "://" then everything up to the LAST "@" before the path: the WHATWG parser takes the last "@" of
// the authority as the end of userinfo, so a password with a raw "@" in it is covered too. Greedy on
// purpose: redacting a little too much is fine, leaking a token is not.
const USERINFO_IN_URL = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#\s"'<>]*@/g;
// Scheme-relative form (`//user:pass@host`), which `new URL(x, base)` accepts too.
const USERINFO_SCHEME_RELATIVE = /(^|[\s"'(<])(\/\/)[^/?#\s"'<>]*@/g;

/** Replaces the userinfo of every URL-looking substring of `text` with `***:***`. */
export function redactUrlCredentials(text: string): string {
  if (!text.includes('@')) return text;
  return text.replace(USERINFO_IN_URL, '$1***:***@').replace(USERINFO_SCHEME_RELATIVE, '$1$2***:***@');
}
