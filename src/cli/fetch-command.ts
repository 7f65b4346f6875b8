/**
 * `flowpool fetch <url>`: one job through the runtime and its policy, like a curl that refuses private
 * and metadata destinations unless `--allow`ed. Prints the body (with `-i`, the status line and headers
 * first). Exit 0 ok (any status, as curl), 1 runtime error or status >= 400 with `--fail`, 2 usage,
 * 3 blocked destination (`blocked: <reason>` on stderr).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import type { Command } from 'commander';
import type { HttpJob, HttpResult } from '../index.js';
import { EXIT, EXIT_CODES_HELP, exitWith, UsageError } from './cli-errors.js';
import { addRuntimeFlags, collect, openRuntime, type RuntimeFlags } from './runtime-flags.js';

export interface FetchFlags extends RuntimeFlags {
  readonly request?: string;
  readonly header?: readonly string[];
  readonly data?: string;
  readonly include?: boolean;
  readonly fail?: boolean;
  readonly follow: boolean;
  readonly user?: string;
  readonly userAgent?: string;
  readonly output?: string;
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
    .option(
      '-d, --data <body>',
      'request body, or @file to send a file (makes the default method POST; content-type application/x-www-form-urlencoded unless -H sets one, as curl)',
    )
    .option(
      '-u, --user <user:password>',
      "basic auth credentials (sent only to the URL's origin, never after a redirect elsewhere)",
    )
    .option('-A, --user-agent <name>', 'user-agent header (default: flowpool/<version>)')
    .option('-o, --output <file>', 'write the body to a file instead of stdout')
    .option('-i, --include', 'print the status line and response headers before the body')
    .option('-f, --fail', 'exit 1 (and print no body) when the status is 400 or more')
    .option('--no-follow', 'do not follow redirects (each followed hop is checked by the policy)');
  addRuntimeFlags(command, FETCH_DEFAULTS);
  command.addHelpText(
    'after',
    `${EXIT_CODES_HELP}

Examples:
  flowpool fetch https://api.example.com/items -H 'accept: application/json'
  flowpool fetch http://127.0.0.1:8787/greeting --allow 127.0.0.1 -i
  flowpool fetch https://internal.example/api --cacert ca.pem --cert me.pem --key me.key --http2
  flowpool fetch https://api.example.com/upload -d @payload.json -u alice:secret -o answer.json

The proxy comes from http_proxy / https_proxy / HTTPS_PROXY / no_proxy / NO_PROXY (curl's rules; never
HTTP_PROXY) unless --proxy says otherwise (--proxy "" goes direct). The destination policy judges every target before anything is sent to the proxy.`,
  );
  command.action(exitWith((url: string, flags: FetchFlags) => fetchCommand(url, flags), { jobFromFlags: true }));
}

async function fetchCommand(url: string, flags: FetchFlags): Promise<number> {
  const job = await toJob(url, flags);
  const runtime = await openRuntime(flags, FETCH_DEFAULTS);
  let result: HttpResult;
  try {
    result = await runtime.run(job);
  } finally {
    await runtime.close();
  }
  return printResult(result, flags);
}

/**
 * Prints a result as curl would (`fetch` and `enqueue`): with -f a status of 400 or more is exit 1 and no
 * body; -i puts the status line and headers first; -o writes the body to a file instead of stdout.
 */
export async function printResult(
  result: HttpResult,
  flags: Pick<FetchFlags, 'fail' | 'include' | 'output'>,
): Promise<number> {
  const reason = STATUS_CODES[result.status] ?? '';
  if (flags.fail === true && result.status >= 400) {
    process.stderr.write(`flowpool: HTTP ${result.status} ${reason}`.trimEnd() + '\n');
    return EXIT.failure;
  }
  if (flags.include === true) process.stdout.write(formatHead(result, reason));
  const body = result.body;
  if (flags.output !== undefined) {
    await writeFile(flags.output, body instanceof Uint8Array || typeof body === 'string' ? body : '');
    return EXIT.ok;
  }
  if (body instanceof Uint8Array) process.stdout.write(body);
  else if (typeof body === 'string') process.stdout.write(body);
  return EXIT.ok;
}

export async function toJob(url: string, flags: FetchFlags): Promise<HttpJob> {
  const job: HttpJob = { url, responseType: 'bytes', followRedirects: flags.follow };
  const method = flags.request ?? (flags.data === undefined ? undefined : 'POST');
  if (method !== undefined) job.method = method;
  if (flags.data !== undefined) job.body = await readData(flags.data);
  const headers = flags.header === undefined ? {} : parseHeaders(flags.header);
  if (flags.userAgent !== undefined) headers['user-agent'] = flags.userAgent;
  // As curl: -d is form data unless a content-type header says otherwise.
  if (flags.data !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  if (Object.keys(headers).length > 0) job.headers = headers;
  if (flags.user !== undefined) {
    const colon = flags.user.indexOf(':');
    if (colon <= 0) throw new UsageError("-u: expected 'user:password'");
    job.auth = { username: flags.user.slice(0, colon), password: flags.user.slice(colon + 1) };
  }
  return job;
}

/** `-d @file` sends the file's bytes (as curl --data-binary); anything else is the body itself. */
async function readData(data: string): Promise<string | Uint8Array<ArrayBuffer>> {
  if (!data.startsWith('@')) return data;
  const file = data.slice(1);
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    throw new UsageError(
      `-d @${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
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

/** The result does not carry the protocol version; the status line says HTTP/1.1 even after --http2. */
export function formatHead(result: HttpResult, reason: string): string {
  const lines = [`HTTP/1.1 ${result.status} ${reason}`.trimEnd()];
  for (const [name, value] of Object.entries(result.headers)) {
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${item}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
