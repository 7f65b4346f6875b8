/**
 * The payload benchmark's target server, in a process of its own (so its work is not measured with the
 * client's): `GET /down?bytes=N` streams N bytes with a content-length, `POST /up` reads the body and
 * answers with its byte count. Posts `{ port }` on IPC once listening; exits when its parent goes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const CHUNK = Buffer.alloc(256 * 1024, 0x61);

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://target');
  if (url.pathname === '/up') {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.end(String(bytes)));
    return;
  }
  const total = Number(url.searchParams.get('bytes') ?? 0);
  res.setHeader('content-length', total);
  let sent = 0;
  const write = (): void => {
    while (sent < total) {
      const chunk = total - sent >= CHUNK.length ? CHUNK : CHUNK.subarray(0, total - sent);
      sent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', write);
        return;
      }
    }
    res.end();
  };
  write();
});

server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('disconnect', () => {
  server.close();
  process.exit(0);
});
