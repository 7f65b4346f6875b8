/**
 * Streams both ways. Uploads from a generator, a Node Readable and a web ReadableStream arrive whole and
 * chunked, and the producer is pulled only as fast as the server reads. `responseType: 'stream'` resolves
 * at the headers, a reader that stops holds the server's writes back, a cancel destroys the request's
 * socket and frees its slot, and the deadline and maxResponseBytes still end a body mid-way.
 */
import { Readable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { waitUntil } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const KIB = 1024;
const MIB = 1024 * KIB;
const CHUNK = Buffer.alloc(64 * KIB, 0x61);

interface Download {
  written: number;
  /** res.write returned false and 'drain' has not come yet. */
  blocked: boolean;
  finished: boolean;
  /** The response's connection closed before the body was complete. */
  aborted: boolean;
}

describe('payload: streams', () => {
  let server: CountingServer;
  /** Another origin on the same worker, for round trips while the main origin's one slot is busy. */
  let side: CountingServer;
  let runtime: Runtime;
  const uploads: { bytes: number; chunked: boolean }[] = [];
  const downloads: Download[] = [];
  /** Requests to /slow-upload wait for this before reading their body. */
  let releaseUpload: () => void = () => undefined;

  /** Writes `total` bytes as fast as the client takes them, recording backpressure. */
  function download(res: ServerResponse, total: number, stallAfter = Infinity): void {
    const state: Download = { written: 0, blocked: false, finished: false, aborted: false };
    downloads.push(state);
    res.setHeader('content-length', total);
    res.once('close', () => {
      if (!state.finished) state.aborted = true;
    });
    const write = (): void => {
      state.blocked = false;
      while (state.written < total) {
        if (state.written >= stallAfter) return;
        state.written += CHUNK.length;
        if (!res.write(CHUNK)) {
          state.blocked = true;
          res.once('drain', write);
          return;
        }
      }
      state.finished = true;
      res.end();
    };
    write();
  }

  beforeAll(async () => {
    server = await startCountingServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/upload' || url.pathname === '/slow-upload') {
        const record = { bytes: 0, chunked: req.headers['transfer-encoding'] === 'chunked' };
        uploads.push(record);
        const read = (): void => {
          req.on('data', (chunk: Buffer) => (record.bytes += chunk.length));
          req.on('end', () => res.end(String(record.bytes)));
        };
        if (url.pathname === '/upload') read();
        else
          releaseUpload = () => {
            read();
          };
        return;
      }
      const size = Number(url.searchParams.get('mib') ?? 1) * MIB;
      download(res, size, url.pathname === '/stall' ? 2 * CHUNK.length : Infinity);
    });
    side = await startCountingServer();
    runtime = createRuntime({ workers: 1, policy: LOOPBACK, connectionsPerHost: 1, timeoutMs: 20_000 });
  });
  afterAll(async () => {
    await runtime.destroy();
    await Promise.all([server.close(), side.close()]);
  });

  it('uploads from an async generator, a Node Readable and a web ReadableStream, chunked', async () => {
    async function* generate(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 32; i++) yield await Promise.resolve(CHUNK);
    }
    const web = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(CHUNK));
        controller.close();
      },
    });
    const cases: [unknown, number][] = [
      [generate(), 32 * CHUNK.length],
      [Readable.from([CHUNK, CHUNK, 'tail']), 2 * CHUNK.length + 4],
      [web, 4 * CHUNK.length],
    ];
    for (const [body, expected] of cases) {
      const result = await runtime.run({ url: `${server.origin}/upload`, method: 'PUT', body: body as never });
      expect(result.body).toBe(String(expected));
      expect(uploads.at(-1)).toEqual({ bytes: expected, chunked: true });
    }
  });

  it('pulls an upload only as fast as the server reads it', async () => {
    let produced = 0;
    async function* generate(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 1024; i++) {
        produced += CHUNK.length;
        yield await Promise.resolve(CHUNK);
      }
    }
    const pending = runtime.run({ url: `${server.origin}/slow-upload`, method: 'POST', body: generate() });
    await waitUntil(() => produced > 0 && uploads.length > 0, 'the upload to start');
    // The server is not reading: a round trip through the same worker gives the upload every chance to run on.
    await runtime.run({ url: `${side.origin}/` });
    await runtime.run({ url: `${side.origin}/` });
    expect(produced).toBeLessThan(32 * MIB);
    releaseUpload();
    const result = await pending;
    expect(result.body).toBe(String(1024 * CHUNK.length));
    expect(produced).toBe(1024 * CHUNK.length);
  });

  it('resolves at the headers and streams the body; a reader that stops holds the server back', async () => {
    const result = await runtime.run({
      url: `${server.origin}/data?mib=64`,
      responseType: 'stream',
      maxResponseBytes: 128 * MIB,
    });
    expect(result.status).toBe(200);
    const state = downloads.at(-1) as Download;
    await waitUntil(() => state.blocked, 'the server to see backpressure');
    expect(state.written).toBeLessThan(32 * MIB);
    let received = 0;
    for await (const chunk of result.body) received += chunk.length;
    expect(received).toBe(64 * MIB);
    expect(state.finished).toBe(true);
  });

  it('cancelling the stream destroys the socket and frees the slot', async () => {
    const result = await runtime.run({
      url: `${server.origin}/data?mib=64`,
      responseType: 'stream',
      maxResponseBytes: 128 * MIB,
    });
    const state = downloads.at(-1) as Download;
    const reader = result.body.getReader();
    await reader.read();
    await reader.cancel();
    await waitUntil(() => state.aborted, 'the server to see the connection close');
    // connectionsPerHost is 1: this job runs only once the cancelled one gave its slot back.
    const next = await runtime.run({ url: `${server.origin}/data?mib=1`, responseType: 'bytes' });
    expect(next.body.length).toBe(MIB);
  });

  it('fails the stream with FLOWPOOL_TIMEOUT when the deadline passes mid-body, and frees the slot', async () => {
    const result = await runtime.run({ url: `${server.origin}/stall?mib=4`, responseType: 'stream', timeoutMs: 1_500 });
    const chunks: Uint8Array[] = [];
    const error = await (async () => {
      for await (const chunk of result.body) chunks.push(chunk);
    })().then(
      () => undefined,
      (e: unknown) => e as { code: string; details: { phase?: string } },
    );
    expect(error?.code).toBe('FLOWPOOL_TIMEOUT');
    expect(error?.details.phase).toBe('body');
    expect(chunks.length).toBeGreaterThan(0);
    await waitUntil(() => downloads.at(-1)?.aborted === true, 'the stalled response to be closed');
    const next = await runtime.run({ url: `${server.origin}/data?mib=1` });
    expect(next.status).toBe(200);
  });

  it('refuses a stream whose declared length passes maxResponseBytes before handing it over', async () => {
    const error = await runtime
      .run({ url: `${server.origin}/data?mib=8`, responseType: 'stream', maxResponseBytes: MIB })
      .then(
        () => undefined,
        (e: unknown) => e as { code: string },
      );
    expect(error?.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
    await waitUntil(() => downloads.at(-1)?.aborted === true, 'the refused response to be closed');
  });
});
