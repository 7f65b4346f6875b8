/**
 * The benchmark orchestrator: `node dist/bench/run.js [--quick] [--smoke] [--rounds N] [--only ...]`.
 * Starts the loopback target servers in a process of their own, runs the suites (each load variant in
 * a child process of its own), prints a table per suite, and writes bench/results/latest.json and
 * latest.svg (quick mode: quick.json only; smoke mode: nothing). Exits non-zero only when a variant
 * crashed or saw a non-200 response, or the mix's clients did visibly different work; never on a timing.
 */
import { startTargetProcess, type TargetProcess } from '../src/cli/target-process.js';
import { parseArgs, type BenchConfig } from './config.js';
import { loadSuites } from './load-suites.js';
import { describeMachine, machineLine } from './machine.js';
import { runMicro } from './micro.js';
import { runPayload } from './payload/run-payload.js';
import { toJson, writeAtomically, type BenchResults } from './report/results.js';
import { renderChart } from './report/svg.js';
import { sequentialTable, throughputTable, tinybenchTable } from './report/table.js';
import { runSuite, type SuiteSummary } from './rounds.js';
import { runSeed } from './seed.js';
import { runTracing, tracingTable } from './tracing.js';
import { requestTracingTable, runRequestTracing } from './request-tracing.js';
import { hooksTable, runHooks } from './hooks.js';
import { runHttps } from './https/run-https.js';
import { queueTable, runQueueBench } from './queue/run-queue.js';
import { abFailures, abTable, runAb } from './ab/run-ab.js';
import { coldTable, runCold } from './cold/run-cold.js';
import { mixFailures, mixTables } from './mix/report.js';
import { runMix, type MixResult } from './mix/run-mix.js';
import type { TaskSummary } from './tinybench-summary.js';
import { measureHeavy, type HeavyCost } from './workloads/measure-heavy.js';

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(): Promise<number> {
  let config: BenchConfig;
  try {
    config = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const started = performance.now();
  const machine = describeMachine();
  log(`flowpool bench, ${config.mode} mode: ${config.rounds} round(s), suites ${config.suites.join(', ')}`);
  log(machineLine(machine));

  const targets = await startTargetProcess(8);
  // Ctrl-C: stop the target process first (children exit on their own when their parent's IPC closes).
  const onSignal = (): void => {
    void targets.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const suites: SuiteSummary[] = [];
  const tables: string[] = [];
  let heavyCost: HeavyCost | undefined;
  let seed: TaskSummary[] | undefined;
  let micro: TaskSummary[] | undefined;
  let mix: MixResult | undefined;
  const abFailed: string[] = [];
  try {
    for (const suite of loadSuites(config)) {
      log(`\n${suite.title}`);
      if (suite.name === 'cpu-heavy') {
        heavyCost = await measureHeavy(`${targets.origins[0] ?? ''}/large`);
      }
      const summary = await runSuite(suite, config, targets, log);
      suites.push(summary);
      const table = suite.name === 'sequential' ? sequentialTable(summary) : throughputTable(summary);
      const notes = summary.variants
        .filter((v) => v.median.workerRssAtRestMb !== undefined)
        .map((v) => {
          const spread = v.rounds
            .map((r) => ('jobsPerWorker' in r && r.jobsPerWorker !== undefined ? r.jobsPerWorker.join('/') : '-'))
            .join(', ');
          return `${v.variant}: ${(v.median.workerRssAtRestMb ?? 0).toFixed(1)} MB RSS per worker at rest; measured jobs per worker, by round: ${spread}`;
        });
      if (suite.name === 'cpu-heavy' && heavyCost !== undefined) {
        notes.push(
          `heavy workload per response, measured here: JSON.parse ${heavyCost.parseMs.toFixed(2)} ms + transform ${heavyCost.transformMs.toFixed(2)} ms (median of 40)`,
        );
      }
      const text = [table, ...notes].join('\n');
      tables.push(`${suite.title}\n${text}`);
      log(`\n${text}`);
    }
    if (config.suites.includes('ab')) {
      log('\nSame-process A/B: every client in one process, long-lived, taking turns (also the workers table)');
      const results = await runAb(config, targets, log);
      for (const result of results) {
        const table = abTable(result);
        tables.push(`${result.title}\n${table}`);
        log(`\n${result.title}\n${table}`);
      }
      abFailed.push(...abFailures(results));
    }
    if (config.suites.includes('cold')) {
      log('\nCold start: a new client per process, its first jobs over 8 hosts, 256 in flight');
      const cold = await runCold(config, targets, log);
      const title = `Cold start: the first ${String(cold.jobs)} jobs of a new client (fresh process each)`;
      const table = coldTable(cold.rows);
      tables.push(`${title}\n${table}`);
      log(`\n${title}\n${table}`);
      abFailed.push(...cold.rows.filter((r) => r.failures > 0).map((r) => `cold/${r.label}`));
    }
    if (config.suites.includes('queue')) {
      log('\nQueue mode: submit to result through BullMQ on Redis (worker processes, loopback target process)');
      const queue = await runQueueBench(targets, { jobs: config.floodJobs / 4, rounds: config.rounds }, log);
      const table = queueTable(queue);
      tables.push(`Queue mode (end to end, jobs/s)\n${table}`);
      log(table);
      if (queue.failures > 0) process.stderr.write(`queue suite: ${queue.failures} job(s) failed\n`);
    }
    if (config.suites.includes('seed')) {
      log("\nThe seed's four, through flowpool (tinybench, loopback target process)");
      seed = await runSeedSafely(config, targets);
      const table = tinybenchTable(seed, 'us');
      tables.push(`The seed's four, through flowpool (tinybench)\n${table}`);
      log(table);
    }
    if (config.suites.includes('tracing')) {
      log('\nTracing (workflow layer: OpenTelemetry spans per run and node, and the request spans under them)');
      const table = tracingTable(await runTracing(config, targets.origins[0] ?? ''), config);
      tables.push(`Tracing\n${table}`);
      log(table);
    }
    if (config.suites.includes('request-tracing')) {
      log('\nRequest observers (runtime: OpenTelemetry request spans, flowpool:request:end subscriber)');
      const table = requestTracingTable(await runRequestTracing(config, targets.origins[0] ?? ''));
      tables.push(`Request observers\n${table}`);
      log(table);
    }
    if (config.suites.includes('hooks')) {
      log('\nHooks (createRuntime({ hooks }): no hooks against a trivial beforeRequest, one process)');
      const table = hooksTable(await runHooks(config, targets.origins[0] ?? ''), config);
      tables.push(`Hooks\n${table}`);
      log(table);
    }
    if (config.suites.includes('https')) {
      const https = await runHttps(config, log);
      suites.push(...https.suites);
      tables.push(...https.tables);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await targets.stop();
  }
  // After the 8-host targets have stopped: the mix brings its own target process.
  if (config.suites.includes('mix')) {
    try {
      mix = await runMix(config, log);
      const text = mixTables(mix);
      tables.push(`${mix.title}\n${text}`);
      log(`\n${text}`);
      abFailed.push(...mixFailures(mix));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`mix suite: ${message}\n`);
      abFailed.push(`mix (crashed: ${message.split('\n')[0] ?? ''})`);
    }
  }
  if (config.suites.includes('payload')) {
    log('\nPayload: 100 MB bodies through flowpool vs undici on the main thread (a process per variant)');
    const table = await runPayload(config, log);
    tables.push(`Payload (100 MB bodies)\n${table}`);
    log(table);
  }
  if (config.suites.includes('micro')) {
    log('\nMicro (tinybench, no threads, no network)');
    micro = await runMicro(config);
    const table = tinybenchTable(micro, 'ops');
    tables.push(`Micro (tinybench)\n${table}`);
    log(table);
  }

  const durationS = (performance.now() - started) / 1000;
  log(`\n==== summary (${config.mode}, medians of ${config.rounds} round(s), ${durationS.toFixed(0)} s) ====`);
  for (const table of tables) log(`\n${table}`);
  log(`\n${machineLine(machine)}`);

  if (config.output !== undefined) {
    const { output, ...rest } = config;
    const results: BenchResults = {
      schema: 1,
      machine,
      config: rest,
      durationS,
      ...(heavyCost === undefined ? {} : { heavyCost }),
      suites,
      ...(seed === undefined ? {} : { seed }),
      ...(micro === undefined ? {} : { micro }),
      ...(mix === undefined ? {} : { mix }),
    };
    await writeAtomically(output.json, toJson(results));
    log(`wrote ${output.json}`);
    const charted = suites.filter((s) => s.name === 'flood' || s.name === 'cpu-heavy');
    if (output.svg !== undefined && charted.length > 0) {
      await writeAtomically(output.svg, renderChart(charted, machineLine(machine)));
      log(`wrote ${output.svg}`);
    }
  }

  const failed = suites.flatMap((s) => s.variants.filter((v) => v.failures > 0).map((v) => `${s.name}/${v.variant}`));
  const seedFailed = [...(seed ?? []), ...(micro ?? [])].filter((t) => t.error !== undefined).map((t) => t.name);
  if (failed.length + seedFailed.length + abFailed.length > 0) {
    process.stderr.write(`failed: ${[...failed, ...seedFailed, ...abFailed].join(', ')}\n`);
    return 1;
  }
  return 0;
}

async function runSeedSafely(config: BenchConfig, targets: TargetProcess): Promise<TaskSummary[]> {
  try {
    return await runSeed(config, targets);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return [
      {
        name: 'seed suite',
        medianUs: Number.NaN,
        meanUs: Number.NaN,
        p99Us: Number.NaN,
        opsPerSec: Number.NaN,
        samples: 0,
        error: message,
      },
    ];
  }
}

// exitCode, not exit(): the process ends when its last handle closes, which is the check that nothing leaked.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
