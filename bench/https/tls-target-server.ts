/**
 * HTTPS / HTTP/2 target servers for the benchmark, in a process of their own (forked by
 * `startTargetProcess`, same IPC protocol as src/cli/target-server.ts). `connections` counts completed TLS
 * handshakes (`secureConnection`), so "conns" and "new after warm-up" in the tables are handshakes.
 * argv: hosts, 'h1' | 'h2' (h2 = node:http2 with HTTP/1.1 allowed), directory holding server.crt/server.key.
 */
import { readFileSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import { createSecureServer } from 'node:http2';
import { createServer } from 'node:https';
import type { AddressInfo, Server, Socket } from 'node:net';
import { join } from 'node:path';
import { serveTargetCommands, SMALL_BODY, type Counted } from '../../src/cli/target-commands.js';

async function startOne(kind: 'h1' | 'h2', key: string, cert: string): Promise<Counted> {
  const sockets = new Set<Socket>();
  const handler = (
    _req: unknown,
    res: { writeHead(status: number, headers: OutgoingHttpHeaders): unknown; end(body: string): unknown },
  ): void => {
    counted.requests++;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(SMALL_BODY) });
    res.end(SMALL_BODY);
  };
  const server: Server =
    kind === 'h1'
      ? createServer({ key, cert, keepAliveTimeout: 60_000 }, handler)
      : createSecureServer({ key, cert, allowHTTP1: true, settings: { maxConcurrentStreams: 1000 } }, handler);
  const counted: Counted = { server, port: 0, connections: 0, peakOpen: 0, requests: 0, sockets };
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    if (sockets.size > counted.peakOpen) counted.peakOpen = sockets.size;
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', () => {
    counted.connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(counted, { port: (server.address() as AddressInfo).port });
}

async function main(): Promise<void> {
  const hosts = Number(process.argv[2] ?? '8');
  const kind = process.argv[3] === 'h2' ? 'h2' : 'h1';
  const dir = process.argv[4] ?? '.';
  const key = readFileSync(join(dir, 'server.key'), 'utf8');
  const cert = readFileSync(join(dir, 'server.crt'), 'utf8');
  const servers = await Promise.all(Array.from({ length: hosts }, () => startOne(kind, key, cert)));
  serveTargetCommands(servers);
}

void main();
