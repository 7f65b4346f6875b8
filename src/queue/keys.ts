/**
 * Names in Redis: BullMQ's own keys are `<prefix>:<queue>:...`; flowpool's sit beside them under
 * `<prefix>:<queue>:fp:...`. BullMQ refuses custom job ids with ':', so ours never contain one.
 */
import { createHash, randomUUID } from 'node:crypto';

export interface QueueAddress {
  readonly prefix: string;
  readonly queue: string;
}

/** A fresh job id for a job without an idempotency key. */
export function newJobId(): string {
  return `j-${randomUUID()}`;
}

/**
 * An idempotency key as it travels and is stored: the digest of the client's `namespace` and the caller's
 * key together, so the same key in two namespaces (tenants) names two jobs and two records. The raw key
 * never reaches Redis. Queue scoping comes from the names below (`<prefix>:<queue>:...`).
 */
export function scopedIdempotencyKey(namespace: string | undefined, idempotencyKey: string): string {
  return createHash('sha256')
    .update(JSON.stringify([namespace ?? null, idempotencyKey]))
    .digest('hex');
}

/** The hash of an idempotency key: keys are the caller's strings, of any length and content. */
export function keyDigest(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex');
}

/** The job id of a keyed job: the same key always names the same BullMQ job. */
export function keyedJobId(idempotencyKey: string): string {
  return `k-${keyDigest(idempotencyKey)}`;
}

/** Where the result of a keyed job is retained. */
export function idempotencyRecordKey(address: QueueAddress, idempotencyKey: string): string {
  return `${address.prefix}:${address.queue}:fp:idem:${keyDigest(idempotencyKey)}`;
}

/** Where a host's rate windows are counted (rate-limiter-flexible adds its own prefix part). */
export function rateKeyPrefix(address: QueueAddress): string {
  return `${address.prefix}:${address.queue}:fp:rate`;
}

/** The semaphore of one host's concurrency permits. */
export function permitKey(address: QueueAddress, host: string): string {
  return `${address.prefix}:${address.queue}:fp:permits:${host}`;
}
