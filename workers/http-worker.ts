/**
 * Worker entry. Built once per thread: the policy, the shared connection counters, ONE undici Agent
 * that every job reuses, and the comlink control surface. The default export is piscina's task
 * function; it never throws and returns plain data only (a non-cloneable return value would crash the
 * worker and every job on it). Jobs arrive in batches and their outcomes leave in batches.
 */
import { subscribe } from 'node:diagnostics_channel';
import { MessageChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { ConnectionCounters } from '../src/connection-counters.js';
import { FlowpoolError, serializeError } from '../src/errors.js';
import { DestinationPolicy } from '../src/policy/index.js';
import type {
  BatchResult,
  ControlPortMessage,
  JobBatch,
  JobOutcome,
  JobRequest,
  OutcomeBatch,
  WorkerBootData,
  WorkerControl,
  WorkerStats,
} from '../src/protocol.js';
import { createAgent } from './agent.js';
import { JobCancellation } from './cancellation.js';
import { executeJob, type ExecuteContext } from './execute.js';
import { TransformRegistry } from './transforms.js';

const boot = workerData as WorkerBootData;
const policy = DestinationPolicy.compile(boot.policy);
const counters = new ConnectionCounters(boot.counters, boot.slots, boot.workers);
/** origin -> counter row, only for origins with a job running here (so the map stays bounded). */
const originSlots = new Map<string, number>();
const runningPerOrigin = new Map<string, number>();
const dispatcher = createAgent({ boot, policy, counters, originSlots });
const agent = dispatcher.agent;
let staleConnectionRetries = 0;
const context: ExecuteContext = {
  dispatcher,
  policy,
  headersTimeoutMs: boot.agent.headersTimeoutMs,
  transforms: new TransformRegistry(boot.transforms),
  onStaleRetry: () => {
    staleConnectionRetries++;
  },
};
const running = new Map<number, { cancellation: JobCancellation; origin: string }>();
let jobsCompleted = 0;

// Connection accounting from undici's own diagnostics channels (per thread, so subscribed here).
let connectionsOpened = 0;
let requestsOnReusedConnections = 0;
const usedSockets = new WeakSet<object>();
subscribe('undici:client:connected', () => {
  connectionsOpened++;
});
subscribe('undici:client:sendHeaders', (message) => {
  const socket = (message as { socket: object }).socket;
  if (usedSockets.has(socket)) requestsOnReusedConnections++;
  else usedSockets.add(socket);
});

/**
 * piscina's task function: runs every job of a batch concurrently. Outcomes go out through the outbox
 * as each job finishes; the task itself resolves (with nothing) once the whole batch is done.
 */
export default async function runBatch(batch: JobBatch): Promise<BatchResult> {
  const jobs = batch.jobs;
  // A batch of one (light or sequential load) answers through the task result itself: one message
  // back instead of two, and no ordering question between them.
  if (jobs.length === 1) return { outcome: await runJob(jobs[0] as JobRequest) };
  const runs: Promise<void>[] = new Array<Promise<void>>(jobs.length);
  for (let i = 0; i < jobs.length; i++) runs[i] = runJob(jobs[i] as JobRequest).then((outcome) => send((jobs[i] as JobRequest).id, outcome));
  await Promise.all(runs);
  return {};
}

async function runJob(job: JobRequest): Promise<JobOutcome> {
  const cancellation = new JobCancellation();
  running.set(job.id, { cancellation, origin: job.origin });
  if (job.slot >= 0) originSlots.set(job.origin, job.slot);
  runningPerOrigin.set(job.origin, (runningPerOrigin.get(job.origin) ?? 0) + 1);
  let outcome: JobOutcome;
  try {
    outcome = await executeJob(job, context, cancellation);
  } finally {
    running.delete(job.id);
    jobsCompleted++;
    const left = (runningPerOrigin.get(job.origin) ?? 1) - 1;
    if (left > 0) runningPerOrigin.set(job.origin, left);
    else {
      runningPerOrigin.delete(job.origin);
      originSlots.delete(job.origin);
    }
  }
  return outcome;
}

// Outcomes finished in the same turn of the event loop (undici completes many sockets per poll
// phase) leave as one message: setImmediate runs right after that poll phase.
let outIds: number[] = [];
let outOutcomes: JobOutcome[] = [];
/** Settles once the pending outcomes have been posted; one promise shared by every job in the flush. */
let flushed: Promise<void> | undefined;
let markFlushed: (() => void) | undefined;

let oldestPendingAt = 0;
/**
 * An outcome may wait for the end of the event-loop turn only this long. On pure I/O a turn is short and
 * batching is free; when jobs run CPU-heavy transforms, a turn holds several of them and a finished
 * result would otherwise sit behind them all.
 */
const MAX_OUTBOX_DELAY_MS = 1;

/**
 * Queues an outcome for the next flush. The promise settles once it is posted: a batch's task must not
 * resolve before its outcomes are out, or a worker dying in between would leave piscina believing the
 * jobs delivered while their callers never heard of them.
 */
function send(id: number, outcome: JobOutcome): Promise<void> {
  outIds.push(id);
  outOutcomes.push(outcome);
  if (flushed === undefined) {
    flushed = new Promise<void>((resolve) => {
      markFlushed = resolve;
    });
    oldestPendingAt = performance.now();
    setImmediate(flush);
    return flushed;
  }
  const pending = flushed;
  if (performance.now() - oldestPendingAt > MAX_OUTBOX_DELAY_MS) flush();
  return pending;
}

function flush(): void {
  // Already flushed early by send(): this setImmediate has nothing left to post.
  if (flushed === undefined) return;
  const done = markFlushed;
  flushed = undefined;
  markFlushed = undefined;
  try {
    post();
  } finally {
    done?.();
  }
}

function post(): void {
  const message: OutcomeBatch = { type: 'flowpool:outcomes', ids: outIds, outcomes: outOutcomes };
  outIds = [];
  outOutcomes = [];
  try {
    parentPort?.postMessage(message);
  } catch {
    // A transform returned something structured clone refuses (a function, a socket): thrown here, it
    // would kill the worker and every job on it. Resend one by one; the offender gets a typed error.
    for (let i = 0; i < message.ids.length; i++) {
      const single: OutcomeBatch = { type: 'flowpool:outcomes', ids: [message.ids[i] as number], outcomes: [message.outcomes[i] as JobOutcome] };
      try {
        parentPort?.postMessage(single);
      } catch (error) {
        const failure: JobOutcome = {
          ok: false,
          error: serializeError(new FlowpoolError('FLOWPOOL_TRANSFORM_FAILED', `result cannot be sent back to the caller: ${(error as Error).message}`)),
        };
        parentPort?.postMessage({ ...single, outcomes: [failure] } satisfies OutcomeBatch);
      }
    }
  }
}

const control: WorkerControl = {
  cancel(id: number): boolean {
    const entry = running.get(id);
    if (entry === undefined) return false;
    entry.cancellation.abort({ kind: 'cancel' });
    // The last job for the origin on this worker: nobody waits for a dial in progress any more.
    if ((runningPerOrigin.get(entry.origin) ?? 0) <= 1) dispatcher.abandonDials(entry.origin);
    return true;
  },
  stats(): WorkerStats {
    const origins: WorkerStats['origins'] = {};
    for (const [origin, s] of Object.entries(agent.stats)) {
      // The Agent holds a Pool per origin (connections > 1), whose stats carry every field.
      if (!('free' in s)) continue;
      origins[origin] = { connected: s.connected, free: s.free, pending: s.pending, queued: s.queued, running: s.running, size: s.size };
    }
    return {
      shard: boot.shard,
      threadId,
      jobsRunning: running.size,
      jobsCompleted,
      connectionsOpened,
      requestsOnReusedConnections,
      staleConnectionRetries,
      origins,
      heapUsedBytes: process.memoryUsage().heapUsed,
    };
  },
};

// The control port travels once, at load, over parentPort (piscina re-emits it as the pool's
// 'message' event), so a replacement worker announces itself the same way.
const { port1, port2 } = new MessageChannel();
Comlink.expose(control, port1 as unknown as Comlink.Endpoint);
port1.unref();
const announcement: ControlPortMessage = { type: 'flowpool:control-port', threadId, port: port2 };
parentPort?.postMessage(announcement, [port2]);
