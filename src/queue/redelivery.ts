/**
 * What a worker does with a job that was delivered before. BullMQ delivers at least once: when a worker
 * dies (or stops renewing its lock) its active job is moved back and delivered again. For HTTP that can
 * mean a second send, so the job runs again only if it is repeatable (the project's one rule,
 * `isRepeatable`); any other job is answered FLOWPOOL_WORKER_CRASHED without being sent again.
 */
import { isRepeatable } from '../schema.js';

export interface DeliveryCounts {
  /** BullMQ's `attemptsStarted`: times the job was moved to active, this delivery included. */
  readonly attemptsStarted: number;
  /** BullMQ's `stalledCounter`: times the job was found with an expired lock and moved back. */
  readonly stalledCounter: number;
}

export type DeliveryDecision = 'run' | 'rerun' | 'refuse';

/** `run` on a first delivery; on a later one `rerun` if repeatable, else `refuse`. */
export function decideDelivery(
  counts: DeliveryCounts,
  job: { readonly method?: string | undefined; readonly idempotent?: boolean | undefined },
): DeliveryDecision {
  const redelivered = counts.attemptsStarted > 1 || counts.stalledCounter > 0;
  if (!redelivered) return 'run';
  return isRepeatable(job.method, job.idempotent) ? 'rerun' : 'refuse';
}
