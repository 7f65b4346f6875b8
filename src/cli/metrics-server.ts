/**
 * The operations endpoint of `flowpool worker --metrics-port`: `GET /metrics` (Prometheus text format)
 * and `GET /healthz` (200 when the worker can take jobs, 503 when not, with a JSON body saying why). Bound
 * to loopback unless `--metrics-host` says otherwise: metrics name the hosts a worker calls.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OperationsSource {
  metrics(): Promise<string>;
  /** Serialised as the /healthz body. */
  health(): { readonly ok: boolean };
}

export interface OperationsServer {
  /** `http://host:port` it listens on (the port chosen by the system when 0 was asked for). */
  readonly url: string;
  close(): Promise<void>;
}

export async function startOperationsServer(
  source: OperationsSource,
  port: number,
  host: string,
): Promise<OperationsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      const health = source.health();
      res.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(health));
      return;
    }
    if (path === '/metrics') {
      source.metrics().then(
        (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
        (error: unknown) => res.writeHead(500).end(error instanceof Error ? error.message : 'metrics failed'),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${String(address.port)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
