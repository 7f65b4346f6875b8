/**
 * The realistic mix's target servers, in a process of their own (forked by `startTargetProcess`, the same
 * IPC protocol as src/cli/target-server.ts): one loopback port per host of `layout.ts`, each behaving as
 * its kind says. Every request's body is read before the answer; every answer is JSON, errors included,
 * so `responseType: 'json'` parses each one. The refusing host is a port that listened once (to be given
 * a free port number) and was closed at once: connecting to it is refused, and it counts nothing.
 * argv: hosts (must match the layout).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { serveTargetCommands, SMALL_BODY, type Counted } from '../../src/cli/target-commands.js';
import { BEHAVIOUR, flakyFails, hostKinds, indexOfPath, slowDelayMs, type HostKind } from './layout.js';

const UNAVAILABLE_BODY = JSON.stringify({ error: 'service unavailable', retryable: true });
const RATE_LIMITED_BODY = JSON.stringify({
  error: 'too many requests',
  retryAfterSeconds: BEHAVIOUR.retryAfterSeconds,
});

function send(res: ServerResponse, status: number, body: string, extra?: Record<string, string>): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

/** A token bucket of the rate-limited kind, refilled continuously. */
function tokenBucket(): () => boolean {
  let tokens: number = BEHAVIOUR.burst;
  let last = performance.now();
  return () => {
    const now = performance.now();
    tokens = Math.min(BEHAVIOUR.burst, tokens + ((now - last) / 1000) * BEHAVIOUR.ratePerSecond);
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

function answerer(kind: Exclude<HostKind, 'refused'>): (req: IncomingMessage, res: ServerResponse) => void {
  if (kind === 'fast') return (_req, res) => send(res, 200, SMALL_BODY);
  if (kind === 'slow')
    return (req, res) => {
      setTimeout(() => send(res, 200, SMALL_BODY), slowDelayMs(indexOfPath(req.url)));
    };
  if (kind === 'flaky')
    return (req, res) =>
      flakyFails(indexOfPath(req.url)) ? send(res, 503, UNAVAILABLE_BODY) : send(res, 200, SMALL_BODY);
  const take = tokenBucket();
  return (_req, res) =>
    take()
      ? send(res, 200, SMALL_BODY)
      : send(res, 429, RATE_LIMITED_BODY, { 'retry-after': String(BEHAVIOUR.retryAfterSeconds) });
}

async function listen(kind: HostKind): Promise<Counted> {
  const sockets = new Set<Socket>();
  const answer = kind === 'refused' ? undefined : answerer(kind);
  const server = createServer((req, res) => {
    counted.requests++;
    // Answer once the request body (a POST's JSON) has been read in full.
    req.once('end', () => answer?.(req, res));
    req.resume();
  });
  // Long enough that no connection is recycled during a run.
  server.keepAliveTimeout = 60_000;
  const counted: Counted = { server, port: 0, connections: 0, peakOpen: 0, requests: 0, sockets };
  server.on('connection', (socket: Socket) => {
    counted.connections++;
    sockets.add(socket);
    if (sockets.size > counted.peakOpen) counted.peakOpen = sockets.size;
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  if (kind === 'refused') await new Promise<void>((resolve) => server.close(() => resolve()));
  return Object.assign(counted, { port });
}

async function main(): Promise<void> {
  const kinds = hostKinds();
  const hosts = Number(process.argv[2] ?? String(kinds.length));
  if (hosts !== kinds.length)
    throw new Error(`mix targets: expected ${String(kinds.length)} hosts, received ${String(hosts)}`);
  const servers = await Promise.all(kinds.map((kind) => listen(kind)));
  serveTargetCommands(servers);
}

void main();
