/**
 * Where a template's value may land in a URL (issue 21). The origin (scheme, host, port) is configuration:
 * a template may stand there only as the whole start of the URL and only from a `const` / `variable` value
 * (a base URL set by a context node). Data (`input`, `nodes.*`) lands only after the origin, in the path,
 * query or fragment, URL-encoded, so no value from a response can change where a request goes. This file
 * is the run-time half (pure, no imports); url-template-rule.ts is the validation half.
 */

/** The kinds of template reference (templates.ts): only the configuration kinds may write an origin. */
export type ReferenceKind = 'input' | 'node' | 'variable' | 'const';

/**
 * True while the text written so far has not reached the end of a URL's authority (no `/`, `?` or `#` after
 * `://`, or no `://` yet): a value written now would be part of the scheme, host or port.
 */
export function inOrigin(written: string): boolean {
  const scheme = written.indexOf('://');
  if (scheme === -1) return true;
  return !/[/?#]/.test(written.slice(scheme + 3));
}

/** True when a reference of this kind is configuration (may start a URL), not data. */
export function isConfigReference(kind: ReferenceKind): boolean {
  return kind === 'const' || kind === 'variable';
}

/**
 * Why a value cannot be written after `before` in a URL, or undefined when it can. In the origin only a
 * configuration value at the very start passes (written as is); after it, values are URL-encoded, which
 * neutralises everything but a whole `.` / `..` path segment (URL parsing resolves it, even as %2e).
 */
export function urlPlacementProblem(before: string, value: string, kind: ReferenceKind): string | undefined {
  if (inOrigin(before)) {
    if (before === '' && isConfigReference(kind)) return undefined;
    return before === ''
      ? "data cannot choose the URL's origin: only a {{ const.* }} or {{ variable.* }} template may start a URL"
      : "a value cannot be written into the URL's scheme, host or port: put templates in the path or query";
  }
  if ((value === '.' || value === '..') && !/[?#]/.test(before))
    return `the value "${value}" would move the URL's path`;
  return undefined;
}
