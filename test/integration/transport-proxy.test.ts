/**
 * Egress proxy: HTTPS through CONNECT (to the address the policy checked, SNI still the name), plain HTTP
 * in absolute form, NO_PROXY, 'env' mode, a 407, a refused target that never reaches the proxy, and the
 * per-origin cap and connection reuse holding through the proxy. The proxy is a real one (`proxy` package).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { createTestPki, type TestPki } from '../fixtures/tls-certs.js';
import { startProxy, startTlsServer } from '../fixtures/tls-servers.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { settle, waitUntil } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const ENV_NAMES = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'];

describe('transport: proxy', () => {
  const track = closeAfterEach();
  let pki: TestPki;
  const savedEnv = new Map<string, string | undefined>();
  beforeAll(() => {
    pki = createTestPki();
    for (const name of ENV_NAMES) savedEnv.set(name, process.env[name]);
  });
  afterEach(() => {
    for (const [name, value] of savedEnv) {
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    }
  });
  afterAll(() => pki.cleanup());

  it('tunnels HTTPS with one CONNECT to the checked address, SNI and Host the name, reused for 20 jobs', async () => {
    const server = track(await startTlsServer(pki.server));
    const proxy = track(await startProxy());
    const runtime = track(
      createRuntime({
        workers: 1,
        policy: LOOPBACK,
        resolve: { 'api.test': ['127.0.0.1'] },
        tls: { ca: pki.ca },
        proxy: proxy.url,
      }),
    );
    for (let i = 0; i < 20; i++)
      expect((await runtime.run({ url: `https://api.test:${server.port}/t/${i}` })).status).toBe(200);
    expect(proxy.connects).toEqual([`127.0.0.1:${server.port}`]);
    expect(server.handshakes).toBe(1);
    expect(server.servernames).toEqual(['api.test']);
    expect(server.headers[0]?.host).toBe(`api.test:${server.port}`);
    expect(server.requests).toBe(20);
  });

  it('sends plain HTTP in absolute form with the proxy credentials, and a 407 is a clear error, tunnelled or not', async () => {
    const target = track(await startCountingServer());
    const proxy = track(await startProxy({ auth: 'alice:s3cret' }));
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, proxy: `http://alice:s3cret@127.0.0.1:${proxy.port}` }),
    );
    const result = await runtime.run({ url: `${target.origin}/abs?q=1` });
    expect(result.status).toBe(200);
    expect(proxy.requests).toEqual([`${target.origin}/abs?q=1`]);
    expect(target.requests).toBe(1);

    const server = track(await startTlsServer(pki.server));
    const wrong = track(
      createRuntime({
        workers: 1,
        policy: LOOPBACK,
        tls: { ca: pki.ca },
        proxy: `http://alice:wrong@127.0.0.1:${proxy.port}`,
      }),
    );
    const refused = await settle(wrong.run({ url: `${server.origin}/` }));
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.code).toBe('FLOWPOOL_CONNECTION_FAILED');
    expect(refused.error.message).toMatch(/407/);
    expect(refused.error.message).toMatch(/proxy authentication/);
    expect(refused.error.message).not.toContain('wrong');
    expect(proxy.refused).toBeGreaterThanOrEqual(1);
    expect(server.requests).toBe(0);

    // Plain HTTP: the proxy's 407 answers the absolute-form request itself; it is the same clear error.
    const refusedBefore = proxy.refused;
    const plain = await settle(wrong.run({ url: `${target.origin}/abs`, retry: { attempts: 1 } }));
    expect(plain.ok).toBe(false);
    if (plain.ok) return;
    expect(plain.error.code).toBe('FLOWPOOL_CONNECTION_FAILED');
    expect(plain.error.message).toMatch(/407: proxy authentication/);
    expect(plain.error.message).not.toContain('wrong');
    expect(plain.error.details).toMatchObject({ causeCode: 'PROXY_AUTH_REQUIRED' });
    expect(proxy.refused).toBe(refusedBefore + 1);
    expect(target.requests).toBe(1);
  });

  it('refuses a blocked target before anything reaches the proxy', async () => {
    const proxy = track(await startProxy());
    const runtime = track(
      createRuntime({
        workers: 1,
        policy: LOOPBACK,
        resolve: { 'metadata.test': ['169.254.169.254'], 'intranet.test': ['10.1.2.3'] },
        proxy: proxy.url,
      }),
    );
    for (const url of [
      'https://metadata.test/latest/meta-data/',
      'http://intranet.test/',
      'https://10.0.0.1/',
      'http://169.254.169.254/',
    ]) {
      const outcome = await settle(runtime.run({ url }));
      expect(outcome.ok ? undefined : outcome.error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    }
    expect(proxy.connects).toEqual([]);
    expect(proxy.requests).toEqual([]);
    expect(proxy.connections).toBe(0);
  });

  it('goes direct for noProxy hosts', async () => {
    const target = track(await startCountingServer());
    const proxy = track(await startProxy());
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, proxy: proxy.url, noProxy: ['127.0.0.1'] }));
    expect((await runtime.run({ url: `${target.origin}/direct` })).status).toBe(200);
    expect(target.requests).toBe(1);
    expect(proxy.connections).toBe(0);
  });

  it("'env' reads the lower-case variables first and honours NO_PROXY", async () => {
    const target = track(await startCountingServer());
    const direct = track(await startCountingServer());
    const proxy = track(await startProxy());
    process.env.http_proxy = proxy.url;
    process.env.HTTP_PROXY = 'http://127.0.0.1:9/'; // upper case loses to lower case
    process.env.no_proxy = `localhost, 127.0.0.1:${direct.port}`;
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, proxy: 'env' }));
    expect((await runtime.run({ url: `${target.origin}/via` })).status).toBe(200);
    expect((await runtime.run({ url: `${direct.origin}/around` })).status).toBe(200);
    expect(proxy.requests).toEqual([`${target.origin}/via`]);
    expect(direct.requests).toBe(1);
  });

  it('holds connectionsPerHost through the proxy', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const server = track(
      await startTlsServer({
        ...pki.server,
        handler: (_req, res) => {
          void gate.then(() => res.end('ok'));
        },
      }),
    );
    const proxy = track(await startProxy());
    const runtime = track(
      createRuntime({ workers: 2, connectionsPerHost: 2, policy: LOOPBACK, tls: { ca: pki.ca }, proxy: proxy.url }),
    );
    const jobs = Array.from({ length: 12 }, (_, i) => runtime.run({ url: `${server.origin}/cap/${i}` }));
    // The cap fills (two requests held by the server), then every response is let go.
    await waitUntil(() => server.requests >= 2, 'two requests held at the server');
    release();
    const results = await Promise.all(jobs);
    for (const result of results) expect(result.status).toBe(200);
    expect(server.peakOpen).toBeLessThanOrEqual(2);
    expect(proxy.connects.length).toBeLessThanOrEqual(2);
    expect(server.requests).toBe(12);
  });
});
