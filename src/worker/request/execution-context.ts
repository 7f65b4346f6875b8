/** What every job on a worker shares (built once at worker load), and the small rules every execution applies. */
import type { JobRequest, WorkerOutcome } from '../../wire/protocol.js';
import type { ProfileLane } from '../connect/profile-lanes.js';
import type { Deadline, Deadlines } from '../../timing/deadlines.js';
import type { TransformRegistry } from './transforms.js';

/** A job the context is told about (a JobExecution). */
export interface RunningJob {
  readonly job: JobRequest;
  readonly lane: ProfileLane;
}

/** A running job on the worker's deadline list: it aborts itself when its deadline passes. */
export interface ExpiringJob extends Deadline {
  expire(now: number): void;
}

/**
 * What every job on a worker shares. A job's dispatcher and policy are its profile's (its lane, given to
 * each JobExecution), not the context's.
 */
export interface ExecutionContext {
  readonly headersTimeoutMs: number;
  readonly transforms: TransformRegistry;
  readonly deadlines: Deadlines<ExpiringJob>;
  /** Counts resends after a stale keep-alive socket (for stats). */
  onStaleRetry(): void;
  /** The job's one outcome (called exactly once). */
  complete(execution: RunningJob, outcome: WorkerOutcome): void;
}

/**
 * Socket-level failures that, before any response byte, mean the server closed a kept-alive socket
 * as we wrote to it (the keep-alive race), not that it refused the request.
 */
export const STALE_SOCKET_CODES: ReadonlySet<string> = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

export function hasHeader(headers: readonly string[], name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return true;
  return false;
}
