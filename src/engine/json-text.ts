/**
 * `JSON.stringify` as it behaves, not as it is typed: it returns undefined for undefined, functions and
 * symbols, which its declared `string` return type hides.
 */
export function jsonText(value: unknown): string | undefined {
  const text: string | undefined = JSON.stringify(value);
  return text;
}

/** A short readable form of any value for messages. */
export function shown(value: unknown): string {
  return jsonText(value) ?? String(value);
}
