/**
 * Queue mode's packages are optional peer dependencies: the core install does not pull them. This check runs
 * before anything that imports them is loaded (src/queue/index.ts loads the rest dynamically after it), so a
 * missing one is one Error naming what to install instead of Node's ERR_MODULE_NOT_FOUND for the first of them.
 */
import { createRequire } from 'node:module';

/** The peers, as npm spells them. */
export const QUEUE_PEERS = ['bullmq', 'ioredis', 'rate-limiter-flexible', 'redis-semaphore'] as const;

/** The peers that cannot be resolved from flowpool's own location (where Node will look for them). */
export function missingQueuePeers(
  resolve: (name: string) => string = createRequire(import.meta.url).resolve,
): string[] {
  return QUEUE_PEERS.filter((name) => {
    try {
      resolve(name);
      return false;
    } catch {
      return true;
    }
  });
}

/** Throws when a peer is missing, naming the command that installs every missing one. */
export function assertQueuePeers(): void {
  const missing = missingQueuePeers();
  if (missing.length === 0) return;
  throw new Error(
    `flowpool/queue needs ${missing.join(', ')}, optional peer dependencies that are not installed: ` +
      `npm install ${missing.join(' ')}`,
  );
}
