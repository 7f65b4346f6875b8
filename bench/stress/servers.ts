/**
 * The stress harness's loopback servers: raw `net` HTTP/1.1, so each can misbehave byte-exactly. One
 * server per {@link HostKind}, on 127.0.0.1, port 0. Each counts connections, the peak of sockets open at
 * once, requests per method, and POSTs seen twice (every job carries its sequence number in its path:
 * `/<kind>/<method>/<seq>`), which would be a non-idempotent request replayed.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { HostKind, ServerCounts } from './protocol.js';
import { readRequests, SocketTally, type FramedRequest } from './raw-http.js';

interface Request extends Pick<FramedRequest, 'method' | 'path'> {
  readonly socket: Socket;
}

const IDLE_CLOSE_MS = 40;

/** A growable bitset of sequence numbers. */
class SeenSet {
  #bits = new Uint8Array(1 << 16);

  /** Marks `n`; true if it was already marked. */
  mark(n: number): boolean {
    const byte = n >>> 3;
    if (byte >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(this.#bits.length * 2, byte + 1));
      grown.set(this.#bits);
      this.#bits = grown;
    }
    const mask = 1 << (n & 7);
    const had = ((this.#bits[byte] ?? 0) & mask) !== 0;
    this.#bits[byte] = (this.#bits[byte] ?? 0) | mask;
    return had;
  }
}

function response(status: number, body: string | Buffer, contentLength = Buffer.byteLength(body)): Buffer {
  return Buffer.concat([
    Buffer.from(`HTTP/1.1 ${status} OK\r\ncontent-type: text/plain\r\ncontent-length: ${contentLength}\r\n\r\n`),
    Buffer.from(body),
  ]);
}

export interface StressServer {
  readonly kind: HostKind;
  readonly port: number;
  counts(): ServerCounts;
  close(): Promise<void>;
}

export async function startStressServer(kind: HostKind): Promise<StressServer> {
  const sockets = new Set<Socket>();
  const idleTimers = new Map<Socket, NodeJS.Timeout>();
  const slowTimers = new Map<Socket, NodeJS.Timeout>();
  const byMethod: Record<string, number> = {};
  const posts = new SeenSet();
  const tally = new SocketTally();
  let requests = 0;
  let postDuplicates = 0;
  let turn = 0;

  const answer = (req: Request): void => {
    const socket = req.socket;
    if (socket.destroyed) return;
    socket.write(response(200, `${req.method} ${req.path}`));
    if (kind === 'keepalive-closing') {
      clearTimeout(idleTimers.get(socket));
      idleTimers.set(
        socket,
        setTimeout(() => {
          idleTimers.delete(socket);
          tally.closing(socket);
          socket.destroy();
        }, IDLE_CLOSE_MS),
      );
    }
  };

  const behave = (req: Request): void => {
    switch (kind) {
      case 'healthy':
      case 'keepalive-closing': {
        answer(req);
        return;
      }
      case 'slow': {
        // One pending answer per socket at a time (the client does not pipeline); the close clears it.
        slowTimers.set(
          req.socket,
          setTimeout(() => answer(req), 20 + (requests % 181)),
        );
        return;
      }
      case 'never-answering':
        return;
      case 'resetting': {
        const socket = req.socket;
        // Closed by the server from here (the tally must not count it until its 'close' event).
        if (turn % 4 !== 3) tally.closing(socket);
        switch (turn++ % 4) {
          case 0:
            return void socket.resetAndDestroy();
          case 1:
            socket.write(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n'));
            return void socket.destroy();
          case 2:
            socket.write(response(200, 'x'.repeat(300), 1_000));
            return void socket.resetAndDestroy();
          default: {
            answer(req);
            return;
          }
        }
      }
    }
  };

  const server: Server = createServer((socket) => {
    tally.track(socket);
    sockets.add(socket);
    socket.once('end', () => socket.destroy());
    socket.once('close', () => {
      sockets.delete(socket);
      clearTimeout(idleTimers.get(socket));
      idleTimers.delete(socket);
      clearTimeout(slowTimers.get(socket));
      slowTimers.delete(socket);
    });
    socket.on('error', () => {});
    // Any byte of a new request cancels the idle close: the server has seen the client in time.
    socket.on('data', () => {
      clearTimeout(idleTimers.get(socket));
      idleTimers.delete(socket);
    });
    readRequests(socket, ({ method, path }) => {
      requests++;
      byMethod[method] = (byMethod[method] ?? 0) + 1;
      if (method === 'POST') {
        const seq = Number(path.slice(path.lastIndexOf('/') + 1));
        if (Number.isInteger(seq) && seq >= 0 && posts.mark(seq)) postDuplicates++;
      }
      behave({ method, path, socket });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    kind,
    port,
    counts: () => ({
      kind,
      port,
      connections: tally.accepted,
      peakOpen: tally.peakOpen,
      requests,
      byMethod: { ...byMethod },
      postDuplicates,
    }),
    async close() {
      for (const timer of idleTimers.values()) clearTimeout(timer);
      for (const timer of slowTimers.values()) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
