import type { z } from 'zod';
import { describeReceived, FlowpoolError, isFlowpoolError, type FlowpoolErrorCode } from './flowpool-error.js';
import { closestMatch } from './closest-match.js';
import { describeKind } from './received-kind.js';
import { knownKeysAt } from './schema-keys.js';

/** What {@link toValidationError} may know besides the issues. */
export interface ValidationContext {
  /** The job's own id, echoed in the error's details. */
  readonly jobId?: string | undefined;
  /** Top-level fields whose values may be secrets: an issue under them says what kind of value, never the value. */
  readonly concealed?: ReadonlySet<PropertyKey>;
  /** The schema that refused the input: an unknown key is compared with the keys it accepts ("did you mean"). */
  readonly schema?: z.core.$ZodType;
}

/**
 * Turns zod issues into one message that names the field, what was expected and what was received,
 * as `options.workers: expected an integer >= 1, received 0`. The first issue decides the `field`
 * detail; every issue is listed so a user fixes them all in one go. An unknown key is named by its own
 * path (`job.hedaers`, not `job`), with the known key it is closest to as `suggestion` when one is close.
 */
export function toValidationError(
  code: Extract<FlowpoolErrorCode, 'FLOWPOOL_INVALID_OPTIONS' | 'FLOWPOOL_INVALID_JOB'>,
  root: string,
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  context: ValidationContext = {},
): FlowpoolError {
  const concealed = context.concealed ?? NOTHING_CONCEALED;
  const lines = issues.slice(0, 5).map((issue) => describeIssue(root, issue, input, concealed, context.schema));
  if (issues.length > 5) lines.push(`... and ${issues.length - 5} more`);
  const first = issues[0];
  let field = root;
  let suggestion: string | undefined;
  if (first?.code === 'unrecognized_keys' && first.keys[0] !== undefined) {
    field = fieldPath(root, [...first.path, first.keys[0]]);
    suggestion = suggestKey(context.schema, first.path, first.keys[0]);
  } else if (first !== undefined) {
    field = fieldPath(root, first.path);
  }
  const details = {
    field,
    ...(suggestion === undefined ? {} : { suggestion }),
    ...(context.jobId === undefined ? {} : { jobId: context.jobId }),
  };
  return new FlowpoolError(code, `invalid ${root}: ${lines.join('; ')}`, details);
}

/** The known key closest to `key` at `path`, when the schema is known and one is close. */
function suggestKey(
  schema: z.core.$ZodType | undefined,
  path: readonly PropertyKey[],
  key: string,
): string | undefined {
  if (schema === undefined) return undefined;
  return closestMatch(key, knownKeysAt(schema, path));
}

const NOTHING_CONCEALED: ReadonlySet<PropertyKey> = new Set();

function describeIssue(
  root: string,
  issue: z.core.$ZodIssue,
  input: unknown,
  concealed: ReadonlySet<PropertyKey>,
  schema: z.core.$ZodType | undefined,
): string {
  const path = fieldPath(root, issue.path);
  if (issue.code === 'invalid_key') {
    // A record key failed its own check (a refused header name): say why, and quote the key, not its value.
    const reason = issue.issues[0]?.message ?? issue.message;
    return `${path}: ${reason}, received the key ${describeReceived(issue.path.at(-1))}`;
  }
  if (issue.code === 'unrecognized_keys') {
    // One line per key, each under its own path, each with its likely meaning.
    return issue.keys
      .map((key) => {
        const suggestion = suggestKey(schema, issue.path, key);
        const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
        return `${fieldPath(root, [...issue.path, key])}: unknown key ${describeReceived(key)}${hint}`;
      })
      .join('; ');
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
