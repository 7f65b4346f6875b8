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
import type { TargetCommand, TargetCounts, TargetReply } from '../../src/cli/target-protocol.js';

interface Counted {
  readonly server: Server;
  readonly port: number;
  connections: number;
  peakOpen: number;
  requests: number;
  readonly sockets: Set<Socket>;
}

/** The same ~229 B answer as the plain-HTTP targets. */
const SMALL_BODY = JSON.stringify({
  id: 42,
  status: 'active',
  name: 'flowpool target',
  tags: ['workflow', 'http', 'node'],
  updatedAt: '2026-01-01T00:00:00.000Z',
  owner: { id: 7, login: 'engine' },
  links: { self: '/items/42', next: '/items/43' },
  note: 'a typical small API answer',
});

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

function countsOf(servers: readonly Counted[]): TargetCounts[] {
  return servers.map((s) => ({
    port: s.port,
    connections: s.connections,
    peakOpen: s.peakOpen,
    open: s.sockets.size,
    requests: s.requests,
  }));
}

async function main(): Promise<void> {
  const hosts = Number(process.argv[2] ?? '8');
  const kind = process.argv[3] === 'h2' ? 'h2' : 'h1';
  const dir = process.argv[4] ?? '.';
  const key = readFileSync(join(dir, 'server.key'), 'utf8');
  const cert = readFileSync(join(dir, 'server.crt'), 'utf8');
  const servers = await Promise.all(Array.from({ length: hosts }, () => startOne(kind, key, cert)));
  const send = (reply: TargetReply): void => {
    process.send?.(reply);
  };
  process.on('message', (command: TargetCommand) => {
    if (command.type === 'counts') send({ type: 'counts', counts: countsOf(servers) });
    else if (command.type === 'reset') {
      for (const s of servers) {
        for (const socket of s.sockets) socket.destroy();
        s.connections = 0;
        s.peakOpen = 0;
        s.requests = 0;
      }
      send({ type: 'reset' });
    } else {
      for (const s of servers) {
        for (const socket of s.sockets) socket.destroy();
        s.server.close();
      }
      process.disconnect();
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', ports: servers.map((s) => s.port) });
}

void main();
