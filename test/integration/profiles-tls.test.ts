/**
 * Profiles carry their own TLS trust: two private CAs made with openssl at test start, profile `a` trusting
 * one and `b` the other. Each profile reaches only the server its CA signed; the wrong profile, or none (the
 * runtime trusts neither), fails with FLOWPOOL_TLS_FAILED. A profile's jobs share its dispatcher's pool:
 * 30 jobs to one origin make at most 2 TLS connections, counted at the server's `secureConnection`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { createTestPki, type TestPki } from '../fixtures/tls-certs.js';
import { startTlsServer } from '../fixtures/tls-servers.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { settle } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('profiles: TLS trust per profile', () => {
  const track = closeAfterEach();
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki.cleanup());

  it('profile a reaches the server of its CA, b the other; the wrong profile or none is FLOWPOOL_TLS_FAILED', async () => {
    const serverA = track(await startTlsServer(pki.server));
    const serverB = track(await startTlsServer(pki.untrusted));
    const runtime = track(
      createRuntime({
        workers: 2,
        policy: LOOPBACK,
        tlsReplaceRoots: true,
        profiles: { a: { tls: { ca: pki.ca } }, b: { tls: { ca: pki.otherCa } } },
      }),
    );
    const a = await runtime.run({ url: `${serverA.origin}/a`, profile: 'a', responseType: 'json' });
    expect(a.body).toEqual({ ok: true, url: '/a', httpVersion: '1.1' });
    const b = await runtime.run({ url: `${serverB.origin}/b`, profile: 'b', responseType: 'json' });
    expect(b.body).toEqual({ ok: true, url: '/b', httpVersion: '1.1' });

    const refused = await Promise.all([
      settle(runtime.run({ url: `${serverA.origin}/wrong`, profile: 'b' })),
      settle(runtime.run({ url: `${serverB.origin}/wrong`, profile: 'a' })),
      settle(runtime.run({ url: `${serverA.origin}/none` })),
      settle(runtime.run({ url: `${serverB.origin}/none` })),
    ]);
    for (const outcome of refused) expect(outcome.ok ? 'succeeded' : outcome.error.code).toBe('FLOWPOOL_TLS_FAILED');
    // Only the two jobs with the right profile were ever answered.
    expect(serverA.requests).toBe(1);
    expect(serverB.requests).toBe(1);
  });

  it('30 jobs of profile a to one origin make at most 2 TLS connections', async () => {
    const server = track(await startTlsServer(pki.server));
    const runtime = track(createRuntime({ workers: 2, policy: LOOPBACK, profiles: { a: { tls: { ca: pki.ca } } } }));
    for (let i = 0; i < 30; i++) {
      const result = await runtime.run({ url: `${server.origin}/seq/${i}`, profile: 'a' });
      expect(result.status).toBe(200);
    }
    expect(server.requests).toBe(30);
    expect(server.handshakes).toBeLessThanOrEqual(2);
    expect(server.connections).toBeLessThanOrEqual(2);
  });
});
