/**
 * `flowpool worker --redis URL --queue NAME`: this process becomes one worker of a queue: one runtime
 * (the usual runtime flags), a BullMQ worker feeding it, and the cluster-wide host limits of
 * `--cluster-limits`. Runs until SIGINT or SIGTERM, then finishes the jobs it holds and exits 0.
 */
import type { Command } from 'commander';
import { startQueueWorker } from '../queue/index.js';
import { EXIT, EXIT_CODES_HELP, exitWith } from './cli-errors.js';
import { addQueueFlags, readClusterLimits, type QueueFlags } from './queue-flags.js';
import { addRuntimeFlags, numberish, resolveRuntimeOptions, type RuntimeFlags } from './runtime-flags.js';

interface WorkerFlags extends RuntimeFlags, QueueFlags {
  readonly concurrency?: number | string;
  readonly clusterLimits?: string;
  readonly saveToDir?: string;
}

export function registerWorkerCommand(program: Command): void {
  const command = program
    .command('worker')
    .description('consume a queue (BullMQ on Redis): run its jobs through this process’s runtime')
    .option('--concurrency <n>', 'jobs this process holds at once (default: 64)', numberish)
    .option(
      '--cluster-limits <file>',
      'JSON { "hostLimits": { "<host>": { "rps", "burst", "concurrency" } }, "leaseMs"? }',
    )
    .option('--save-to-dir <dir>', 'jobs may save bodies (saveTo) only inside this directory (default: no files)');
  addQueueFlags(command, true);
  addRuntimeFlags(command);
  command.addHelpText(
    'after',
    `
Limits in --cluster-limits hold across every worker of the queue, through Redis; give every worker the same file.
SIGINT / SIGTERM: stop taking jobs, finish the ones held, exit 0.
${EXIT_CODES_HELP}

Example:
  flowpool worker --redis redis://127.0.0.1:6379 --queue http --allow 10.0.0.0/8 --cluster-limits limits.json`,
  );
  command.action(exitWith((flags: WorkerFlags) => workerCommand(flags)));
}

async function workerCommand(flags: WorkerFlags): Promise<number> {
  const runtime = await resolveRuntimeOptions(flags);
  const cluster = flags.clusterLimits === undefined ? undefined : await readClusterLimits(flags.clusterLimits);
  const worker = await startQueueWorker({
    redis: flags.redis ?? '',
    queue: flags.queue ?? '',
    runtime,
    ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency as number }),
    ...(flags.saveToDir === undefined ? {} : { saveToDir: flags.saveToDir }),
    // Checked by startQueueWorker, which names any bad field.
    ...(cluster === undefined ? {} : { cluster }),
  });
  process.stderr.write(`flowpool worker ${worker.name}: consuming queue "${flags.queue ?? ''}"\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stderr.write(`flowpool worker ${worker.name}: finishing the jobs it holds\n`);
  await worker.close();
  return EXIT.ok;
}
