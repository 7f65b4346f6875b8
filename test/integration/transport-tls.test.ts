/**
 * HTTPS: trust (the runtime's `ca`), certificate failures as FLOWPOOL_TLS_FAILED with a reason and Node's
 * code, mutual TLS, `hostTls` by pattern, SNI with `resolve`, and connection reuse counted at the server's
 * `secureConnection`. Certificates are made at test start (fixtures/tls-certs.ts).
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { createTestPki, type TestPki } from '../fixtures/tls-certs.js';
import { startTlsServer } from '../fixtures/tls-servers.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { settle } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('transport: TLS', () => {
  const track = closeAfterEach();
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki.cleanup());

  it('trusts a server signed by tls.ca and keeps 200 sequential jobs on one TLS connection', async () => {
    const server = track(await startTlsServer(pki.server));
    const runtime = track(createRuntime({ workers: 2, policy: LOOPBACK, tls: { ca: pki.ca } }));
    for (let i = 0; i < 200; i++) {
      const result = await runtime.run({ url: `${server.origin}/seq/${i}`, responseType: 'json' });
      expect(result.status).toBe(200);
      expect(result.body).toEqual({ ok: true, url: `/seq/${i}`, httpVersion: '1.1' });
    }
    expect(server.requests).toBe(200);
    expect(server.handshakes).toBe(1);
    expect(server.connections).toBe(1);
  });

  it('resumes the TLS session when a second connection to the origin opens', async () => {
    const server = track(await startTlsServer(pki.server));
    const runtime = track(
      createRuntime({
        workers: 1,
        policy: LOOPBACK,
        tls: { ca: pki.ca, minVersion: 'TLSv1.3' },
        keepAliveTimeoutMs: 1,
      }),
    );
    await runtime.run({ url: `${server.origin}/first` });
    // keepAliveTimeoutMs 1: the socket is dropped at once, so the next job needs a new connection.
    for (let i = 0; i < 20 && server.handshakes < 2; i++) await runtime.run({ url: `${server.origin}/again` });
    expect(server.handshakes).toBeGreaterThanOrEqual(2);
    expect(server.resumed).toBeGreaterThanOrEqual(1);
  });

  it.each([
    [
      'untrusted',
      'untrusted' as const,
      'not trusted',
      ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ],
    ['expired', 'expired' as const, 'expired', ['CERT_HAS_EXPIRED']],
    ['wrong-name', 'wrongName' as const, 'hostname mismatch', ['ERR_TLS_CERT_ALTNAME_INVALID']],
  ])('refuses a %s certificate with FLOWPOOL_TLS_FAILED naming host and reason', async (_, which, reason, codes) => {
    const server = track(await startTlsServer(pki[which]));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, tls: { ca: pki.ca } }));
    const outcome = await settle(runtime.run({ url: `${server.origin}/` }));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('FLOWPOOL_TLS_FAILED');
    expect(outcome.error.message).toContain(`127.0.0.1:${server.port}`);
    expect(outcome.error.message).toContain(reason);
    expect(codes).toContain(outcome.error.details?.tlsCode);
    expect(server.requests).toBe(0);
  });

  it('refuses a server signed by Node roots only when tlsReplaceRoots leaves them out, and -k style rejectUnauthorized false connects', async () => {
    const server = track(await startTlsServer(pki.untrusted));
    const strict = track(createRuntime({ workers: 1, policy: LOOPBACK, tls: { ca: pki.ca }, tlsReplaceRoots: true }));
    const refused = await settle(strict.run({ url: `${server.origin}/` }));
    expect(refused.ok ? undefined : refused.error.code).toBe('FLOWPOOL_TLS_FAILED');
    const insecure = track(createRuntime({ workers: 1, policy: LOOPBACK, tls: { rejectUnauthorized: false } }));
    expect((await insecure.run({ url: `${server.origin}/` })).status).toBe(200);
  });

  it('mutual TLS: a client certificate is accepted; none is FLOWPOOL_TLS_FAILED; one from another CA is refused', async () => {
    const server = track(
      await startTlsServer({ ...pki.server, ca: pki.ca, requestCert: true, rejectUnauthorized: true }),
    );
    const withCert = track(
      createRuntime({ workers: 1, policy: LOOPBACK, tls: { ca: pki.ca, cert: pki.client.cert, key: pki.client.key } }),
    );
    expect((await withCert.run({ url: `${server.origin}/mtls` })).status).toBe(200);

    const without = track(createRuntime({ workers: 1, policy: LOOPBACK, tls: { ca: pki.ca } }));
    const missing = await settle(without.run({ url: `${server.origin}/mtls` }));
    expect(missing.ok).toBe(false);
    if (missing.ok) return;
    expect(missing.error.code).toBe('FLOWPOOL_TLS_FAILED');
    expect(missing.error.message).toMatch(/client certificate/);
    expect(missing.error.message).toContain(`127.0.0.1:${server.port}`);

    const stranger = track(
      createRuntime({
        workers: 1,
        policy: LOOPBACK,
        tls: { ca: pki.ca, cert: pki.strangerClient.cert, key: Buffer.from(pki.strangerClient.key) },
      }),
    );
    // A certificate from an unknown CA: Node's server closes after the TLS 1.3 handshake without an alert
    // the client can read, so the job fails as a closed connection (see the README); no request got through.
    const refused = await settle(stranger.run({ url: `${server.origin}/mtls` }));
    expect(refused.ok).toBe(false);
    expect(['FLOWPOOL_TLS_FAILED', 'FLOWPOOL_CONNECTION_FAILED']).toContain(refused.ok ? '' : refused.error.code);
    expect(server.requests).toBe(1);
  });

  it('hostTls: the pattern that matches the host gives its CA and client certificate', async () => {
    const mtls = track(
      await startTlsServer({ ...pki.server, ca: pki.ca, requestCert: true, rejectUnauthorized: true }),
    );
    const other = track(await startTlsServer(pki.untrusted));
    const runtime = track(
      createRuntime({
        workers: 1,
        policy: { allow: ['127.0.0.0/8', '*.flowpool.test'] },
        resolve: { 'mtls.flowpool.test': ['127.0.0.1'], 'other.test': ['127.0.0.1'] },
        tls: { ca: pki.ca },
        hostTls: {
          '*.flowpool.test': { cert: pki.client.cert, key: pki.client.key },
          'other.test': { ca: pki.otherCa, servername: 'localhost' },
        },
      }),
    );
    expect((await runtime.run({ url: `https://mtls.flowpool.test:${mtls.port}/` })).status).toBe(200);
    expect((await runtime.run({ url: `https://other.test:${other.port}/` })).status).toBe(200);
    expect(other.servernames).toEqual(['localhost']);
    // Not matched by a pattern: the runtime's settings (no client certificate) apply.
    const plain = await settle(runtime.run({ url: `${mtls.origin}/` }));
    expect(plain.ok ? undefined : plain.error.code).toBe('FLOWPOOL_TLS_FAILED');
  });

  it('connectTimeoutMs bounds TCP plus the TLS handshake with its own timer', async () => {
    // Accepts TCP and never answers the ClientHello.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const held = new Set<Socket>();
    silent.on('connection', (socket: Socket) => held.add(socket));
    track({
      close: async () => {
        for (const socket of held) socket.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      },
    });
    const { port } = silent.address() as AddressInfo;
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, connectTimeoutMs: 300, timeoutMs: 20_000 }));
    const outcome = await settle(runtime.run({ url: `https://127.0.0.1:${port}/` }));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('FLOWPOOL_TIMEOUT');
    expect(outcome.error.details?.phase).toBe('connect');
    // flowpool's own timer, not undici's coarse one ("Connect Timeout Error").
    expect(outcome.error.message).toContain('connectTimeoutMs (300 ms)');
    expect(held.size).toBe(1);
  });

  it('SNI and certificate check use the name when resolve maps it to an address', async () => {
    const server = track(await startTlsServer(pki.server));
    const runtime = track(
      createRuntime({
        workers: 1,
        policy: LOOPBACK,
        resolve: { 'api.test': ['127.0.0.1'] },
        tls: { ca: pki.ca },
      }),
    );
    const result = await runtime.run({ url: `https://api.test:${server.port}/sni` });
    expect(result.status).toBe(200);
    expect(server.servernames).toEqual(['api.test']);
    expect(server.headers[0]?.host).toBe(`api.test:${server.port}`);
  });
});
