/**
 * Loopback target servers for the demo and the benchmarks, run in a process of their own so that the
 * figures measure the client, not a server sharing its event loop. Started by `target-process.ts`
 * through `fork`; talks over the IPC channel only.
 *
 * Routes: `/large` answers a JSON document of about 50 KB (the CPU-heavy workload); anything else a
 * small JSON body of about 229 bytes, like a typical API answer.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { serveTargetCommands, SMALL_BODY, type Counted } from './target-commands.js';

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

async function main(): Promise<void> {
  const hosts = Number(process.argv[2] ?? '8');
  const servers = await Promise.all(Array.from({ length: hosts }, () => startOne()));
  serveTargetCommands(servers);
}

void main();
