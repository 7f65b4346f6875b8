/**
 * `flowpool demo`: the README's main job. Starts loopback target servers in their own process, floods
 * them through the runtime (`runMany`), then floods them again through a plain main-thread undici Agent
 * with the same cap and the same number in flight, and prints both side by side with the connections the
 * servers themselves counted. It only talks to its own loopback servers, so it allows 127.0.0.0/8 itself.
 *
 * Each client first runs a warm-up flood (half of --jobs by default), reported on its own line: cold, a
 * runtime's three isolates are still compiling their hot paths and every connection is being opened,
 * which is not what an embedded, long-lived runtime spends its life doing. The measured flood then shows
 * the steady state, and the servers' counts show whether it opened any connection at all.
 */
import type { Command } from 'commander';
import { Agent } from 'undici';
import type { Runtime } from '../index.js';
import { EXIT, EXIT_CODES_HELP, exitWith, UsageError } from './cli-errors.js';
import { floodRuntime, floodUndici, type FloodOutcome, type FloodPlan } from './demo-flood.js';
import { renderSummary, summarise, type DemoPhases } from './demo-report.js';
import { createProgress } from './progress.js';
import {
  addRuntimeFlags,
  numberish,
  openRuntime,
  type CommandRuntimeDefaults,
  type RuntimeFlags,
} from './runtime-flags.js';
import { startTargetProcess, type TargetProcess } from './target-process.js';

interface DemoFlags extends RuntimeFlags {
  readonly jobs: number | string;
  readonly hosts: number | string;
  readonly concurrency: number | string;
  readonly warmup?: number | string;
  readonly json?: boolean;
  readonly cluster?: number | string;
  readonly redis?: string;
}

const DEMO_DEFAULTS: CommandRuntimeDefaults = {
  connectionsPerHost: 16,
  alwaysAllow: ['127.0.0.0/8'],
  // Its targets are its own loopback servers: an HTTP_PROXY from the environment must not reroute them.
  proxy: 'none',
};

export function registerDemoCommand(program: Command): void {
  const command = program
    .command('demo')
    .description('flood loopback target servers through the runtime, then through a plain undici Agent, and compare')
    .option('--jobs <n>', 'requests in each flood', numberish, 20_000)
    .option('--hosts <n>', 'target servers (one origin each)', numberish, 8)
    .option('--concurrency <n>', 'requests in flight at once, in both floods', numberish, 256)
    .option(
      '--warmup <n>',
      'requests in each warm-up flood, reported apart (default: half of --jobs; 0 for none)',
      numberish,
    )
    .option('--json', 'print the summary as JSON on stdout (and no progress bar)')
    .option('--cluster <n>', 'queue mode instead: n worker processes on Redis with cluster-wide host limits', numberish)
    .option('--redis <url>', 'with --cluster: the Redis to use (default: a private redis-server on a free port)');
  addRuntimeFlags(command, DEMO_DEFAULTS);
  command.addHelpText(
    'after',
    `
The target servers run in a child process and count connections per port; the summary shows those counts
against --connections-per-host, which the runtime enforces across all workers together.
${EXIT_CODES_HELP}`,
  );
  command.action(exitWith((flags: DemoFlags) => demoCommand(flags)));
}

async function demoCommand(flags: DemoFlags): Promise<number> {
  if (flags.cluster !== undefined) {
    // Loaded only here: it needs queue mode's packages, optional peers the single-process demo runs without.
    const { clusterDemo } = await import('./demo-cluster.js');
    return clusterDemo({
      processes: integerIn('--cluster', flags.cluster, 1, 64),
      // The default 20,000 suits one process; through a queue with a 50/s host, 3,000 shows the same.
      jobs: integerIn('--jobs', flags.jobs === 20_000 ? 3_000 : flags.jobs, 1, 10_000_000),
      concurrency: integerIn('--concurrency', flags.concurrency, 1, 100_000),
      redis: flags.redis,
      json: flags.json === true,
    });
  }
  const jobs = integerIn('--jobs', flags.jobs, 1, 10_000_000);
  const hosts = integerIn('--hosts', flags.hosts, 1, 256);
  const concurrency = integerIn('--concurrency', flags.concurrency, 1, 100_000);
  const warmup = integerIn('--warmup', flags.warmup ?? Math.ceil(jobs / 2), 0, 10_000_000);
  const showProgress = flags.json !== true;

  // The runtime first: bad options end the demo before any process starts.
  let runtime: Runtime | undefined = await openRuntime(flags, DEMO_DEFAULTS);
  let targets: TargetProcess | undefined;
  try {
    targets = await startTargetProcess(hosts);
    const measured: FloodPlan = { origins: targets.origins, jobs, concurrency };
    const plans = { warmup: { ...measured, jobs: warmup }, measured };
    const { workers, connectionsPerHost } = runtime.options;
    // Wait for the workers to be up (stats() answers from each of them), so the floods measure serving,
    // not thread start-up.
    await runtime.stats();
    const open = runtime;
    const pooled = await floodInPhases(targets, plans, `flowpool (${workers}w)`, showProgress, (p, progress) =>
      floodRuntime(open, p, progress),
    );
    // Stop the workers before the baseline so they do not compete with it for the CPU.
    await runtime.close();
    runtime = undefined;

    await targets.reset();
    // One Agent for both of its floods, so its warm-up warms the measured flood's sockets too.
    const agent = new Agent({ connections: connectionsPerHost });
    const plain = await floodInPhases(targets, plans, 'plain undici Agent', showProgress, (p, progress) =>
      floodUndici(agent, p, progress),
    ).finally(() => agent.close());

    const summary = summarise(
      { jobs, warmup, origins: targets.origins, workers, connectionsPerHost, concurrency },
      pooled,
      plain,
    );
    process.stdout.write(flags.json === true ? `${JSON.stringify(summary, null, 2)}\n` : renderSummary(summary));
    const failed = [summary.flowpool, summary.undici].some(
      (flood) => flood.failed > 0 || (flood.warmup?.failed ?? 0) > 0,
    );
    return failed ? EXIT.failure : EXIT.ok;
  } finally {
    await runtime?.destroy();
    await targets?.stop();
  }
}

/** The warm-up flood (none for 0 jobs), then the measured one, with the servers' counts after each; nothing is reset between. */
async function floodInPhases<T extends FloodOutcome>(
  targets: TargetProcess,
  plans: { readonly warmup: FloodPlan; readonly measured: FloodPlan },
  label: string,
  showProgress: boolean,
  flood: (plan: FloodPlan, progress: (done: number) => void) => Promise<T>,
): Promise<DemoPhases<T>> {
  const withProgress = (what: string, plan: FloodPlan): Promise<T> => {
    const bar = createProgress(what, plan.jobs, showProgress);
    return flood(plan, (done) => bar.set(done)).finally(() => bar.stop());
  };
  let warmup: DemoPhases<T>['warmup'];
  if (plans.warmup.jobs > 0) {
    const outcome = await withProgress(`${label}, warm-up`, plans.warmup);
    warmup = { outcome, counts: await targets.counts() };
  }
  const outcome = await withProgress(label, plans.measured);
  return { warmup, outcome, counts: await targets.counts() };
}

function integerIn(flag: string, value: number | string, min: number, max: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  throw new UsageError(`${flag}: expected an integer from ${min} to ${max}, received ${JSON.stringify(value)}`);
}
