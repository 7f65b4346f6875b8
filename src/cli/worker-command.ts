/**
 * `flowpool worker --redis URL --queue NAME`: this process becomes one worker of a queue: one runtime
 * (the usual runtime flags), a BullMQ worker feeding it, and the cluster-wide host limits of
 * `--cluster-limits`. Runs until SIGINT or SIGTERM, then finishes the jobs it holds and exits 0. Logs one
 * JSON line (stderr) per start, stop and failed job; with `--metrics-port`, serves /metrics and /healthz.
 */
import type { Command } from 'commander';
import { EXIT, EXIT_CODES_HELP, exitWith, UsageError } from './cli-errors.js';
import { addQueueFlags, readClusterLimits, type QueueFlags } from './queue-flags.js';
import { addRuntimeFlags, numberish, resolveRuntimeOptions, type RuntimeFlags } from './runtime-flags.js';
import { logLine } from './json-log.js';
import { startOperationsServer, type OperationsServer } from './metrics-server.js';

interface WorkerFlags extends RuntimeFlags, QueueFlags {
  readonly concurrency?: number | string;
  readonly clusterLimits?: string;
  readonly metricsPort?: number | string;
  readonly metricsHost: string;
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
    .option(
      '--metrics-port <port>',
      'serve GET /metrics (Prometheus) and GET /healthz on this port (0: any free one)',
      numberish,
    )
    .option('--metrics-host <address>', 'address the metrics port listens on', '127.0.0.1')
    .option('--save-to-dir <dir>', 'jobs may save bodies (saveTo) only inside this directory (default: no files)');
  addQueueFlags(command, true);
  addRuntimeFlags(command);
  command.addHelpText(
    'after',
    `
Limits in --cluster-limits hold across every worker of the queue, through Redis; give every worker the same file.
SIGINT / SIGTERM: stop taking jobs, finish the ones held, exit 0.
${EXIT_CODES_HELP}

Logs: one JSON line on stderr per start, stop and failed job (pino's level/time/msg fields).

Example:
  flowpool worker --redis redis://127.0.0.1:6379 --queue http --allow 10.0.0.0/8 --cluster-limits limits.json \\
    --metrics-port 9464`,
  );
  command.action(exitWith((flags: WorkerFlags) => workerCommand(flags)));
}

async function workerCommand(flags: WorkerFlags): Promise<number> {
  const metricsPort = parsePort(flags.metricsPort);
  const runtime = await resolveRuntimeOptions(flags);
  const cluster = flags.clusterLimits === undefined ? undefined : await readClusterLimits(flags.clusterLimits);
  const queue = flags.queue ?? '';
  // Loaded only here: queue mode's packages are optional peers, and the other commands run without them.
  const { startQueueWorker } = await import('../queue/index.js');
  const worker = await startQueueWorker(
    {
      redis: flags.redis ?? '',
      queue,
      runtime: { ...runtime },
      ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency as number }),
      ...(flags.saveToDir === undefined ? {} : { saveToDir: flags.saveToDir }),
      // Checked by startQueueWorker, which names any bad field.
      ...(cluster === undefined ? {} : { cluster }),
    },
    { onJobFailed: (failure) => logLine('warn', 'job failed', { event: 'job-failed', queue, ...failure }) },
  );
  let operations: OperationsServer | undefined;
  try {
    if (metricsPort !== undefined) operations = await startOperationsServer(worker, metricsPort, flags.metricsHost);
  } catch (error) {
    await worker.close();
    throw new UsageError(
      `--metrics-port ${String(metricsPort)}: cannot listen on ${flags.metricsHost} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  logLine('info', `worker ${worker.name}: consuming queue "${queue}"`, {
    event: 'start',
    worker: worker.name,
    queue,
    pid: process.pid,
    ...(operations === undefined ? {} : { metrics: `${operations.url}/metrics`, health: `${operations.url}/healthz` }),
  });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logLine('info', `worker ${worker.name}: finishing the jobs it holds`, {
    event: 'stopping',
    worker: worker.name,
    queue,
    signal,
  });
  await worker.close();
  const { processed, failed } = await worker.stats();
  await operations?.close();
  logLine('info', `worker ${worker.name}: stopped`, { event: 'stop', worker: worker.name, queue, processed, failed });
  return EXIT.ok;
}

/** `--metrics-port`: an integer from 0 (any free port) to 65535, or not given. */
function parsePort(value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new UsageError(`--metrics-port: expected a port from 0 to 65535, received ${JSON.stringify(value)}`);
  }
  return value;
}
