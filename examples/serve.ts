/**
 * A small loopback server for `examples/workflow.json` (and `embed.ts`), so the example works offline.
 *
 *   npm run build
 *   node dist/examples/serve.js            # listens on http://127.0.0.1:8787 (or: node dist/examples/serve.js <port>)
 *   flowpool run examples/workflow.json --allow 127.0.0.1      # in another shell (or: node dist/src/cli/main.js run ...)
 *
 * Routes: /greeting and /name (text), /user (JSON), /status/<code> (that status), /redirect (302 to
 * /greeting), /slow (text after 100 ms); anything else 404.
 */
import { createServer, STATUS_CODES, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The port `examples/workflow.json` expects. */
export const EXAMPLE_PORT = 8787;

export interface ExampleServer {
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startExampleServer(port = EXAMPLE_PORT): Promise<ExampleServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const text = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(body);
    };
    if (path === '/greeting') {
      text(200, 'hello wORLD from flowpool');
      return;
    }
    if (path === '/name') {
      text(200, 'workflow engine runtime');
      return;
    }
    if (path === '/user') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 7, login: 'ada', name: 'Ada Lovelace' }));
      return;
    }
    if (path === '/redirect') {
      res.writeHead(302, { location: '/greeting' });
      res.end();
      return;
    }
    if (path === '/slow') {
      setTimeout(() => text(200, 'slow but steady'), 100);
      return;
    }
    const status = /^\/status\/([1-5]\d\d)$/.exec(path)?.[1];
    if (status !== undefined && Number(status) >= 200) {
      text(Number(status), `${status} ${STATUS_CODES[Number(status)] ?? ''}`.trimEnd());
      return;
    }
    text(404, 'not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const port = process.argv[2] === undefined ? EXAMPLE_PORT : Number(process.argv[2]);
  const server = await startExampleServer(port).catch((error: unknown) => {
    process.stderr.write(
      `cannot listen on 127.0.0.1:${port}: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`,
    );
    process.exit(1);
  });
  process.stdout.write(`example server listening on ${server.origin} (Ctrl-C to stop)\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
