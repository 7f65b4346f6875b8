/**
 * Loopback target servers for the demo and the benchmarks, run in a process of their own so that the
 * figures measure the client, not a server sharing its event loop. Started by `target-process.ts`
 * through `fork`; talks over the IPC channel only.
 *
 * Routes: `/large` answers a JSON document of about 50 KB (the CPU-heavy workload); anything else a
 * small JSON body of about 229 bytes, like a typical API answer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TargetCommand, TargetCounts, TargetReply } from './target-protocol.js';

interface Counted {
  readonly server: Server;
  readonly port: number;
  connections: number;
  peakOpen: number;
  requests: number;
  readonly sockets: Set<Socket>;
}

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

const LARGE_BODY = JSON.stringify({
  items: Array.from({ length: 400 }, (_, i) => ({
    id: i,
    name: `item-${i}`,
    price: Math.round(i * 137.5) / 100,
    tags: ['alpha', 'beta', 'gamma'].slice(0, (i % 3) + 1),
    description: 'lorem ipsum dolor sit amet consectetur adipiscing elit',
  })),
});

async function startOne(): Promise<Counted> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    counted.requests++;
    const body = req.url === '/large' ? LARGE_BODY : SMALL_BODY;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  // Long enough that no connection is recycled during a run: reuse shows in the counts.
  server.keepAliveTimeout = 60_000;
  const counted: Counted = { server, port: 0, connections: 0, peakOpen: 0, requests: 0, sockets };
  server.on('connection', (socket: Socket) => {
    counted.connections++;
    sockets.add(socket);
    if (sockets.size > counted.peakOpen) counted.peakOpen = sockets.size;
    socket.once('close', () => sockets.delete(socket));
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
  const servers = await Promise.all(Array.from({ length: hosts }, () => startOne()));
  const send = (reply: TargetReply): void => {
    process.send?.(reply);
  };
  process.on('message', (command: TargetCommand) => {
    if (command.type === 'counts') send({ type: 'counts', counts: countsOf(servers) });
    else if (command.type === 'reset') {
      // Close idle connections too, so the next variant starts cold and its counts are its own.
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
  // The parent died: never outlive it.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', ports: servers.map((s) => s.port) });
}

void main();
