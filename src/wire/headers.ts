/**
 * Response headers cross the thread boundary as ONE string, `name:value\n` per header line, names in lower
 * case: a single string is the cheapest thing structured clone can copy, far cheaper than an object with a
 * key per header. The main thread builds the caller's object from it (duplicate names become an array, as
 * undici's own `parseHeaders` does). HTTP forbids CR and LF in names and values, and ':' in names, so the
 * packing is unambiguous.
 */

/** Packs `[name, value, name, value, ...]` (names lower-case already). */
export function packHeaders(flat: readonly string[]): string {
  let packed = '';
  for (let i = 0; i < flat.length; i += 2) packed += `${flat[i] ?? ''}:${flat[i + 1] ?? ''}\n`;
  return packed;
}

/** The caller's headers object: one key per name, an array where a name came more than once. */
export function unpackHeaders(packed: string): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  let start = 0;
  while (start < packed.length) {
    const end = packed.indexOf('\n', start);
    // A name never contains ':', but an h2 pseudo-header starts with one: split after the name's first character.
    const colon = packed.indexOf(':', start + 1);
    const name = packed.slice(start, colon);
    const value = packed.slice(colon + 1, end);
    const seen = Object.hasOwn(headers, name) ? headers[name] : undefined;
    if (seen === undefined) {
      // A header named `__proto__` is a header like any other, not the object's prototype.
      if (name === '__proto__')
        Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
      else headers[name] = value;
    } else if (typeof seen === 'string') headers[name] = [seen, value];
    else seen.push(value);
    start = end + 1;
  }
  return headers;
}
