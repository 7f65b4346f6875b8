import { FlowpoolError } from '../errors/flowpool-error.js';

/**
 * Keys that are refused by name in every record a caller hands in (job headers, `resolve`, `hostLimits`,
 * `transforms`, `policy`). zod's records drop an own `__proto__` key silently (so the caller never learns
 * their entry was ignored), and a record that reaches plain-object code with such a key is the classic
 * prototype-pollution vector. Refusing them loudly is simpler than reasoning about every consumer.
 */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

type ValidationCode = 'FLOWPOOL_INVALID_JOB' | 'FLOWPOOL_INVALID_OPTIONS';

/**
 * Throws when `input` or one of its `records` (own properties of `input`) has an own key in
 * {@link FORBIDDEN_KEYS}. Looks at the raw input, before zod: `Reflect.ownKeys` sees a JSON-parsed
 * `__proto__` key that a `for...in` or zod's record parsing would not report.
 */
export function refuseForbiddenKeys(
  code: ValidationCode,
  root: string,
  input: object,
  records: readonly string[],
  jobId?: string,
): void {
  checkOwnKeys(code, root, input, jobId);
  for (const name of records) {
    if (!Object.hasOwn(input, name)) continue;
    const value: unknown = (input as Record<string, unknown>)[name];
    if (typeof value === 'object' && value !== null) checkOwnKeys(code, `${root}.${name}`, value, jobId);
  }
}

function checkOwnKeys(code: ValidationCode, path: string, record: object, jobId: string | undefined): void {
  for (const key of Reflect.ownKeys(record)) {
    if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) {
      const field = `${path}.${key}`;
      throw new FlowpoolError(
        code,
        `invalid ${path.split('.')[0] ?? path}: ${field}: expected a key other than __proto__, constructor or prototype, received the key "${key}"`,
        jobId === undefined ? { field } : { field, jobId },
      );
    }
  }
}
