/**
 * A profile's proxy: its jobs go through it (HTTPS by CONNECT, plain HTTP in absolute form), while the
 * runtime's own jobs go direct, and a profile with `proxy: false` goes direct under a runtime that proxies.
 * Counted at a real forward proxy (the `proxy` package) and at the target servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { createTestPki, type TestPki } from '../fixtures/tls-certs.js';
import { startProxy, startTlsServer } from '../fixtures/tls-servers.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('profiles: proxy per profile', () => {
  const track = closeAfterEach();
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki.cleanup());

  it('sends a profile’s jobs through its proxy and the runtime’s own jobs direct', async () => {
    const plain = track(await startCountingServer());
    const secure = track(await startTlsServer(pki.server));
    const proxy = track(await startProxy());
    const runtime = track(
      createRuntime({
        workers: 1,
        policy: LOOPBACK,
        tls: { ca: pki.ca },
        profiles: { egress: { proxy: proxy.url } },
      }),
    );
    expect((await runtime.run({ url: `${plain.origin}/direct` })).status).toBe(200);
    expect((await runtime.run({ url: `${secure.origin}/direct` })).status).toBe(200);
    expect(proxy.connections).toBe(0);

    expect((await runtime.run({ url: `${plain.origin}/proxied`, profile: 'egress' })).status).toBe(200);
    expect((await runtime.run({ url: `${secure.origin}/proxied`, profile: 'egress' })).status).toBe(200);
    expect(proxy.requests).toEqual([`${plain.origin}/proxied`]);
    expect(proxy.connects).toEqual([`127.0.0.1:${secure.port}`]);
    expect(plain.requests).toBe(2);
    expect(secure.requests).toBe(2);
  });

  it('a profile with proxy false goes direct under a runtime that proxies', async () => {
    const target = track(await startCountingServer());
    const proxy = track(await startProxy());
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, proxy: proxy.url, profiles: { direct: { proxy: false } } }),
    );
    expect((await runtime.run({ url: `${target.origin}/via` })).status).toBe(200);
    expect((await runtime.run({ url: `${target.origin}/straight`, profile: 'direct' })).status).toBe(200);
    expect(proxy.requests).toEqual([`${target.origin}/via`]);
    expect(target.requests).toBe(2);
  });
});
