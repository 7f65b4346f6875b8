/**
 * Response headers have a size limit too (maxHeaderBytes, 16 KiB by default): a server sending 64 KiB of
 * headers fails the job with FLOWPOOL_RESPONSE_TOO_LARGE, the worker keeps serving, and the limit can be
 * raised per runtime.
 */
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { DEFAULTS } from '../../dist/src/schema.js';
import { rejectionOf, startHostServer, type HostServer } from '../fixtures/host-server.js';
import { expectHealthy } from '../fixtures/health.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

/** Writes `total` bytes of headers as 1 KiB `x-filler-N` headers, then a short body. */
function sendHeaders(res: ServerResponse, total: number): void {
  const value = 'h'.repeat(1000);
  for (let i = 0; i < Math.ceil(total / 1024); i++) res.setHeader(`x-filler-${i}`, value);
  res.end('body');
}

describe('limits: response header size', () => {
  const track = closeAfterEach();

  async function start(): Promise<HostServer> {
    const server = await startHostServer('127.0.0.2', (_req, res, seen) => {
      const kib = Number(/^\/headers\/(\d+)$/.exec(seen.url)?.[1] ?? '0');
      if (kib > 0) {
        sendHeaders(res, kib * 1024);
        return;
      }
      res.end('plain');
    });
    track(server);
    return server;
  }

  it('fails 64 KiB of response headers with FLOWPOOL_RESPONSE_TOO_LARGE (default 16 KiB), then serves the next job', async () => {
    expect(DEFAULTS.maxHeaderBytes).toBe(16 * 1024);
    const server = await start();
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, timeoutMs: 5_000 }));
    await runtime.ready();

    const error = await rejectionOf(runtime.run({ url: `${server.origin}/headers/64` }));
    expect(error.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
    expect(error.message).toMatch(/header/i);

    const next = await runtime.run({ url: `${server.origin}/next` });
    expect(next.body).toBe('plain');
    // Headers well under the limit pass.
    const modest = await runtime.run({ url: `${server.origin}/headers/8` });
    expect(modest.status).toBe(200);
    expect(modest.headers['x-filler-0']).toBe('h'.repeat(1000));

    await expectHealthy(runtime);
  });

  it('accepts the same 64 KiB of headers once the runtime raises maxHeaderBytes', async () => {
    const server = await start();
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, timeoutMs: 5_000, maxHeaderBytes: 128 * 1024 }),
    );

    const result = await runtime.run({ url: `${server.origin}/headers/64` });
    expect(result.status).toBe(200);
    expect(result.body).toBe('body');
    expect(result.headers['x-filler-63']).toBe('h'.repeat(1000));
  });
});
