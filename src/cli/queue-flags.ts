/**
 * The flags that point a command at a queue (`--redis`, `--queue`), shared by `worker`, `enqueue` and
 * `run --redis`, and the small pieces those commands share: reading `--cluster-limits` and handing a
 * queue client to the workflow executor.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { JobRunner } from '../engine/index.js';
import type { QueueClient } from '../queue/index.js';
import { UsageError } from './cli-errors.js';

export interface QueueFlags {
  readonly redis?: string;
  readonly queue?: string;
}

export function addQueueFlags(command: Command, required: boolean): Command {
  const redis = '--redis <url>';
  const queue = '--queue <name>';
  return required
    ? command
        .requiredOption(redis, 'Redis URL, e.g. redis://127.0.0.1:6379 (BullMQ queue mode)')
        .requiredOption(queue, 'queue name (clients and workers of one queue use the same)')
    : command
        .option(redis, 'run the http nodes through a queue on this Redis (with --queue; see flowpool worker)')
        .option(queue, 'queue name, with --redis');
}

/** Both flags or neither; returns them when given. */
export function queueTarget(flags: QueueFlags): { readonly redis: string; readonly queue: string } | undefined {
  if (flags.redis === undefined && flags.queue === undefined) return undefined;
  if (flags.redis === undefined || flags.queue === undefined)
    throw new UsageError('--redis and --queue go together: give both, or neither');
  return { redis: flags.redis, queue: flags.queue };
}

/** Reads `--cluster-limits file.json`: the worker's `cluster` option (`{ hostLimits, leaseMs?, burstWindowMs? }`). */
export async function readClusterLimits(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--cluster-limits ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--cluster-limits ${file}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError(
      `--cluster-limits ${file}: expected a JSON object like { "hostLimits": { "api.example.com": { "rps": 50 } } }`,
    );
  return value as Record<string, unknown>;
}

/** The workflow executor needs only `run` (its `JobRunner`); a queue client has the same `run`. */
export function asWorkflowRuntime(client: QueueClient): JobRunner {
  return { run: (job, options) => client.run(job, options ?? {}) };
}
