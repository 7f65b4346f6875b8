/**
 * TLS and proxy flags, shared by `fetch`, `run` and `demo` (curl's names where curl has one). The proxy
 * follows the environment by default, by curl's rules (http_proxy, https_proxy / HTTPS_PROXY, no_proxy /
 * NO_PROXY; never HTTP_PROXY), unless the command says otherwise (the demo talks only to its own loopback
 * servers) or `--proxy`/`--config` choose.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from './cli-errors.js';

export interface TransportFlags {
  readonly cacert?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly insecure?: boolean;
  readonly proxy?: string;
  readonly noproxy?: string;
  readonly http2?: boolean;
}

export function addTransportFlags(command: Command, proxyDefault: 'env' | 'none'): Command {
  return command
    .option('--cacert <file>', 'PEM file of CA certificates to trust, on top of the system roots')
    .option('--cert <file>', 'PEM file of the client certificate (mutual TLS); needs --key')
    .option('--key <file>', 'PEM file of the client certificate key')
    .option(
      '-k, --insecure',
      'accept any server certificate (DANGEROUS: anyone on the path can read and change traffic)',
    )
    .option(
      '--proxy <url>',
      `proxy for every request: http://[user:pass@]host:port, or "" to go direct (default: ${proxyDefault === 'env' ? 'http_proxy / HTTPS_PROXY from the environment, as curl' : 'none'})`,
    )
    .option('--noproxy <hosts>', 'comma-separated hosts reached directly (NO_PROXY syntax; * for all)')
    .option('--http2', 'negotiate HTTP/2 over TLS, falling back to HTTP/1.1');
}

/**
 * Adds the flags' settings to `options` (the config file's values already in it; flags win). Reads the
 * PEM files once. `-k` prints a warning on stderr every time it is used.
 */
export async function applyTransportFlags(
  flags: TransportFlags,
  options: Record<string, unknown>,
  proxyDefault: 'env' | 'none',
): Promise<void> {
  const tls: Record<string, unknown> = isObject(options.tls) ? { ...options.tls } : {};
  if (flags.cacert !== undefined) tls.ca = await readPem('--cacert', flags.cacert);
  if (flags.cert !== undefined || flags.key !== undefined) {
    if (flags.cert === undefined || flags.key === undefined) throw new UsageError('--cert and --key go together');
    tls.cert = await readPem('--cert', flags.cert);
    tls.key = await readPem('--key', flags.key);
  }
  if (flags.insecure === true) {
    tls.rejectUnauthorized = false;
    process.stderr.write(
      'flowpool: WARNING: --insecure: server certificates are NOT verified; anyone on the network path can read and change this traffic\n',
    );
  }
  if (Object.keys(tls).length > 0) options.tls = tls;
  if (flags.proxy !== undefined) options.proxy = flags.proxy === '' ? false : flags.proxy;
  else if (options.proxy === undefined && proxyDefault === 'env') options.proxy = 'env';
  if (flags.noproxy !== undefined) {
    options.noProxy = flags.noproxy
      .split(/[\s,]+/)
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
  }
  if (flags.http2 === true) options.allowH2 = true;
}

async function readPem(flag: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${flag} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
