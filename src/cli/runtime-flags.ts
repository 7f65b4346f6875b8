/**
 * Runtime options as command-line flags, shared by every command. Precedence: a flag, then the
 * `--config` file, then the command's own defaults. Values are handed to `createRuntime` as given (a
 * number-looking flag becomes a number), so every check and every message comes from the runtime's own
 * option schema (`FLOWPOOL_INVALID_OPTIONS`, naming the option).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createRuntime, type Runtime, type RuntimeOptions } from '../index.js';
import { DEFAULTS } from '../schema.js';
import { UsageError } from './cli-errors.js';
import { addTransportFlags, applyTransportFlags, type TransportFlags } from './transport-flags.js';

/** What commander collects from the flags below. */
export interface RuntimeFlags extends TransportFlags {
  readonly workers?: number | string;
  readonly connectionsPerHost?: number | string;
  readonly timeout?: number | string;
  readonly maxResponseBytes?: number | string;
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
  readonly config?: string;
}

export interface CommandRuntimeDefaults {
  /** The command's default for `--workers` (the runtime's own is one per CPU). */
  readonly workers?: number;
  readonly connectionsPerHost?: number;
  /** Destinations the command always allows, on top of any policy given (the demo's own loopback servers). */
  readonly alwaysAllow?: readonly string[];
  /** Proxy when neither --proxy nor the config says: the environment (as curl), or none. @default 'env' */
  readonly proxy?: 'env' | 'none';
}

export function addRuntimeFlags(command: Command, defaults: CommandRuntimeDefaults = {}): Command {
  const workers = defaults.workers === undefined ? 'one per CPU' : `${defaults.workers} for this command`;
  const perHost = defaults.connectionsPerHost ?? DEFAULTS.connectionsPerHost;
  addTransportFlags(command, defaults.proxy ?? 'env');
  return command
    .option('--workers <n>', `worker threads (default: ${workers})`, numberish)
    .option(
      '--connections-per-host <n>',
      `open connections to one origin, all workers together (default: ${perHost})`,
      numberish,
    )
    .option(
      '--timeout <ms>',
      `total deadline of a request in ms, body included (default: ${DEFAULTS.timeoutMs})`,
      numberish,
    )
    .option('--max-response-bytes <n>', `largest response body (default: ${DEFAULTS.maxResponseBytes})`, numberish)
    .option(
      '--allow <entry>',
      'allow a destination: hostname, *.suffix, IP or CIDR; repeatable (loopback and private addresses are blocked unless allowed)',
      collect,
    )
    .option('--deny <entry>', 'deny a destination (same forms); repeatable; deny wins over allow', collect)
    .option('--config <file>', 'runtime options as JSON (the createRuntime options); flags override it');
}

/** Merges the command's defaults, the config file and the flags. Throws `UsageError` for an unreadable config. */
export async function resolveRuntimeOptions(
  flags: RuntimeFlags,
  defaults: CommandRuntimeDefaults = {},
): Promise<RuntimeOptions> {
  const config = flags.config === undefined ? {} : await readConfig(flags.config);
  const options: Record<string, unknown> = {};
  if (defaults.workers !== undefined) options.workers = defaults.workers;
  if (defaults.connectionsPerHost !== undefined) options.connectionsPerHost = defaults.connectionsPerHost;
  Object.assign(options, config);
  if (flags.workers !== undefined) options.workers = flags.workers;
  if (flags.connectionsPerHost !== undefined) options.connectionsPerHost = flags.connectionsPerHost;
  if (flags.timeout !== undefined) options.timeoutMs = flags.timeout;
  if (flags.maxResponseBytes !== undefined) options.maxResponseBytes = flags.maxResponseBytes;
  if (flags.allow !== undefined || flags.deny !== undefined || defaults.alwaysAllow !== undefined) {
    const policy = isObject(options.policy) ? { ...options.policy } : {};
    if (flags.allow !== undefined) policy.allow = [...flags.allow];
    if (flags.deny !== undefined) policy.deny = [...flags.deny];
    if (defaults.alwaysAllow !== undefined)
      policy.allow = [...(Array.isArray(policy.allow) ? (policy.allow as unknown[]) : []), ...defaults.alwaysAllow];
    options.policy = policy;
  }
  await applyTransportFlags(flags, options, defaults.proxy ?? 'env');
  // Unchecked on purpose: createRuntime validates the whole object and names whatever is wrong.
  return options;
}

/** Resolves the options and creates the runtime (throws `FLOWPOOL_INVALID_OPTIONS` for bad ones). */
export async function openRuntime(flags: RuntimeFlags, defaults: CommandRuntimeDefaults = {}): Promise<Runtime> {
  return createRuntime(await resolveRuntimeOptions(flags, defaults));
}

async function readConfig(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--config ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config ${file}: not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(value))
    throw new UsageError(
      `--config ${file}: expected a JSON object of runtime options, received ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`,
    );
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An integer-looking flag becomes a number; anything else is passed on for the schema to name. */
export function numberish(value: string): number | string {
  return /^[+-]?\d+$/.test(value.trim()) ? Number(value) : value;
}

/** Accumulates a repeatable flag. */
export function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
