/**
 * HTTP/2 with `allowH2`: negotiated by ALPN, one session per serving worker for 100 concurrent jobs,
 * HTTP/1.1 kept when not allowed or when the server only speaks it, and the limits that hold on h1
 * (body size, decoded size, deadline, cancel) holding the same over h2.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { createTestPki, type TestPki } from '../fixtures/tls-certs.js';
import { startTlsServer, type TlsHandler } from '../fixtures/tls-servers.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { settle } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

/** Answers /big with 64 KiB, /gzip-bomb with 1 MiB of zeros gzipped, /stall never; anything else JSON. */
const limitsHandler: TlsHandler = (req, res) => {
  if (req.url === '/big') {
    res.end(Buffer.alloc(64 * 1024, 97));
    return;
  }
  if (req.url === '/gzip-bomb') {
    res.setHeader('content-encoding', 'gzip');
    res.end(gzipSync(Buffer.alloc(1024 * 1024)));
    return;
  }
  if (req.url === '/stall') return;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ url: req.url, httpVersion: req.httpVersion }));
};

describe('transport: HTTP/2', () => {
  const track = closeAfterEach();
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki.cleanup());

  it('carries 100 concurrent jobs on one h2 session per serving worker', async () => {
    const server = track(await startTlsServer({ ...pki.server, kind: 'h2' }));
    const runtime = track(createRuntime({ workers: 2, policy: LOOPBACK, tls: { ca: pki.ca }, allowH2: true }));
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => runtime.run({ url: `${server.origin}/c/${i}`, responseType: 'json' })),
    );
    for (const [i, result] of results.entries())
      expect(result.body).toMatchObject({ url: `/c/${i}`, httpVersion: '2.0' });
    const serving = new Set(results.map((r) => r.worker)).size;
    expect(server.requests).toBe(100);
    expect(server.sessions).toBe(serving);
    expect(server.handshakes).toBe(serving);
    // A second wave rides the sessions already open (or opens one on a worker it spills to, no more).
    const again = await Promise.all(
      Array.from({ length: 50 }, (_, i) => runtime.run({ url: `${server.origin}/again/${i}` })),
    );
    const servingEither = new Set([...results, ...again].map((r) => r.worker)).size;
    expect(server.sessions).toBe(servingEither);
    expect(server.handshakes).toBe(servingEither);
  });

  it('speaks HTTP/1.1 to an h1+h2 server unless allowH2, per host pattern too', async () => {
    const server = track(await startTlsServer({ ...pki.server, kind: 'h1+h2' }));
    const h1 = track(createRuntime({ workers: 1, policy: LOOPBACK, tls: { ca: pki.ca } }));
    expect((await h1.run({ url: `${server.origin}/`, responseType: 'json' })).body).toMatchObject({
      httpVersion: '1.1',
    });
    const byPattern = track(
      createRuntime({ workers: 1, policy: LOOPBACK, tls: { ca: pki.ca }, hostTls: { '127.0.0.1': { allowH2: true } } }),
    );
    expect((await byPattern.run({ url: `${server.origin}/`, responseType: 'json' })).body).toMatchObject({
      httpVersion: '2.0',
    });
  });

  it('falls back to HTTP/1.1 when the server does not speak h2', async () => {
    const server = track(await startTlsServer({ ...pki.server, kind: 'h1' }));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, tls: { ca: pki.ca }, allowH2: true }));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => runtime.run({ url: `${server.origin}/f/${i}`, responseType: 'json' })),
    );
    for (const result of results) expect(result.body).toMatchObject({ httpVersion: '1.1' });
    expect(server.requests).toBe(20);
  });

  it('an h2-only server without allowH2 fails with a clear error, not raw OpenSSL text', async () => {
    const server = track(await startTlsServer({ ...pki.server, kind: 'h2' }));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, tls: { ca: pki.ca }, timeoutMs: 5_000 }));
    const outcome = await settle(runtime.run({ url: `${server.origin}/` }));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('FLOWPOOL_TLS_FAILED');
    expect(outcome.error.message).toMatch(/allowH2/);
  });

  it('limits hold over h2: body size, decoded size, deadline and cancel', async () => {
    const server = track(await startTlsServer({ ...pki.server, kind: 'h2', handler: limitsHandler }));
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, tls: { ca: pki.ca }, allowH2: true, maxResponseBytes: 16 * 1024 }),
    );
    const big = await settle(runtime.run({ url: `${server.origin}/big` }));
    expect(big.ok ? undefined : big.error.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
    const bomb = await settle(runtime.run({ url: `${server.origin}/gzip-bomb` }));
    expect(bomb.ok ? undefined : bomb.error.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
    const stalled = await settle(runtime.run({ url: `${server.origin}/stall`, timeoutMs: 300 }));
    expect(stalled.ok ? undefined : stalled.error.code).toBe('FLOWPOOL_TIMEOUT');
    const controller = new AbortController();
    const cancelled = settle(runtime.run({ url: `${server.origin}/stall` }, { signal: controller.signal }));
    controller.abort();
    expect(((await cancelled) as { error?: { code?: string } }).error?.code).toBe('FLOWPOOL_ABORTED');
    // The session survived all of it: one more job on it, no new handshake.
    const handshakes = server.handshakes;
    expect((await runtime.run({ url: `${server.origin}/ok`, responseType: 'json' })).body).toMatchObject({
      httpVersion: '2.0',
    });
    expect(server.handshakes).toBe(handshakes);
  });
});
