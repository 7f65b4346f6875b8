/**
 * A request's start and end told to its observers: the attempt's OpenTelemetry span
 * (observe/request-spans.ts, ended here) and the `flowpool:request:*` channels (observe/request-channels.ts).
 * The pipeline calls these at its few points where a request leaves or ends; each costs a field check
 * (`run.trace`) and a `hasSubscribers` read when nobody observes.
 */
import {
  requestEndChannel,
  requestErrorChannel,
  requestStartChannel,
  type RequestEndMessage,
  type RequestErrorMessage,
  type RequestMessage,
} from '../observe/request-channels.js';
import type { JobOutcome } from '../wire/protocol.js';
import type { JobRun } from './job-run.js';

/** The run's current request was dispatched to `worker`. */
export function requestStarted(run: JobRun, worker: number): void {
  if (requestStartChannel.hasSubscribers) requestStartChannel.publish(startMessage(run, worker));
}

/**
 * The worker answered the run's current request with `outcome` (a streamed success: when its body ended).
 * Call before a hop handed back replaces the run's current request.
 */
export function requestAnswered(run: JobRun, worker: number, outcome: JobOutcome, now: number): void {
  switch (outcome.ok) {
    case true:
      run.trace?.answered(outcome.status);
      if (requestEndChannel.hasSubscribers) publishEnd(run, worker, outcome.status, outcome.headersMs, now);
      return;
    case 'redirect':
      // The attempt goes on at the next origin: its span stays open.
      if (requestEndChannel.hasSubscribers) publishEnd(run, worker, undefined, undefined, now);
      return;
    case 'no-connection':
      // Nothing was sent; the hop is placed again, within the same attempt and span.
      if (requestErrorChannel.hasSubscribers) publishError(run, worker, 'FLOWPOOL_CONNECTION_FAILED', now);
      return;
    case false:
      run.trace?.failed(outcome.error.code, outcome.error.message);
      if (requestErrorChannel.hasSubscribers) publishError(run, worker, outcome.error.code, now);
      return;
  }
}

/** The run's current request ended without an answer from its worker (it died, or the job left the outbox). */
export function requestFailed(run: JobRun, worker: number, code: string, message: string): void {
  run.trace?.failed(code, message);
  if (requestErrorChannel.hasSubscribers) publishError(run, worker, code, performance.now());
}

function publishEnd(
  run: JobRun,
  worker: number,
  status: number | undefined,
  headersMs: number | undefined,
  now: number,
): void {
  const job = run.job;
  const hop = run.hop;
  // One literal per message: spreading a shared part into it cost microseconds per message in V8 (Node 20).
  const message: RequestEndMessage = {
    id: run.id,
    jobId: job.id,
    origin: run.origin,
    method: hop?.method ?? job.method,
    path: pathOf(run),
    worker,
    attempt: run.attempts,
    tenant: job.tenant,
    profile: job.profileName,
    status,
    timings: timingsOf(run, headersMs, now),
  };
  requestEndChannel.publish(message);
}

function publishError(run: JobRun, worker: number, code: string, now: number): void {
  const job = run.job;
  const hop = run.hop;
  const message: RequestErrorMessage = {
    id: run.id,
    jobId: job.id,
    origin: run.origin,
    method: hop?.method ?? job.method,
    path: pathOf(run),
    worker,
    attempt: run.attempts,
    tenant: job.tenant,
    profile: job.profileName,
    code,
    timings: timingsOf(run, undefined, now),
  };
  requestErrorChannel.publish(message);
}

function timingsOf(run: JobRun, headersMs: number | undefined, now: number): RequestEndMessage['timings'] {
  return { queuedMs: run.hopDispatchedAt - run.submittedAt, headersMs, totalMs: now - run.submittedAt };
}

function startMessage(run: JobRun, worker: number): RequestMessage {
  const job = run.job;
  const hop = run.hop;
  return {
    id: run.id,
    jobId: job.id,
    origin: run.origin,
    method: hop?.method ?? job.method,
    path: pathOf(run),
    worker,
    attempt: run.attempts,
    tenant: job.tenant,
    profile: job.profileName,
  };
}

/** The current request's path without its query. */
function pathOf(run: JobRun): string {
  const path = run.hop?.path ?? run.job.path;
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}
