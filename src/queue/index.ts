/**
 * `flowpool/queue`: queue mode on BullMQ and Redis.
 *
 * Its packages (bullmq, ioredis, rate-limiter-flexible, redis-semaphore) are optional peer dependencies, so
 * they are checked first and the modules that import them are loaded only after the check: a missing one is
 * an Error that says `npm install ...`, not Node's ERR_MODULE_NOT_FOUND. Hence the dynamic imports and the
 * top-level await (the package is ESM only).
 *
 * @module flowpool/queue
 */
import { assertQueuePeers } from './peers.js';

assertQueuePeers();
const client = await import('./client.js');
const worker = await import('./worker.js');

/** Creates a client. Options are validated synchronously (FLOWPOOL_INVALID_OPTIONS); Redis is reached lazily. */
export const createQueueClient: typeof client.createQueueClient = client.createQueueClient;
/**
 * Starts consuming `queue`. Resolves once connected to Redis and taking jobs; bad options reject with
 * FLOWPOOL_INVALID_OPTIONS (the runtime's own included) before any connection is opened.
 */
export const startQueueWorker: typeof worker.startQueueWorker = worker.startQueueWorker;
export type { QueueClient, QueueClientOptions, QueueRunOptions } from './client.js';
export type {
  QueueJobFailure,
  QueueWorker,
  QueueWorkerHealth,
  QueueWorkerHooks,
  QueueWorkerOptions,
  QueueWorkerStats,
} from './worker.js';
export type { QueueResult } from './wire.js';
export type { ClusterOptions, HostLimit, RedisTarget } from './options.js';
export { QUEUE_DEFAULTS } from './options.js';
export type { ClusterLimitStats } from './cluster-limits.js';
