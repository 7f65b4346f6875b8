/** `flowpool/queue`: queue mode on BullMQ and Redis. Named re-exports only. */
export { createQueueClient } from './client.js';
export type { QueueClient, QueueClientOptions, QueueRunOptions } from './client.js';
export { startQueueWorker } from './worker.js';
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
