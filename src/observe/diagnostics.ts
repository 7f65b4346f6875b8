/**
 * flowpool's diagnostics channels, for tracing and metrics without touching the hot path when nobody
 * listens (each publish is guarded by `hasSubscribers`). Subscribe with node:diagnostics_channel:
 *
 * - `flowpool:job:start`  `{ id, jobId?, origin, method, worker, attempt }` when a job is sent to a worker
 * - `flowpool:job:end`    `{ id, jobId?, origin, ok, status?, code?, attempts, durationMs }` once it settles
 * - `flowpool:job:retry`  `{ id, jobId?, origin, attempt, delayMs, status?, code? }` when a retry is scheduled
 * - `flowpool:circuit:change` `{ origin, from, to }` when a host's circuit breaker changes state
 *
 * One per request given to a worker: `flowpool:request:start`, `:end`, `:error` (request-channels.ts).
 */
import { channel } from 'node:diagnostics_channel';

export const jobStartChannel = channel('flowpool:job:start');
export const jobEndChannel = channel('flowpool:job:end');
export const jobRetryChannel = channel('flowpool:job:retry');
export const circuitChangeChannel = channel('flowpool:circuit:change');
