/**
 * Issue 21, item 3: a `hostAuth` credential goes over https only unless its key names `http://`. A plain-HTTP
 * loopback server sees no Authorization header for a key without a scheme (the job is still sent); with an
 * explicit `http://` key it does; the same scheme-less key over https (a test TLS server, CA made at test
 * time) sends it; a job's own `auth` over plain HTTP is the caller's choice and is sent.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { createTestPki, type TestPki } from '../fixtures/tls-certs.js';
import { startTlsServer } from '../fixtures/tls-servers.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const RESOLVE = { 'good.test': ['127.0.0.1'] };
const TOKEN = { bearer: 'host-token' };

describe('security: hostAuth over https only', () => {
  const track = closeAfterEach();
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki.cleanup());

  async function plainServer(): Promise<{ port: number; seen: IncomingHttpHeaders[]; requests: () => number }> {
    const seen: IncomingHttpHeaders[] = [];
    const server = track(
      await startCountingServer((req, res) => {
        seen.push(req.headers);
        res.end('ok');
      }),
    );
    return { port: server.port, seen, requests: () => server.requests };
  }

  it('a scheme-less key sends nothing over plain HTTP (the job itself goes through)', async () => {
    const server = await plainServer();
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, resolve: RESOLVE, hostAuth: { 'good.test': TOKEN } }),
    );
    const result = await runtime.run({ url: `http://good.test:${server.port}/clear` });
    expect(result.status).toBe(200);
    expect(server.requests()).toBe(1);
    expect(server.seen[0]?.authorization).toBeUndefined();
  });

  it('an explicit http:// key sends it over plain HTTP', async () => {
    const server = await plainServer();
    const runtime = track(
      createRuntime({
        workers: 1,
        policy: LOOPBACK,
        resolve: RESOLVE,
        hostAuth: { [`http://good.test:${server.port}`]: TOKEN },
      }),
    );
    expect((await runtime.run({ url: `http://good.test:${server.port}/clear` })).status).toBe(200);
    expect(server.seen[0]?.authorization).toBe('Bearer host-token');
  });

  it('the same scheme-less key over https keeps working', async () => {
    const server = track(await startTlsServer(pki.server));
    const runtime = track(
      createRuntime({
        workers: 1,
        policy: LOOPBACK,
        resolve: { 'api.test': ['127.0.0.1'] },
        tls: { ca: pki.ca },
        hostAuth: { 'api.test': TOKEN },
      }),
    );
    expect((await runtime.run({ url: `https://api.test:${server.port}/tls` })).status).toBe(200);
    expect(server.requests).toBe(1);
    expect(server.headers[0]?.authorization).toBe('Bearer host-token');
  });

  it("a job's own auth over plain HTTP is the caller's choice: sent", async () => {
    const server = await plainServer();
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, resolve: RESOLVE, hostAuth: { 'good.test': TOKEN } }),
    );
    await runtime.run({ url: `http://good.test:${server.port}/job`, auth: { bearer: 'job-token' } });
    expect(server.seen[0]?.authorization).toBe('Bearer job-token');
  });
});
