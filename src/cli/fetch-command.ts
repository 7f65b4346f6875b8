/**
 * `flowpool fetch <url>`: one job through the runtime and its policy, like a curl that refuses private
 * and metadata destinations unless `--allow`ed. Prints the body (with `-i`, the status line and headers
 * first). Exit 0 ok (any status, as curl), 1 runtime error or status >= 400 with `--fail`, 2 usage,
 * 3 blocked destination (`blocked: <reason>` on stderr).
 */
import { STATUS_CODES } from 'node:http';
import type { Command } from 'commander';
import type { HttpJob, HttpResult } from '../index.js';
import { EXIT, EXIT_CODES_HELP, reportFailure, UsageError } from './cli-errors.js';
import { addRuntimeFlags, collect, openRuntime, type RuntimeFlags } from './runtime-flags.js';

export interface FetchFlags extends RuntimeFlags {
  readonly request?: string;
  readonly header?: readonly string[];
  readonly data?: string;
  readonly include?: boolean;
  readonly fail?: boolean;
  readonly follow: boolean;
}

/** One request needs one worker. */
const FETCH_DEFAULTS = { workers: 1 } as const;

export function registerFetchCommand(program: Command): void {
  const command = program
    .command('fetch')
    .description('send one HTTP request through the runtime and its destination policy (a safe curl)')
    .argument('<url>', 'absolute http: or https: URL')
    .option('-X, --request <method>', 'request method (default: GET, or POST with -d)')
    .option('-H, --header <header>', "request header as 'name: value'; repeatable", collect)
    .option('-d, --data <body>', 'request body (makes the default method POST)')
    .option('-i, --include', 'print the status line and response headers before the body')
    .option('-f, --fail', 'exit 1 (and print no body) when the status is 400 or more')
    .option('--no-follow', 'do not follow redirects (each followed hop is checked by the policy)');
  addRuntimeFlags(command, FETCH_DEFAULTS);
  command.addHelpText(
    'after',
    `${EXIT_CODES_HELP}

Examples:
  flowpool fetch https://api.example.com/items -H 'accept: application/json'
  flowpool fetch http://127.0.0.1:8787/greeting --allow 127.0.0.1 -i`,
  );
  command.action(async (url: string, flags: FetchFlags) => {
    try {
      process.exitCode = await fetchCommand(url, flags);
    } catch (error) {
      process.exitCode = reportFailure(error);
    }
  });
}

async function fetchCommand(url: string, flags: FetchFlags): Promise<number> {
  const job = toJob(url, flags);
  const runtime = await openRuntime(flags, FETCH_DEFAULTS);
  let result: HttpResult;
  try {
    result = await runtime.run(job);
  } finally {
    await runtime.close();
  }
  const reason = STATUS_CODES[result.status] ?? '';
  if (flags.fail === true && result.status >= 400) {
    process.stderr.write(`flowpool: HTTP ${result.status} ${reason}`.trimEnd() + '\n');
    return EXIT.failure;
  }
  if (flags.include === true) process.stdout.write(formatHead(result, reason));
  const body = result.body;
  if (body instanceof Uint8Array) process.stdout.write(body);
  else if (typeof body === 'string') process.stdout.write(body);
  return EXIT.ok;
}

export function toJob(url: string, flags: FetchFlags): HttpJob {
  const job: HttpJob = { url, responseType: 'bytes', followRedirects: flags.follow };
  const method = flags.request ?? (flags.data === undefined ? undefined : 'POST');
  if (method !== undefined) job.method = method;
  if (flags.data !== undefined) job.body = flags.data;
  if (flags.header !== undefined) job.headers = parseHeaders(flags.header);
  return job;
}

function parseHeaders(lines: readonly string[]): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    if (name === '') throw new UsageError(`-H ${JSON.stringify(line)}: expected 'name: value'`);
    const value = line.slice(colon + 1).trim();
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return headers;
}

/** undici speaks HTTP/1.1 to every origin here (no h2), so the status line says so. */
export function formatHead(result: HttpResult, reason: string): string {
  const lines = [`HTTP/1.1 ${result.status} ${reason}`.trimEnd()];
  for (const [name, value] of Object.entries(result.headers)) {
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${item}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
