/**
 * Per-host limits held across every worker process of a queue, through Redis:
 * - rates with rate-limiter-flexible's RateLimiterRedis (one atomic Lua increment per check) over short
 *   wall-clock windows (rate-slots.ts), plus an optional `burst` allowance in a second limiter;
 * - concurrency with redis-semaphore's Semaphore: a permit is a lease, renewed by its holder at 0.8 of
 *   `leaseMs`, so the permits of a process killed while holding them come back at most `leaseMs` after
 *   its last renewal. BullMQ's own limiter is per queue, not per host (per-group limits are BullMQ Pro).
 * A permit is taken first, then a rate token, then the request starts: taking the token first and then
 * waiting for a permit would let tokens pile up and the requests leave together later.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { Semaphore } from 'redis-semaphore';
import { FlowpoolError } from '../errors/flowpool-error.js';
import { HostPatterns } from '../policy/host-patterns.js';
import { permitKey, rateKeyPrefix, type QueueAddress } from './keys.js';
import type { HostLimit, ResolvedClusterOptions } from './options.js';
import { msUntilNextSlot, rateSlots, slotIndex, type RateSlots } from './rate-slots.js';

/** Held while a request runs; `release` is idempotent. */
export interface HostPermit {
  release(): Promise<void>;
}

/** Counters for `stats()`. */
export interface ClusterLimitStats {
  /** Times a job waited for a concurrency permit. */
  permitWaits: number;
  /** Times a job found its host's rate window full and waited. */
  rateWaits: number;
  /** Permits whose lease could not be renewed (Redis unreachable longer than the lease). */
  leasesLost: number;
}

/** How often a waiting job asks for a permit again (redis-semaphore polls). */
const PERMIT_RETRY_MS = 20;
/** Waiting on Redis errors before asking again. */
const REDIS_TROUBLE_RETRY_MS = 100;

const NO_PERMIT: HostPermit = { release: () => Promise.resolve() };

interface RateRule {
  readonly slots: RateSlots;
  readonly steady: RateLimiterRedis;
  readonly burst: RateLimiterRedis | undefined;
}

export class ClusterLimits {
  readonly stats: ClusterLimitStats = { permitWaits: 0, rateWaits: 0, leasesLost: 0 };
  readonly #redis: Redis;
  readonly #address: QueueAddress;
  readonly #leaseMs: number;
  readonly #patterns: HostPatterns<HostLimit>;
  readonly #rates = new Map<HostLimit, RateRule>();

  constructor(redis: Redis, address: QueueAddress, options: ResolvedClusterOptions) {
    this.#redis = redis;
    this.#address = address;
    this.#leaseMs = options.leaseMs;
    this.#patterns = new HostPatterns(options.hostLimits);
    for (const [pattern, limit] of Object.entries(options.hostLimits)) {
      if (limit.rps === undefined) continue;
      const slots = rateSlots(limit.rps);
      const prefix = `${rateKeyPrefix(address)}:${pattern}`;
      const steady = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${prefix}:w`,
        points: slots.points,
        duration: slots.keySeconds,
      });
      const burst =
        limit.burst === undefined || limit.burst === 0
          ? undefined
          : new RateLimiterRedis({
              storeClient: redis,
              keyPrefix: `${prefix}:b`,
              points: limit.burst,
              duration: options.burstWindowMs / 1000,
            });
      this.#rates.set(limit, { slots, steady, burst });
    }
  }

  /**
   * Waits for the host's permit and rate token. Rejects with FLOWPOOL_TIMEOUT (phase `queued`) at
   * `deadline`, or with FLOWPOOL_ABORTED when `signal` fires.
   */
  async acquire(url: URL, deadline: number, signal: AbortSignal): Promise<HostPermit> {
    const limit = this.#patterns.match(url.hostname, url.host);
    if (limit === undefined) return NO_PERMIT;
    const host = url.host.toLowerCase();
    const permit =
      limit.concurrency === undefined ? NO_PERMIT : await this.#permit(host, limit.concurrency, deadline, signal);
    try {
      const rule = this.#rates.get(limit);
      if (rule !== undefined) await this.#rateToken(host, rule, deadline, signal);
      return permit;
    } catch (error) {
      await permit.release();
      throw error;
    }
  }

  async #permit(host: string, limit: number, deadline: number, signal: AbortSignal): Promise<HostPermit> {
    const semaphore = new Semaphore(this.#redis, permitKey(this.#address, host), limit, {
      lockTimeout: this.#leaseMs,
      refreshInterval: Math.floor(this.#leaseMs * 0.8),
      retryInterval: PERMIT_RETRY_MS,
      acquireTimeout: Math.max(1, deadline - Date.now()),
      // The request already left: losing the lease cannot stop it; count it so stats show it.
      onLockLost: () => {
        this.stats.leasesLost++;
      },
    });
    if (!(await semaphore.tryAcquire(signal).catch(() => false))) {
      this.stats.permitWaits++;
      for (;;) {
        checkWait(deadline, signal, `a concurrency permit for ${host}`);
        try {
          await semaphore.acquire(signal);
          break;
        } catch (error) {
          checkWait(deadline, signal, `a concurrency permit for ${host}`);
          // Redis trouble (the semaphore's own timeout ends at the deadline, checked above): ask again.
          if (!isTimeout(error)) await sleep(REDIS_TROUBLE_RETRY_MS, undefined, { signal }).catch(() => undefined);
        }
      }
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        // A release that fails (Redis down) is not fatal: the lease lapses by itself.
        await semaphore.release().catch(() => undefined);
      },
    };
  }

  async #rateToken(host: string, rule: RateRule, deadline: number, signal: AbortSignal): Promise<void> {
    let waited = false;
    for (;;) {
      checkWait(deadline, signal, `a rate window for ${host}`);
      const now = Date.now();
      try {
        await rule.steady.consume(`${host}:${slotIndex(now, rule.slots)}`);
        return;
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) {
          await sleep(REDIS_TROUBLE_RETRY_MS, undefined, { signal }).catch(() => undefined);
          continue;
        }
      }
      if (rule.burst !== undefined) {
        try {
          await rule.burst.consume(host);
          return;
        } catch {
          // No burst left either: wait for the next window.
        }
      }
      if (!waited) this.stats.rateWaits++;
      waited = true;
      // A little jitter, so the waiters of every process do not all ask at the window's first instant.
      const wait = msUntilNextSlot(Date.now(), rule.slots) + Math.random() * Math.min(10, rule.slots.slotMs / 4);
      await sleep(Math.min(wait, Math.max(0, deadline - Date.now())), undefined, { signal }).catch(() => undefined);
    }
  }
}

function checkWait(deadline: number, signal: AbortSignal, what: string): void {
  if (signal.aborted) throw new FlowpoolError('FLOWPOOL_ABORTED', `aborted while waiting for ${what}`);
  if (Date.now() >= deadline) {
    throw new FlowpoolError('FLOWPOOL_TIMEOUT', `deadline passed while waiting for ${what} (cluster limit)`, {
      phase: 'queued',
    });
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}
