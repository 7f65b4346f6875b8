/**
 * `flowpool demo`: the README's main job. Starts loopback target servers in their own process, floods
 * them through the runtime (`runMany`), then floods them again through a plain main-thread undici Agent
 * with the same cap and the same number in flight, and prints both side by side with the connections the
 * servers themselves counted. It only talks to its own loopback servers, so it allows 127.0.0.0/8 itself.
 */
import type { Command } from 'commander';
import type { Runtime } from '../index.js';
import { EXIT, EXIT_CODES_HELP, reportFailure, UsageError } from './cli-errors.js';
import { floodRuntime, floodUndici, type FloodPlan } from './demo-flood.js';
import { renderSummary, summarise } from './demo-report.js';
import { createProgress } from './progress.js';
import { addRuntimeFlags, numberish, openRuntime, type CommandRuntimeDefaults, type RuntimeFlags } from './runtime-flags.js';
import { startTargetProcess, type TargetProcess } from './target-process.js';

interface DemoFlags extends RuntimeFlags {
  readonly jobs: number | string;
  readonly hosts: number | string;
  readonly concurrency: number | string;
  readonly json?: boolean;
}

const DEMO_DEFAULTS: CommandRuntimeDefaults = { connectionsPerHost: 16, alwaysAllow: ['127.0.0.0/8'] };

export function registerDemoCommand(program: Command): void {
  const command = program
    .command('demo')
    .description('flood loopback target servers through the runtime, then through a plain undici Agent, and compare')
    .option('--jobs <n>', 'requests in each flood', numberish, 20_000)
    .option('--hosts <n>', 'target servers (one origin each)', numberish, 8)
    .option('--concurrency <n>', 'requests in flight at once, in both floods', numberish, 256)
    .option('--json', 'print the summary as JSON on stdout (and no progress bar)');
  addRuntimeFlags(command, DEMO_DEFAULTS);
  command.addHelpText(
    'after',
    `
The target servers run in a child process and count connections per port; the summary shows those counts
against --connections-per-host, which the runtime enforces across all workers together.
${EXIT_CODES_HELP}`,
  );
  command.action(async (flags: DemoFlags) => {
    try {
      process.exitCode = await demoCommand(flags);
    } catch (error) {
      process.exitCode = reportFailure(error);
    }
  });
}

async function demoCommand(flags: DemoFlags): Promise<number> {
  const jobs = positiveInt('--jobs', flags.jobs, 10_000_000);
  const hosts = positiveInt('--hosts', flags.hosts, 256);
  const concurrency = positiveInt('--concurrency', flags.concurrency, 100_000);
  const showProgress = flags.json !== true;

  // The runtime first: bad options end the demo before any process starts.
  let runtime: Runtime | undefined = await openRuntime(flags, DEMO_DEFAULTS);
  let targets: TargetProcess | undefined;
  try {
    targets = await startTargetProcess(hosts);
    const plan: FloodPlan = { origins: targets.origins, jobs, concurrency };
    const { workers, connectionsPerHost } = runtime.options;

    // Wait for the workers to be up (stats() answers from each of them), so the flood measures serving,
    // not thread start-up; connections stay cold, as they are for the baseline.
    await runtime.stats();
    const poolBar = createProgress(`flowpool (${workers}w)`, jobs, showProgress);
    const pooled = await floodRuntime(runtime, plan, (done) => poolBar.set(done)).finally(() => poolBar.stop());
    const pooledCounts = await targets.counts();
    // Stop the workers before the baseline so they do not compete with it for the CPU.
    await runtime.close();
    runtime = undefined;

    await targets.reset();
    const plainBar = createProgress('plain undici Agent', jobs, showProgress);
    const plain = await floodUndici(plan, connectionsPerHost, (done) => plainBar.set(done)).finally(() => plainBar.stop());
    const plainCounts = await targets.counts();

    const summary = summarise(
      { jobs, origins: targets.origins, workers, connectionsPerHost, concurrency },
      { outcome: pooled, counts: pooledCounts },
      { outcome: plain, counts: plainCounts },
    );
    process.stdout.write(flags.json === true ? `${JSON.stringify(summary, null, 2)}\n` : renderSummary(summary));
    return summary.flowpool.failed === 0 && summary.undici.failed === 0 ? EXIT.ok : EXIT.failure;
  } finally {
    await runtime?.destroy();
    await targets?.stop();
  }
}

function positiveInt(flag: string, value: number | string, max: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max) return value;
  throw new UsageError(`${flag}: expected an integer from 1 to ${max}, received ${JSON.stringify(value)}`);
}
