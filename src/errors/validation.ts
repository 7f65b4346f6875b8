import type { z } from 'zod';
import { describeReceived, FlowpoolError, isFlowpoolError, type FlowpoolErrorCode } from './flowpool-error.js';
import { describeKind } from './received-kind.js';

/**
 * Turns zod issues into one message that names the field, what was expected and what was received,
 * as `options.workers: expected an integer >= 1, received 0`. The first issue decides the `field`
 * detail; every issue is listed so a user fixes them all in one go.
 */
export function toValidationError(
  code: Extract<FlowpoolErrorCode, 'FLOWPOOL_INVALID_OPTIONS' | 'FLOWPOOL_INVALID_JOB'>,
  root: string,
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  jobId?: string,
  concealed: ReadonlySet<PropertyKey> = NOTHING_CONCEALED,
): FlowpoolError {
  const lines = issues.slice(0, 5).map((issue) => describeIssue(root, issue, input, concealed));
  if (issues.length > 5) lines.push(`... and ${issues.length - 5} more`);
  const first = issues[0];
  const field = first ? fieldPath(root, first.path) : root;
  const details = jobId === undefined ? { field } : { field, jobId };
  return new FlowpoolError(code, `invalid ${root}: ${lines.join('; ')}`, details);
}

const NOTHING_CONCEALED: ReadonlySet<PropertyKey> = new Set();

function describeIssue(
  root: string,
  issue: z.core.$ZodIssue,
  input: unknown,
  concealed: ReadonlySet<PropertyKey>,
): string {
  const path = fieldPath(root, issue.path);
  if (issue.code === 'invalid_key') {
    // A record key failed its own check (a refused header name): say why, and quote the key, not its value.
    const reason = issue.issues[0]?.message ?? issue.message;
    return `${path}: ${reason}, received the key ${describeReceived(issue.path.at(-1))}`;
  }
  if (issue.code === 'unrecognized_keys') {
    return `${path}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  }
  // zod's default messages read "Invalid input: expected number, received string"; keep the
  // expectation, and quote the actual value (shortened) rather than only its type.
  const message = issue.message.replace(/^Invalid input: /, '').replace(/, received \w+$/, '');
  // Custom checks (policy entries) may already quote what they received.
  if (message.includes('received')) return `${path}: ${message}`;
  // Values under a concealed field (header values, bodies) may be secrets: say what kind of value it
  // was, never the value.
  const top = issue.path[0];
  if (top !== undefined && concealed.has(top)) {
    return `${path}: ${message}, received ${describeKind(valueAt(input, issue.path))} (value not shown)`;
  }
  return `${path}: ${message}, received ${describeReceived(valueAt(input, issue.path))}`;
}

function fieldPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return out;
}

/** The value at a zod issue's path inside the input (undefined when the path leaves the object). */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Runs a parse of the caller's options; a getter or Proxy trap that throws while they are read becomes
 * `FLOWPOOL_INVALID_OPTIONS` (with the thrown error as `cause`), never a crash of another kind.
 */
export function guardedOptions<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (isFlowpoolError(error)) throw error;
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_OPTIONS',
      'invalid options: options: expected plain data, received an object that threw while being read',
      { field: 'options' },
      { cause: error },
    );
  }
}
