/**
 * One variant of a load suite, in its own process (forked by spawn.ts): opens the client, runs the
 * warm-up, waits while the parent snapshots the target's counts, runs the measured jobs, reports, and
 * exits. See protocol.ts for the message order.
 */
import { openClient, type Client } from './variants.js';
import { drive } from './load.js';
import type { ChildMessage, ChildResult, LoadSpec, ParentMessage } from './protocol.js';

/** A child that has not exited this long after reporting has a leaked handle: exit anyway, and say so. */
const EXIT_GRACE_MS = 5_000;

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) {
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });
}

function nextMessage<K extends ParentMessage['type']>(type: K): Promise<Extract<ParentMessage, { type: K }>> {
  return new Promise((resolve) => {
    const onMessage = (message: ParentMessage): void => {
      if (message.type !== type) return;
      process.off('message', onMessage);
      resolve(message as Extract<ParentMessage, { type: K }>);
    };
    process.on('message', onMessage);
  });
}

async function run(spec: LoadSpec): Promise<ChildResult> {
  const urls = spec.origins.map((origin) => `${origin}${spec.path}`);
  const client: Client = await openClient(spec);
  try {
    const fire = (index: number): Promise<number> => client.fire(urls[index % urls.length] ?? '');
    const warm = await drive(fire, spec.warmup, spec.inflight, 0);
    if (warm.errors > 0) throw new Error(`warm-up: ${warm.errors} requests failed (${warm.firstError ?? '?'})`);
    const go = nextMessage('go');
    await send({ type: 'warmed' });
    await go;
    client.takeJobsPerWorker?.();
    const measured = await drive(fire, spec.jobs, spec.inflight, spec.warmup);
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    const jobsPerWorker = client.takeJobsPerWorker?.();
    return {
      jobs: measured.jobs,
      elapsedMs: measured.elapsedMs,
      reqPerSec: (measured.jobs / measured.elapsedMs) * 1000,
      p50Ms: measured.p50Ms,
      p99Ms: measured.p99Ms,
      nonOk: measured.nonOk + warm.nonOk,
      errors: measured.errors,
      ...(measured.firstError === undefined ? {} : { firstError: measured.firstError }),
      mainThreadUsPerJob: (measured.eluActiveMs * 1000) / measured.jobs,
      ...(measured.mainCpuUs === undefined ? {} : { mainThreadCpuUsPerJob: measured.mainCpuUs / measured.jobs }),
      processCpuUsPerJob: measured.cpuUs / measured.jobs,
      peakRssMb,
      ...(client.workerRssAtRestMb === undefined ? {} : { workerRssAtRestMb: client.workerRssAtRestMb }),
      ...(jobsPerWorker === undefined ? {} : { jobsPerWorker }),
    };
  } finally {
    await client.close();
  }
}

async function main(): Promise<void> {
  // The parent died: never outlive it.
  process.once('disconnect', () => process.exit(0));
  const { spec } = await nextMessage('start');
  let message: ChildMessage;
  try {
    message = { type: 'result', result: await run(spec) };
  } catch (error) {
    message = { type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  await send(message);
  process.removeAllListeners('disconnect');
  process.disconnect();
  setTimeout(() => {
    process.stderr.write(
      `bench child ${spec.variant}: still running ${EXIT_GRACE_MS} ms after its report (a handle was left open); exiting\n`,
    );
    process.exit(3);
  }, EXIT_GRACE_MS).unref();
}

void main();
