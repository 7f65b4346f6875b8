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

/**
 * The flag that sets each option path (after `options.`), and the key commander stores it under: an
 * error about an option a flag set names the flag, as the user typed it, not the library's option path.
 */
const OPTION_FLAGS: Readonly<Record<string, readonly [flag: string, key: string]>> = {
  workers: ['--workers', 'workers'],
  connectionsPerHost: ['--connections-per-host', 'connectionsPerHost'],
  timeoutMs: ['--timeout', 'timeout'],
  maxResponseBytes: ['--max-response-bytes', 'maxResponseBytes'],
  'policy.allow': ['--allow', 'allow'],
  'policy.deny': ['--deny', 'deny'],
  'tls.ca': ['--cacert', 'cacert'],
  'tls.cert': ['--cert', 'cert'],
  'tls.key': ['--key', 'key'],
  'tls.rejectUnauthorized': ['--insecure', 'insecure'],
  proxy: ['--proxy', 'proxy'],
  noProxy: ['--noproxy', 'noproxy'],
  allowH2: ['--http2', 'http2'],
  redis: ['--redis', 'redis'],
  queue: ['--queue', 'queue'],
  concurrency: ['--concurrency', 'concurrency'],
};

/** The flag (or argument) behind each job field, for the commands whose job is built from flags. */
const JOB_FLAGS: Readonly<Record<string, string>> = {
  url: '<url>',
  method: '-X/--request',
  headers: '-H/--header',
  body: '-d/--data',
  auth: '-u/--user',
  followRedirects: '--no-follow',
};

/** What a command tells {@link exitWith} about itself, so its errors speak in its flags. */
export interface CommandSpeech {
  /** The job is built from this command's flags (`fetch`, `enqueue`): job fields are named by their flag. */
  readonly jobFromFlags?: boolean;
}

/** The flags commander parsed, as `reportFailure` reads them: which were given, and the --config file. */
export type GivenFlags = Readonly<Record<string, unknown>>;

/**
 * A commander action that sets the process's exit code from `run`, or from what it threw (reportFailure):
 * every command ends the same way. Commander calls an action with the arguments, then the parsed flags,
 * then the command; the flags let a failure name the flag the user typed.
 */
export function exitWith<A extends unknown[]>(
  run: (...args: A) => Promise<number>,
  speech: CommandSpeech = {},
): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      process.exitCode = await run(...args);
    } catch (error) {
      const flags = args.at(-2);
      const given = typeof flags === 'object' && flags !== null ? (flags as GivenFlags) : {};
      process.exitCode = reportFailure(error, given, speech);
    }
  };
}

/** Writes why a command failed to stderr and returns the exit code. Branches on `code`, never on classes. */
export function reportFailure(error: unknown, given: GivenFlags = {}, speech: CommandSpeech = {}): number {
  const { code, message, details } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
    details?: { reason?: unknown; field?: unknown };
  };
  if (typeof code === 'string' && typeof message === 'string') {
    if (code === 'FLOWPOOL_BLOCKED_DESTINATION') {
      const reason = typeof details?.reason === 'string' ? details.reason : message;
      process.stderr.write(
        `blocked: ${reason}\n  nothing was sent; if this destination is meant, allow it with --allow <host|ip|cidr>\n`,
      );
      return EXIT.blocked;
    }
    if (USAGE_CODES.has(code)) {
      const text = typeof details?.field === 'string' ? inFlagTerms(message, details.field, given, speech) : message;
      process.stderr.write(`flowpool: ${text}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`flowpool: ${code}: ${message}\n`);
    return EXIT.failure;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`flowpool: unexpected error: ${text}\n`);
  return EXIT.failure;
}

/**
 * Rewrites the field paths of a validation message in the command's terms: `options.tls.ca` becomes
 * `--cacert` when that flag was given, `tls.ca (in --config FILE)` when the config file set it; a job field
 * of `fetch`/`enqueue` becomes its flag (`job.headers` -> `-H/--header`).
 */
export function inFlagTerms(message: string, field: string, given: GivenFlags, speech: CommandSpeech): string {
  const config = typeof given.config === 'string' ? given.config : undefined;
  let text = message;
  for (const path of Object.keys(OPTION_FLAGS).sort((a, b) => b.length - a.length)) {
    const [flag, key] = OPTION_FLAGS[path] ?? ['', ''];
    const spelled = new RegExp(`\\boptions\\.${path.replaceAll('.', '\\.')}(?![\\w])`, 'g');
    if (given[key] !== undefined && given[key] !== false) text = text.replace(spelled, flag);
    else if (config !== undefined) text = text.replace(spelled, `${path} (in --config ${config})`);
  }
  if (speech.jobFromFlags === true) {
    // A header is named as the user wrote it: -H 'name: ...'.
    text = text.replace(/\bjob\.headers\.([!#$%&'*+.^_`|~0-9A-Za-z-]+)/g, "-H '$1: ...'");
    for (const [path, flag] of Object.entries(JOB_FLAGS)) {
      text = text.replace(new RegExp(`\\bjob\\.${path}(?![\\w])`, 'g'), flag);
    }
  }
  // An option no flag sets, from a config file: say where it came from.
  if (config !== undefined && field.startsWith('options.') && text === message) {
    text = `${text} (in --config ${config})`;
  }
  return text;
}
