/**
 * The stress harness: `node dist/bench/stress/run.js [--seconds 60] [--crash-every 5] ...`.
 *
 * Starts misbehaving loopback servers in a process of their own (healthy, slow, keep-alive-closing,
 * resetting, never-answering), floods a runtime through runMany with a generator for `--seconds`
 * (GET, POST and idempotent PUT over every host), kills a worker every `--crash-every` seconds with a
 * fault transform (process.exit, an uncaught exception, the heap limit, in turn), drains, and prints
 * the accounting: submitted, resolved, rejected by code, lost, settled twice, resends, worker restarts,
 * peak RSS and heap, and the peak of open connections per host against the cap.
 *
 * Exit code 1 if a job was lost or settled twice, a POST reached a server twice, a host's open sockets
 * exceeded connectionsPerHost, or the runtime's totals disagree with the harness's ledger; 2 for bad
 * flags. It ends on its own: runtime closed, servers stopped; if a handle still holds the process 5 s
 * after the report, it names it and exits 1.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createRuntime } from '../../src/index.js';
import { parseArgs, type StressConfig } from './args.js';
import { flood, JOB_TIMEOUT_MS } from './jobs.js';
import { Ledger } from './ledger.js';
import { Monitor } from './monitor.js';
import type { HarnessMessage, ServersMessage } from './protocol.js';
import { render, verdict } from './report.js';

const SERVERS_FILE = new URL('./servers-process.js', import.meta.url);
/** The fault modules live beside the sources (tsc does not copy .mjs files into dist). */
const FAULTS_DIR = new URL('../../../bench/stress/faults/', import.meta.url);
/**
 * Longest a job can still take once the flood stops: its deadline, the watchdog's grace, and one
 * re-run after a crash with a fresh deadline; plus margin. Past it, what has not settled is lost.
 */
const DRAIN_BOUND_MS = 2 * JOB_TIMEOUT_MS + 10_000;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function main(): Promise<number> {
  let config: StressConfig;
  try {
    config = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }

  const servers = fork(SERVERS_FILE, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const serversExited = once(servers, 'exit');
  const nextMessage = <T extends ServersMessage['type']>(type: T): Promise<Extract<ServersMessage, { type: T }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the servers process sent no "${type}" within 10 s`)), 10_000);
      const onMessage = (message: ServersMessage): void => {
        if (message.type !== type) return;
        clearTimeout(timer);
        servers.off('message', onMessage);
        resolve(message as Extract<ServersMessage, { type: T }>);
      };
      servers.on('message', onMessage);
    });
  const tell = (message: HarnessMessage): void => {
    if (servers.connected) servers.send(message);
  };
  const { ports } = await nextMessage('ready');

  const fault = (name: string): string => fileURLToPath(new URL(`${name}.mjs`, FAULTS_DIR));
  const runtime = createRuntime({
    workers: config.workers,
    connectionsPerHost: config.connectionsPerHost,
    timeoutMs: JOB_TIMEOUT_MS,
    // The heap-limit fault needs a limit; 64 MB is several times what a worker uses under this flood.
    workerResourceLimits: { maxOldGenerationSizeMb: 64 },
    transforms: { exit: fault('exit'), uncaught: fault('uncaught'), allocate: fault('allocate') },
    policy: { allow: ['127.0.0.1'] },
  });
  const ledger = new Ledger();
  const monitor = new Monitor(runtime);
  let faultsInjected = 0;
  const started = performance.now();
  const endAt = Date.now() + config.seconds * 1000;
  const jobs = flood({
    ports: ports,
    endAt,
    crashEveryMs: config.crashEverySeconds * 1000,
    onJob: (seq, type) => {
      ledger.submit(seq, type);
      if (type >= 100) faultsInjected++;
    },
  });
  const progress = setInterval(() => {
    const figures = monitor.figures();
    log(
      `  ${((performance.now() - started) / 1000).toFixed(0)} s: submitted ${ledger.submitted}, settled ${ledger.settled}, ` +
        `restarts ${figures.last?.totals.workerRestarts ?? 0}, rss ${(figures.peakRss / 1024 / 1024).toFixed(0)} MB`,
    );
  }, 10_000);

  let floodEnded = 0;
  const consumed = (async () => {
    for await (const result of runtime.runMany(jobs, { concurrency: config.concurrency })) {
      if (result.ok) ledger.settle(result.index, 'ok');
      else {
        const { code, message, details } = result.error;
        ledger.settle(
          result.index,
          code,
          `${message}${details.causeCode === undefined ? '' : ` [${details.causeCode}]`}`,
        );
      }
      if (floodEnded === 0 && Date.now() >= endAt) floodEnded = performance.now();
    }
  })();
  let drainTimer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    consumed.then(() => true),
    // Starts counting once the flood has ended: checked every second, bounded in total.
    new Promise<false>((resolve) => {
      const check = setInterval(() => {
        if (Date.now() < endAt) return;
        clearInterval(check);
        drainTimer = setTimeout(() => resolve(false), DRAIN_BOUND_MS);
      }, 1_000);
      void consumed.finally(() => clearInterval(check));
    }),
  ]);
  clearTimeout(drainTimer);
  const finished = performance.now();
  if (floodEnded === 0) floodEnded = finished;
  clearInterval(progress);

  await monitor.sample();
  monitor.stop();
  const stats = await runtime.stats();
  tell({ type: 'counts' });
  const { servers: counts } = await nextMessage('counts');
  // Nothing lost: close() drains (and returns at once). Something lost: close() would wait for it.
  if (drained) await runtime.close();
  else await runtime.destroy();
  tell({ type: 'stop' });
  await serversExited;

  const facts = {
    config,
    floodMs: floodEnded - started,
    drainMs: finished - floodEnded,
    drained,
    faultsInjected,
    ledger,
    monitor: monitor.figures(),
    servers: counts,
    runtimeSubmitted: stats.totals.submitted,
    runtimeSettled: stats.totals.succeeded + stats.totals.failed,
    workerRestarts: stats.totals.workerRestarts,
    rerunsAfterCrash: stats.totals.rerunsAfterCrash,
  };
  const result = verdict(facts);
  process.stdout.write(`${render(facts, result)}\n`);
  return result.ok ? 0 : 1;
}

const code = await main();
process.exitCode = code;
// Everything is closed: the process should end now. If a handle keeps it alive, say which and fail.
setTimeout(() => {
  process.stderr.write(
    `stress: still running 5 s after the report; active resources: ${process.getActiveResourcesInfo().join(', ')}\n`,
  );
  process.exit(1);
}, 5_000).unref();
