/**
 * Worker entry, loaded by piscina. Built once per thread: the policy, the shared connection counters,
 * ONE undici Agent per profile in use (profile-lanes.ts) that every job of that profile reuses, the comlink
 * control surface (stats) and the job port. Jobs and cancels arrive in order on the job port (profiles too,
 * ahead of the jobs that name them) and outcomes leave in batches on it; an outcome is plain data only (a
 * non-cloneable value would fail the post, see post()).
 */
import { subscribe } from 'node:diagnostics_channel';
import { MessageChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { ConnectionCounters } from '../wire/connection-counters.js';
import { FlowpoolError, serializeError } from '../errors/flowpool-error.js';
import { DestinationPolicy } from '../policy/index.js';
import { decodeJobs, OUTCOME_STRIDE, pushOutcome, type JobsMessage, type OutcomesMessage } from '../wire/codec.js';
import type {
  ControlPortMessage,
  JobRequest,
  ProfilesMessage,
  WorkerBootData,
  WorkerControl,
  WorkerOutcome,
  WorkerStats,
} from '../wire/protocol.js';
import { receiveChunks } from '../wire/chunk-port.js';
import { isPort, outcomeTransferables } from '../wire/transfer-list.js';
import { createAgent } from './connect/agent.js';
import { Deadlines } from '../timing/deadlines.js';
import { ProfileLanes } from './connect/profile-lanes.js';
import { CANCELLED } from './request/failures.js';
import { JobExecution, type ExecutionContext } from './request/job-execution.js';
import type { ExpiringJob } from './request/execution-context.js';
import { TransformRegistry } from './request/transforms.js';

const boot = workerData as WorkerBootData;
const policy = DestinationPolicy.compile(boot.policy);
const counters = new ConnectionCounters(boot.counters, boot.slots, boot.workers);
/** origin -> counter row, only for origins with a job running here (so the map stays bounded). */
const originSlots = new Map<string, number>();
const runningPerOrigin = new Map<string, number>();
/** One dispatcher per profile in use; the runtime's own (profile 0) at load, the others on first use. */
const lanes = new ProfileLanes(policy, (lanePolicy, profile) =>
  createAgent({
    boot,
    policy: lanePolicy,
    transport: profile?.transport ?? boot.transport,
    counters,
    originSlots,
    onCapFull(origin) {
      // The cap counts every profile's sockets to the origin: idle ones of other profiles give way.
      for (const lane of lanes.all()) lane.dispatcher.dropIdleSockets(origin);
    },
  }),
);
/** The runtime's own settings (profile 0): the plain path's lane, looked up once. */
const defaultLane = lanes.default;
let staleConnectionRetries = 0;
const running = new Map<number, JobExecution>();
let jobsCompleted = 0;

const context: ExecutionContext = {
  headersTimeoutMs: boot.agent.headersTimeoutMs,
  transforms: new TransformRegistry(boot.transforms),
  deadlines: new Deadlines<ExpiringJob>((execution, now) => {
    execution.expire(now);
  }),
  onStaleRetry() {
    staleConnectionRetries++;
  },
  complete(execution, outcome) {
    jobEnded(execution.job);
    // The runtime's own lane is never replaced: only a profile's jobs are counted (to close it once replaced).
    if (execution.job.profile !== 0) lanes.jobEnded(execution.lane);
    send(execution.job.id, outcome);
  },
};

// Jobs in, outcomes out. Referenced: piscina keeps the thread alive anyway, and the port must
// deliver for as long as the thread lives.
const { port1: jobPort, port2: jobPortRemote } = new MessageChannel();
jobPort.on('message', (message: JobsMessage | ProfilesMessage) => {
  if (Array.isArray(message)) decodeJobs(message, runJob, cancel);
  else lanes.install(message);
});

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
 * Jobs and cancels arrive on the job port, in the order the main thread decided them: a cancel is always
 * behind the job it cancels. Jobs run concurrently; each outcome goes out through the outbox as its job
 * finishes. Not piscina tasks: a task costs piscina's per-task bookkeeping on both threads and a completion
 * message of its own. piscina owns the thread (start, resource limits, replacement after a crash).
 */
function runJob(received: JobRequest): void {
  const lane = received.profile === 0 ? defaultLane : lanes.laneFor(received.profile);
  if (lane === undefined) {
    // Profiles travel ahead of the jobs that name them, so this is a flowpool bug, answered as a failure.
    const error = new FlowpoolError(
      'FLOWPOOL_INVALID_JOB',
      `invalid job: job.profile: profile ${received.profile} unknown to the worker`,
      { field: 'job.profile' },
    );
    send(received.id, { ok: false, error: serializeError(error), sent: false });
    return;
  }
  const job = withStreamedBody(received);
  const execution = new JobExecution(job, context, lane);
  if (received.profile !== 0) lanes.jobStarted(lane);
  running.set(job.id, execution);
  if (job.slot >= 0) originSlots.set(job.origin, job.slot);
  runningPerOrigin.set(job.origin, (runningPerOrigin.get(job.origin) ?? 0) + 1);
  execution.start();
}

/** A streamed request body arrives as the port of its chunks: undici reads it as a web stream. */
function withStreamedBody(job: JobRequest): JobRequest {
  if (!isPort(job.body)) return job;
  const body = receiveChunks(
    job.body,
    () => new FlowpoolError('FLOWPOOL_INVALID_JOB', 'invalid job: job.body: the stream was closed before its end'),
  );
  return { ...job, body };
}

/** The job has its outcome: it no longer runs here. */
function jobEnded(job: JobRequest): void {
  // A streamed body undici never began to read (the job was stopped, refused or failed to connect
  // first): cancel it, which closes its port and cancels the caller's source, instead of leaving its
  // window of chunks and the caller's generator hanging. One undici read is locked and ends with it.
  if (job.body instanceof ReadableStream && !job.body.locked) void job.body.cancel().catch(() => undefined);
  running.delete(job.id);
  jobsCompleted++;
  const left = (runningPerOrigin.get(job.origin) ?? 1) - 1;
  if (left > 0) runningPerOrigin.set(job.origin, left);
  else {
    runningPerOrigin.delete(job.origin);
    originSlots.delete(job.origin);
  }
}

/**
 * Aborts one running job; the others on this worker are untouched. An id no longer running has already
 * finished: its outcome is in the outbox or on its way, and it answers the cancel.
 */
function cancel(id: number): void {
  const execution = running.get(id);
  if (execution === undefined) return;
  const origin = execution.job.origin;
  // Read before the abort: the job may end inside it (its outcome is built at once) and leave the count.
  const last = (runningPerOrigin.get(origin) ?? 0) <= 1;
  execution.abort(CANCELLED);
  // The last job for the origin on this worker: nobody waits for a dial in progress any more.
  if (last) for (const lane of lanes.all()) lane.dispatcher.abandonDials(origin);
}

/** piscina's task entry, required of the module but never called: jobs come on the job port. */
export default function unusedTask(): never {
  throw new Error('flowpool workers take jobs on their job port, not as piscina tasks');
}

// Outcomes finished in the same turn of the event loop (undici completes many sockets per poll
// phase) leave as one message: setImmediate runs right after that poll phase.
let outbox: OutcomesMessage = [];
let flushScheduled = false;
let oldestPendingAt = 0;
/**
 * An outcome may wait for the end of the event-loop turn only this long. On pure I/O a turn is short and
 * batching is free; when jobs run CPU-heavy transforms, a turn holds several of them and a finished
 * result would otherwise sit behind them all.
 */
const MAX_OUTBOX_DELAY_MS = 1;

/** Queues an outcome for the next flush. */
function send(id: number, outcome: WorkerOutcome): void {
  pushOutcome(outbox, id, outcome);
  if (!flushScheduled) {
    flushScheduled = true;
    oldestPendingAt = performance.now();
    setImmediate(flush);
  } else if (performance.now() - oldestPendingAt > MAX_OUTBOX_DELAY_MS) {
    post();
    oldestPendingAt = performance.now();
  }
}

function flush(): void {
  flushScheduled = false;
  // Flushed early by send() and nothing since: no empty message.
  if (outbox.length > 0) post();
}

function post(): void {
  const message = outbox;
  outbox = [];
  try {
    jobPort.postMessage(message, outcomeTransferables(message));
  } catch {
    // A transform returned something structured clone refuses (a function, a socket): thrown here, it
    // would kill the worker and every job on it. Resend one record at a time; the offender gets a typed error.
    postOneByOne(message);
  }
}

function postOneByOne(message: OutcomesMessage): void {
  for (let i = 0; i < message.length; i += OUTCOME_STRIDE) {
    const single = message.slice(i, i + OUTCOME_STRIDE);
    try {
      jobPort.postMessage(single, outcomeTransferables(single));
    } catch (error) {
      const failed: OutcomesMessage = [];
      pushOutcome(failed, single[0] as number, {
        ok: false,
        error: serializeError(
          new FlowpoolError(
            'FLOWPOOL_TRANSFORM_FAILED',
            `result cannot be sent back to the caller: ${(error as Error).message}`,
          ),
        ),
        // A transform runs on a response: the request was sent.
        sent: true,
      });
      jobPort.postMessage(failed);
    }
  }
}

const control: WorkerControl = {
  stats(): WorkerStats {
    const origins: WorkerStats['origins'] = {};
    // Summed over the profiles' dispatchers: an origin's sockets, whichever profile holds them.
    for (const lane of lanes.all()) {
      for (const [origin, s] of Object.entries(lane.dispatcher.agent.stats)) {
        // The Agent holds a Pool per origin (connections > 1), whose stats carry every field.
        if (!('free' in s)) continue;
        const seen = origins[origin];
        origins[origin] = {
          connected: s.connected + (seen?.connected ?? 0),
          free: s.free + (seen?.free ?? 0),
          pending: s.pending + (seen?.pending ?? 0),
          queued: s.queued + (seen?.queued ?? 0),
          running: s.running + (seen?.running ?? 0),
          size: s.size + (seen?.size ?? 0),
        };
      }
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

// The ports travel once, at load, over parentPort (piscina re-emits it as the pool's 'message' event),
// so a replacement worker announces itself the same way.
const { port1, port2 } = new MessageChannel();
Comlink.expose(control, port1);
port1.unref();
const announcement: ControlPortMessage = { type: 'flowpool:control-port', threadId, port: port2, jobs: jobPortRemote };
parentPort?.postMessage(announcement, [port2, jobPortRemote]);
