/**
 * What kind of value was received, without any of its content: for fields whose values may be secrets
 * (header values, bodies) and for inputs that are not what was expected at all.
 */
export function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of ${String(value.length)} items`;
  if (typeof value === 'string') return `a string of ${String(value.length)} characters`;
  if (value instanceof Uint8Array) return `a byte array of ${String(value.byteLength)} bytes`;
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}
