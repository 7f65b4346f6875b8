/**
 * The Redis connections queue mode opens, one kind per role. They differ on purpose:
 * - a producer fails fast: no offline queue and no resend after a reconnect, so a `run` that Redis could
 *   not take fails at once with FLOWPOOL_QUEUE_UNAVAILABLE instead of being sent later, behind the
 *   caller's back, after it was told the job was refused;
 * - a consumer (BullMQ worker, QueueEvents, the limits) waits through outages and reconnects for ever:
 *   BullMQ requires `maxRetriesPerRequest: null` on blocking connections, and a worker must come back
 *   by itself after Redis restarts.
 * TCP keep-alive on every socket, so that a half-open connection (a Redis host gone without a FIN) is
 * eventually noticed rather than leaving an idle worker that looks healthy.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { FlowpoolError } from '../errors/flowpool-error.js';
import type { RedisTarget } from './options.js';

export type ConnectionRole = 'producer' | 'consumer';

const COMMON: RedisOptions = {
  keepAlive: 10_000,
  connectTimeout: 5_000,
  // Reconnect quickly at first, then every second: an outage of a few seconds costs about that much.
  retryStrategy: (times: number) => Math.min(times * 100, 1_000),
  lazyConnect: false,
};

const ROLE: Record<ConnectionRole, RedisOptions> = {
  producer: { enableOfflineQueue: false, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0 },
  consumer: { enableOfflineQueue: true, maxRetriesPerRequest: null },
};

/** Opens a connection to `target` configured for `role`. */
export function openRedis(target: RedisTarget, role: ConnectionRole): Redis {
  const options: RedisOptions = { ...COMMON, ...ROLE[role] };
  if (typeof target === 'string') return new Redis(target, options);
  return new Redis({ ...options, ...target });
}

/** Resolves once `redis` is ready, or rejects when `signal` fires first. */
export function whenReady(redis: Redis, signal: AbortSignal): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal.reason as Error);
    };
    const cleanup = (): void => {
      redis.off('ready', onReady);
      signal.removeEventListener('abort', onAbort);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    redis.on('ready', onReady);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Closes a connection without waiting on a Redis that may be gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

/**
 * Where `redis` connects, as `host:port` (`[v6]:port`; a unix socket's path): what an operator needs to
 * find the server, and never the credentials a `redis://user:pass@host` target carried.
 */
export function redisAddress(redis: Redis): string {
  const { host, port, path } = redis.options;
  if (typeof path === 'string' && path !== '') return path;
  const name = host ?? 'localhost';
  return `${name.includes(':') ? `[${name}]` : name}:${String(port ?? 6379)}`;
}

/**
 * `FLOWPOOL_QUEUE_UNAVAILABLE` for `redis`: its address, why it could not be used (`reason`) and, when an
 * error caused it, that error's code (`ECONNREFUSED`, ...) and the error itself as `cause`.
 */
export function queueUnavailable(redis: Redis, reason: string, cause?: unknown): FlowpoolError {
  const address = redisAddress(redis);
  const code = (cause as { code?: unknown } | undefined)?.code;
  return new FlowpoolError(
    'FLOWPOOL_QUEUE_UNAVAILABLE',
    `Redis at ${address} is unavailable: ${reason}`,
    { redis: address, reason, ...(typeof code === 'string' ? { causeCode: code } : {}) },
    cause === undefined ? undefined : { cause },
  );
}
