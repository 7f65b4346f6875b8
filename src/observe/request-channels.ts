/**
 * Diagnostics channels per request sent to a worker (node:diagnostics_channel, main thread), for APMs and
 * loggers. A request is a dispatch: an attempt's own request, or a hop of it handed back (a redirect to
 * another origin, placed again); redirects a worker follows within the origin are part of its dispatch.
 * Every `flowpool:request:start` is followed by exactly one `flowpool:request:end` (an HTTP response) or
 * `flowpool:request:error` (none) with the same `id`, `attempt` and `worker`. Messages are built only while
 * the channel has subscribers.
 */
import { channel } from 'node:diagnostics_channel';

export const requestStartChannel = channel('flowpool:request:start');
export const requestEndChannel = channel('flowpool:request:end');
export const requestErrorChannel = channel('flowpool:request:error');

/** What every request message carries. */
export interface RequestMessage {
  /** The runtime's id of the job (as in `flowpool:job:*`). */
  readonly id: number;
  /** The job's own `id`, if it has one. */
  readonly jobId: string | undefined;
  /** `scheme://host:port` the request goes to (as `URL.origin` writes it: a default port is left out). */
  readonly origin: string;
  readonly method: string;
  /** The request's path, without its query (queries often carry tokens). */
  readonly path: string;
  /** Index of the worker the request was sent to. */
  readonly worker: number;
  /** The attempt it belongs to: 1 for the first, 2 for the first retry, ... */
  readonly attempt: number;
  /** Whose job it is (`'default'` when the job named none). */
  readonly tenant: string;
  /** The job's profile name (`job.profile`); undefined for a job on the runtime's own settings. */
  readonly profile: string | undefined;
}

/** When the request happened, in ms (`performance.now()` differences). */
export interface RequestTimings {
  /** From the job's submission to this request's dispatch to its worker. */
  readonly queuedMs: number;
  /** From this request reaching its worker to the response headers; undefined when none came. */
  readonly headersMs: number | undefined;
  /** From the job's submission to this request's end (for a streamed body: the body's end). */
  readonly totalMs: number;
}

/** `flowpool:request:end`: the request was answered. */
export interface RequestEndMessage extends RequestMessage {
  /** The response's status; undefined for a redirect to another origin handed back (its hop follows). */
  readonly status: number | undefined;
  readonly timings: RequestTimings;
}

/** `flowpool:request:error`: the request ended without a response. */
export interface RequestErrorMessage extends RequestMessage {
  /** The FlowpoolError code it ended with (`FLOWPOOL_CONNECTION_FAILED`, `FLOWPOOL_TIMEOUT`, ...). */
  readonly code: string;
  readonly timings: RequestTimings;
}
