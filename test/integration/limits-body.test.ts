/**
 * maxResponseBytes counts the bytes the caller would receive, after decompression, while streaming:
 * decompression bombs and endless bodies stop at the limit with FLOWPOOL_RESPONSE_TOO_LARGE, the worker's
 * memory stays flat, a declared Content-Length over the limit fails before reading, and the socket of a
 * body refused while it was still arriving never carries another request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { compressSmall, GIB, zeroBomb, type BombEncoding } from '../fixtures/bombs.js';
import { rejectionOf, startHostServer } from '../fixtures/host-server.js';
import { expectHealthy } from '../fixtures/health.js';
import { waitUntil } from '../fixtures/wait.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
/** A job that hangs fails within this instead of the 60 s default (an upper bound, not a timing assertion). */
const OPTIONS = { workers: 1, policy: LOOPBACK, timeoutMs: 3_000 } as const;
const MIB = 1024 * 1024;
const ENCODINGS: readonly BombEncoding[] = ['gzip', 'deflate', 'br'];

describe('limits: response body size', () => {
  const track = closeAfterEach();

  describe('decompression bombs (1 GiB of zeros inflated)', () => {
    const bombs = new Map<BombEncoding, Buffer>();

    beforeAll(async () => {
      for (const encoding of ENCODINGS) bombs.set(encoding, await zeroBomb(encoding, GIB));
    });

    afterAll(() => bombs.clear());

    it('builds bombs that are small on the wire', () => {
      expect(bombs.get('gzip')?.length).toBeLessThan(1.1 * MIB);
      expect(bombs.get('deflate')?.length).toBeLessThan(1.1 * MIB);
      expect(bombs.get('br')?.length).toBeLessThan(16 * 1024);
    });

    it.each(ENCODINGS)(
      'stops a %s bomb at maxResponseBytes; worker memory stays flat and it serves the next job',
      async (encoding) => {
        const bomb = bombs.get(encoding);
        if (bomb === undefined) throw new Error('bomb not built');
        const server = await startHostServer('127.0.0.2', (_req, res, seen) => {
          if (seen.url !== '/bomb') {
            res.end('fine');
            return;
          }
          // Chunked, no Content-Length: only the inflated count can stop it.
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-encoding': encoding });
          res.end(bomb);
        });
        track(server);
        const runtime = track(createRuntime(OPTIONS));
        await runtime.ready();

        expect((await runtime.run({ url: `${server.origin}/warm-up` })).body).toBe('fine');
        const before = (await runtime.stats()).workers[0];
        const rssBefore = process.memoryUsage().rss;

        const error = await rejectionOf(
          runtime.run({ url: `${server.origin}/bomb`, maxResponseBytes: 1_000_000, responseType: 'bytes' }),
        );
        expect(error.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
        expect(error.message).toContain('1000000');

        const after = (await runtime.stats()).workers[0];
        // The worker is a thread of this process: rss also covers Buffers (which heapUsed does not count).
        const rssGrowth = process.memoryUsage().rss - rssBefore;
        expect((after?.heapUsedBytes ?? 0) - (before?.heapUsedBytes ?? 0)).toBeLessThan(64 * MIB);
        expect(rssGrowth).toBeLessThan(256 * MIB);

        const next = await runtime.run({ url: `${server.origin}/next` });
        expect(next.body).toBe('fine');
        await expectHealthy(runtime);
        expect((await runtime.stats()).workers[0]?.threadId).toBe(before?.threadId);
      },
    );

    it.each(ENCODINGS)(
      'lets the same %s bomb through a raised limit only up to that limit (counts inflated bytes)',
      async (encoding) => {
        // 16 MiB inflated from a few KB: a limit on wire bytes would pass it, a limit on inflated bytes must not.
        const small = await zeroBomb(encoding, 16 * MIB);
        const server = await startHostServer('127.0.0.2', (_req, res) => {
          res.writeHead(200, { 'content-encoding': encoding, 'content-length': String(small.length) });
          res.end(small);
        });
        track(server);
        const runtime = track(createRuntime(OPTIONS));
        await runtime.ready();

        const error = await rejectionOf(
          runtime.run({ url: `${server.origin}/`, maxResponseBytes: 8 * MIB, responseType: 'bytes' }),
        );
        expect(error.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
        const ok = await runtime.run({ url: `${server.origin}/`, maxResponseBytes: 16 * MIB, responseType: 'bytes' });
        expect(ok.bytes).toBe(16 * MIB);
        expect(ok.body.byteLength).toBe(16 * MIB);
        await expectHealthy(runtime);
      },
    );
  });

  it('stops a never-ending chunked body at the limit and closes its connection', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let written = 0;
    const server = await startHostServer('127.0.0.2', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) written += chunk.length;
      };
      res.on('drain', pump);
      pump();
    });
    track(server);
    const runtime = track(createRuntime(OPTIONS));
    await runtime.ready();

    const error = await rejectionOf(runtime.run({ url: `${server.origin}/forever`, maxResponseBytes: 1_000_000 }));
    expect(error.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
    // The client hung up: the server's socket closes, and it never got to push much past the limit.
    await waitUntil(() => server.open === 0, 'the endless response socket to close');
    expect(written).toBeLessThan(64 * MIB);
    await expectHealthy(runtime);
  });

  it('fails a declared Content-Length above the limit before reading the body', async () => {
    const server = await startHostServer('127.0.0.2', (_req, res) => {
      // Announces 50 MB, sends 5 bytes, then never sends more: a client that waited to read would hang.
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(50_000_000) });
      res.write('start');
    });
    track(server);
    const runtime = track(createRuntime(OPTIONS));
    await runtime.ready();

    const error = await rejectionOf(runtime.run({ url: `${server.origin}/huge`, maxResponseBytes: 1_000_000 }));
    expect(error.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
    await waitUntil(() => server.open === 0, 'the refused response socket to close');
    await expectHealthy(runtime);
  });

  describe('the socket of an oversized body is not reused', () => {
    const body2k = Buffer.alloc(2000, 0x62);

    it('control: jobs under the limit share one connection', async () => {
      const server = track(await startHostServer('127.0.0.2', (_req, res) => res.end(body2k)));
      const runtime = track(createRuntime(OPTIONS));
      await runtime.ready();

      for (let i = 0; i < 3; i++) expect((await runtime.run({ url: `${server.origin}/${i}` })).bytes).toBe(2000);
      expect(server.connections).toBe(1);
    });

    it.each([
      ['with Content-Length (refused before reading)', 'length'],
      ['chunked (refused while streaming)', 'chunked'],
      ['larger than the socket buffers (refused mid-stream)', 'large'],
    ] as const)('%s: the next job opens a new connection', async (_name, kind) => {
      const large = Buffer.alloc(8 * MIB, 0x63);
      const server = await startHostServer('127.0.0.2', (_req, res, seen) => {
        if (seen.url !== '/oversized') res.end('small');
        else if (kind === 'length') res.writeHead(200, { 'content-length': String(body2k.length) }).end(body2k);
        else if (kind === 'chunked') res.writeHead(200, { 'transfer-encoding': 'chunked' }).end(body2k);
        else res.writeHead(200, { 'content-length': String(large.length) }).end(large);
      });
      track(server);
      const runtime = track(createRuntime(OPTIONS));
      await runtime.ready();

      expect((await runtime.run({ url: `${server.origin}/first` })).body).toBe('small');
      expect(server.connections).toBe(1);
      const error = await rejectionOf(runtime.run({ url: `${server.origin}/oversized`, maxResponseBytes: 1000 }));
      expect(error.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
      expect((await runtime.run({ url: `${server.origin}/next` })).body).toBe('small');

      expect(server.requests.map((r) => r.url)).toEqual(['/first', '/oversized', '/next']);
      const [first, oversized, next] = server.requests;
      expect(oversized?.connection).toBe(first?.connection);
      // (undici may also open and drop an idle spare after the abort: only "not the same socket" matters.)
      expect(next?.connection).not.toBe(oversized?.connection);
      await expectHealthy(runtime);
    });

    // Compressed bodies: refused mid-stream (socket dropped) and after the whole message (socket
    // clean) are in limits-encoding.test.ts.
  });

  describe('a body exactly at the limit', () => {
    it('succeeds at the limit and fails one byte over (identity)', async () => {
      const server = await startHostServer('127.0.0.2', (_req, res, seen) => {
        const size = Number(seen.url.slice(1));
        res.end(Buffer.alloc(size, 0x64));
      });
      track(server);
      const runtime = track(createRuntime(OPTIONS));
      await runtime.ready();

      const ok = await runtime.run({ url: `${server.origin}/1000`, maxResponseBytes: 1000 });
      expect(ok.bytes).toBe(1000);
      expect(ok.body).toBe('d'.repeat(1000));
      const error = await rejectionOf(runtime.run({ url: `${server.origin}/1001`, maxResponseBytes: 1000 }));
      expect(error.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
      const empty = await runtime.run({ url: `${server.origin}/0`, maxResponseBytes: 0 });
      expect(empty.bytes).toBe(0);
      await expectHealthy(runtime);
    });

    it.each(ENCODINGS)('succeeds at the limit and fails one byte over, counted after %s decoding', async (encoding) => {
      const exact = compressSmall(encoding, Buffer.alloc(1_000_000, 0x65));
      const over = compressSmall(encoding, Buffer.alloc(1_000_001, 0x65));
      const server = await startHostServer('127.0.0.2', (_req, res, seen) => {
        const body = seen.url === '/exact' ? exact : over;
        res.writeHead(200, { 'content-encoding': encoding, 'content-length': String(body.length) }).end(body);
      });
      track(server);
      const runtime = track(createRuntime(OPTIONS));
      await runtime.ready();

      const ok = await runtime.run({
        url: `${server.origin}/exact`,
        maxResponseBytes: 1_000_000,
        responseType: 'bytes',
      });
      expect(ok.bytes).toBe(1_000_000);
      expect(ok.body.byteLength).toBe(1_000_000);
      const error = await rejectionOf(
        runtime.run({ url: `${server.origin}/over`, maxResponseBytes: 1_000_000, responseType: 'bytes' }),
      );
      expect(error.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
      await expectHealthy(runtime);
    });
  });
});
