/**
 * Response shapes at the edges of the worker's body reader (src/worker/request/response-reader.ts), each from a
 * real loopback server: compressed bodies on connections the server closes (undici 7 must never find
 * its parser paused when such a socket ends: that assertion would kill the worker), bodiless responses
 * that still name an encoding, 1xx interim responses, broken gzip, and a compressed body whose wire
 * size, not its decoded size, is the problem.
 */
import { randomBytes } from 'node:crypto';
import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { compressibleText, compressSmall, type BombEncoding } from '../fixtures/bombs.js';
import { rejectionOf, startHostServer, type HostServer } from '../fixtures/host-server.js';
import { expectHealthy } from '../fixtures/health.js';
import { startRawServer } from '../fixtures/raw-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
/** A job that hangs fails within this instead of the 60 s default (an upper bound, not a timing assertion). */
// A deadline well above any exchange here: these tests are about bytes, and a loaded machine is slow.
const OPTIONS = { workers: 1, policy: LOOPBACK, timeoutMs: 15_000 } as const;
const MIB = 1024 * 1024;

/**
 * A loopback server answering `encodedPath` with `encoded` as a body in `encoding` (with its length),
 * any other path with `other`.
 */
function startEncodedServer(
  encoded: Buffer,
  encodedPath: string,
  other: string,
  encoding: BombEncoding = 'gzip',
): Promise<HostServer> {
  return startHostServer('127.0.0.2', (_req, res, seen) => {
    if (seen.url !== encodedPath) {
      res.end(other);
      return;
    }
    res.writeHead(200, { 'content-encoding': encoding, 'content-length': String(encoded.length) });
    res.end(encoded);
  });
}

/** `data` in `encoding`, at the fastest setting (the tests below send incompressible data). */
function encodeFast(encoding: BombEncoding, data: Buffer): Buffer {
  if (encoding === 'gzip') return gzipSync(data, { level: 1 });
  if (encoding === 'deflate') return deflateSync(data, { level: 1 });
  return brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } });
}

describe('limits: encoded bodies at the edges', () => {
  const track = closeAfterEach();

  it.each([
    ['small, Content-Length', 2_000],
    ['2 MiB, Content-Length (many socket reads)', 2 * MIB],
  ])('decodes a gzip body (%s) on a connection the server closes after it', async (_name, size) => {
    const body = compressibleText(size);
    const gz = gzipSync(body);
    const server = await startHostServer('127.0.0.2', (_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(gz.length), connection: 'close' });
      res.end(gz);
    });
    track(server);
    const runtime = track(createRuntime(OPTIONS));
    await runtime.ready();

    for (let i = 0; i < 3; i++) {
      const result = await runtime.run({ url: `${server.origin}/${i}`, responseType: 'bytes' });
      expect(result.bytes).toBe(size);
      expect(Buffer.from(result.body).equals(body)).toBe(true);
    }
    // Each response closed its connection: three jobs, three connections, one worker throughout.
    expect(server.connections).toBe(3);
    await expectHealthy(runtime);
  });

  it('decodes a gzip body delimited by the server closing the connection (no length, no chunking)', async () => {
    const body = compressibleText(300_000);
    const gz = gzipSync(body);
    const raw = track(
      await startRawServer((req) => {
        req.socket.write('HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\nconnection: close\r\n\r\n');
        req.socket.end(gz);
      }),
    );
    const runtime = track(createRuntime(OPTIONS));
    await runtime.ready();

    for (let i = 0; i < 3; i++) {
      const result = await runtime.run({ url: `${raw.origin}/${i}` });
      expect(result.body).toBe(body.toString('utf8'));
    }
    expect(raw.requests).toBe(3);
    await expectHealthy(runtime);
  });

  it.each([
    ['HEAD', 200],
    ['GET', 204],
    ['GET', 304],
  ] as const)('accepts a bodiless %s %i that names a content-encoding', async (method, status) => {
    const server = await startHostServer('127.0.0.2', (_req, res) => {
      res.writeHead(status, { 'content-encoding': 'gzip', ...(status === 200 ? { 'content-length': '1234' } : {}) });
      res.end();
    });
    track(server);
    const runtime = track(createRuntime(OPTIONS));
    await runtime.ready();

    const result = await runtime.run({ url: `${server.origin}/`, method });
    expect(result.status).toBe(status);
    expect(result.bytes).toBe(0);
    expect(result.body).toBe('');
    await expectHealthy(runtime);
  });

  it('skips a 103 Early Hints response and returns the final one', async () => {
    const server = await startHostServer('127.0.0.2', (_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('final');
    });
    track(server);
    const runtime = track(createRuntime(OPTIONS));
    await runtime.ready();

    const result = await runtime.run({ url: `${server.origin}/` });
    expect(result.status).toBe(200);
    expect(result.body).toBe('final');
    expect(result.headers.link).toBeUndefined();
  });

  it('keeps headersTimeoutMs running through a 1xx: the final headers must still arrive in time', async () => {
    const server = await startHostServer('127.0.0.2', (_req, res) => {
      res.writeEarlyHints({ link: '</a.css>; rel=preload; as=style' });
      const timer = setTimeout(() => res.end('late'), 1_000);
      res.once('close', () => clearTimeout(timer));
    });
    track(server);
    const runtime = track(createRuntime({ ...OPTIONS, headersTimeoutMs: 200 }));
    await runtime.ready();

    const error = await rejectionOf(runtime.run({ url: `${server.origin}/` }));
    expect(error.code).toBe('FLOWPOOL_TIMEOUT');
    expect(error.details).toMatchObject({ phase: 'headers' });
    await expectHealthy(runtime);
  });

  it('fails a truncated gzip body (no trailer) with FLOWPOOL_INVALID_RESPONSE and serves the next job', async () => {
    const whole = gzipSync(compressibleText(50_000));
    const truncated = whole.subarray(0, whole.length - 8);
    const server = await startEncodedServer(truncated, '/broken', 'ok');
    track(server);
    const runtime = track(createRuntime(OPTIONS));
    await runtime.ready();

    const error = await rejectionOf(runtime.run({ url: `${server.origin}/broken` }));
    expect(error.code).toBe('FLOWPOOL_INVALID_RESPONSE');
    expect(error.message).toContain('decompress');
    expect((await runtime.run({ url: `${server.origin}/ok` })).body).toBe('ok');
    await expectHealthy(runtime);
  });

  it('refuses a gzip body whose header alone outweighs the limit (2 MiB file-name field, 5 bytes of content)', async () => {
    // A gzip member may carry an arbitrarily long zero-terminated FNAME: megabytes on the wire that
    // decode to nothing. Only a cap on the encoded bytes stops it.
    const plain = gzipSync(Buffer.from('tiny!'));
    const name = Buffer.alloc(2 * MIB, 0x61);
    const header = Buffer.from(plain.subarray(0, 10));
    header[3] = (header[3] ?? 0) | 0x08; // FLG.FNAME
    const hostile = Buffer.concat([header, name, Buffer.from([0]), plain.subarray(10)]);
    const server = await startEncodedServer(hostile, '/hostile', 'ok');
    track(server);
    const runtime = track(createRuntime(OPTIONS));
    await runtime.ready();

    // Control: within a limit above its wire size, the same body decodes to its five bytes.
    expect((await runtime.run({ url: `${server.origin}/hostile`, maxResponseBytes: 4 * MIB })).body).toBe('tiny!');
    const error = await rejectionOf(runtime.run({ url: `${server.origin}/hostile`, maxResponseBytes: MIB }));
    expect(error.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
    expect((await runtime.run({ url: `${server.origin}/ok` })).body).toBe('ok');
    await expectHealthy(runtime);
  });

  it.each(['gzip', 'deflate', 'br'] as const)(
    'drops the socket of a %s body refused while it is still arriving',
    async (encoding) => {
      // Incompressible: 4 MiB on the wire; refused after ~64 KiB of it, long before the message ends.
      const encoded = encodeFast(encoding, randomBytes(4 * MIB));
      const server = await startEncodedServer(encoded, '/oversized', 'small', encoding);
      track(server);
      const runtime = track(createRuntime(OPTIONS));
      await runtime.ready();

      expect((await runtime.run({ url: `${server.origin}/first` })).body).toBe('small');
      const error = await rejectionOf(runtime.run({ url: `${server.origin}/oversized`, maxResponseBytes: 1_000 }));
      expect(error.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
      expect((await runtime.run({ url: `${server.origin}/next` })).body).toBe('small');

      const [first, oversized, next] = server.requests;
      expect(oversized?.connection).toBe(first?.connection);
      expect(next?.connection).not.toBe(oversized?.connection);
      await expectHealthy(runtime);
    },
  );

  it('lets a compressed body refused after its whole message arrived leave a clean socket behind', async () => {
    // ~30 bytes on the wire, 2,000 decoded: undici has completed the message before zlib reports the
    // size, so the socket carried a whole message and stays usable. The job still fails.
    const gz = compressSmall('gzip', Buffer.alloc(2_000, 0x62));
    const server = await startEncodedServer(gz, '/oversized', 'small');
    track(server);
    const runtime = track(createRuntime(OPTIONS));
    await runtime.ready();

    const error = await rejectionOf(runtime.run({ url: `${server.origin}/oversized`, maxResponseBytes: 1_000 }));
    expect(error.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
    for (let i = 0; i < 3; i++) expect((await runtime.run({ url: `${server.origin}/next-${i}` })).body).toBe('small');
    expect(server.requests.map((r) => r.url)).toEqual(['/oversized', '/next-0', '/next-1', '/next-2']);
    await expectHealthy(runtime);
  });
});
