/**
 * Exit codes and the one place a command's failure becomes a message and an exit code.
 *
 *   0  success
 *   1  failure: a workflow node failed (run), an HTTP status >= 400 with --fail or a runtime error (fetch)
 *   2  invalid input: usage, options (flags or --config), workflow file, URL or job, an idempotency key reused
 *      for another request
 *   3  blocked destination (fetch): the policy refused it; nothing was sent
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, blocked: 3 } as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  failure: a node failed (run), HTTP status >= 400 with --fail or a runtime error (fetch),
     a request of either flood failed, warm-up included (demo)
  2  invalid input: usage, options (flags or --config), workflow, URL
  3  blocked destination: the policy refused it (allow it with --allow <host|ip|cidr>)`;

/** Bad command-line input that commander cannot see (a header without ':', an unreadable file, ...). */
export class UsageError extends Error {
  readonly code = 'FLOWPOOL_CLI_USAGE' as const;

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const USAGE_CODES: ReadonlySet<string> = new Set([
  'FLOWPOOL_CLI_USAGE',
  'FLOWPOOL_INVALID_OPTIONS',
  'FLOWPOOL_INVALID_JOB',
  'FLOWPOOL_INVALID_WORKFLOW',
  'FLOWPOOL_IDEMPOTENCY_CONFLICT',
]);

/** The flag that sets a runtime option, for messages about options given on the command line. */
const FLAG_OF: Readonly<Record<string, string>> = {
  'options.workers': '--workers',
  'options.connectionsPerHost': '--connections-per-host',
  'options.timeoutMs': '--timeout',
  'options.maxResponseBytes': '--max-response-bytes',
  'options.policy.allow': '--allow',
  'options.policy.deny': '--deny',
};

/**
 * A commander action that sets the process's exit code from `run`, or from what it threw (reportFailure):
 * every command ends the same way.
 */
export function exitWith<A extends unknown[]>(run: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      process.exitCode = await run(...args);
    } catch (error) {
      process.exitCode = reportFailure(error);
    }
  };
}

/** Writes why a command failed to stderr and returns the exit code. Branches on `code`, never on classes. */
export function reportFailure(error: unknown): number {
  const { code, message, details } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
    details?: { reason?: unknown; field?: unknown };
  };
  if (typeof code === 'string' && typeof message === 'string') {
    if (code === 'FLOWPOOL_BLOCKED_DESTINATION') {
      const reason = typeof details?.reason === 'string' ? details.reason : message;
      process.stderr.write(`blocked: ${reason}\n`);
      return EXIT.blocked;
    }
    if (USAGE_CODES.has(code)) {
      const flag = typeof details?.field === 'string' ? flagOf(details.field) : undefined;
      process.stderr.write(`flowpool: ${message}${flag === undefined ? '' : ` (flag ${flag} or --config)`}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`flowpool: ${code}: ${message}\n`);
    return EXIT.failure;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`flowpool: unexpected error: ${text}\n`);
  return EXIT.failure;
}

function flagOf(field: string): string | undefined {
  const parts = field.split(/[.[]/);
  return FLAG_OF[parts.slice(0, 3).join('.')] ?? FLAG_OF[parts.slice(0, 2).join('.')];
}
