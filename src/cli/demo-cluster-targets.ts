/**
 * The loopback servers of `flowpool demo --cluster`, in the demo's own process (the work happens in the
 * worker processes; this one only submits and counts). Each counts requests, requests in flight (and the
 * peak) and the arrival times, from which the busiest 5 s rate is computed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ClusterTarget {
  readonly origin: string;
  /** `127.0.0.1:<port>`, the key of its cluster limit. */
  readonly host: string;
  requests: number;
  active: number;
  peakActive: number;
  readonly arrivals: number[];
}

export interface ClusterTargets {
  readonly targets: readonly ClusterTarget[];
  close(): Promise<void>;
}

/** Starts `delaysMs.length` servers; server i answers after `delaysMs[i]` ms. */
export async function startClusterTargets(delaysMs: readonly number[]): Promise<ClusterTargets> {
  const servers: Server[] = [];
  const targets: ClusterTarget[] = [];
  for (const delay of delaysMs) {
    const target: ClusterTarget = { origin: '', host: '', requests: 0, active: 0, peakActive: 0, arrivals: [] };
    const server = createServer((_req, res) => {
      target.requests++;
      target.active++;
      target.peakActive = Math.max(target.peakActive, target.active);
      target.arrivals.push(performance.now());
      res.once('close', () => target.active--);
      const answer = (): void => {
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
      };
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    Object.assign(target, { origin: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}` });
    servers.push(server);
    targets.push(target);
  }
  return {
    targets,
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}

/** Most arrivals within any `windowMs` (arrivals in order). */
export function busiestWindow(arrivals: readonly number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < arrivals.length; end++) {
    while ((arrivals[end] ?? 0) - (arrivals[start] ?? 0) >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
