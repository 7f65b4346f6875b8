/**
 * `flowpool fetch` with the transport flags, spawned for real: --cacert / --cert / --key against an mTLS
 * server, -k with its warning, -u / -A / -d @file / -o, and the proxy taken from the environment by
 * default (as curl) or from --proxy, counted at a real proxy.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../fixtures/cli.js';
import { createTestPki, type TestPki } from '../fixtures/tls-certs.js';
import { startProxy, startTlsServer, type AnyRequest } from '../fixtures/tls-servers.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const ALLOW = ['--allow', '127.0.0.0/8'];

describe('flowpool fetch: transport flags', () => {
  const track = closeAfterEach();
  let pki: TestPki;
  let dir: string;
  const saved = process.env.HTTPS_PROXY;
  beforeAll(() => {
    pki = createTestPki();
    dir = mkdtempSync(join(tmpdir(), 'flowpool-cli-'));
    writeFileSync(join(dir, 'ca.pem'), pki.ca);
    writeFileSync(join(dir, 'client.pem'), pki.client.cert);
    writeFileSync(join(dir, 'client.key'), pki.client.key);
    writeFileSync(join(dir, 'payload.bin'), 'from a file');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.HTTPS_PROXY;
    else process.env.HTTPS_PROXY = saved;
  });
  afterAll(() => {
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Echoes method, user-agent, authorization and the request body. */
  const echo = (req: AnyRequest, res: { end(body: string): void }): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () =>
      res.end(
        `${req.method} ua=${String(req.headers['user-agent'])} auth=${String(req.headers.authorization)} body=${Buffer.concat(chunks).toString()}`,
      ),
    );
  };

  it('--cacert --cert --key reach an mTLS server; -u -A -d @file -o shape the request and the output', async () => {
    const server = track(
      await startTlsServer({ ...pki.server, ca: pki.ca, requestCert: true, rejectUnauthorized: true, handler: echo }),
    );
    const out = join(dir, 'answer.txt');
    const { code, stderr } = await cli([
      'fetch',
      `${server.origin}/`,
      ...ALLOW,
      '--proxy',
      '',
      '--cacert',
      join(dir, 'ca.pem'),
      '--cert',
      join(dir, 'client.pem'),
      '--key',
      join(dir, 'client.key'),
      '-u',
      'ann:pw',
      '-A',
      'probe/1',
      '-d',
      `@${join(dir, 'payload.bin')}`,
      '-o',
      out,
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(
      `POST ua=probe/1 auth=Basic ${Buffer.from('ann:pw').toString('base64')} body=from a file`,
    );
  });

  it('without --cacert a private CA fails with FLOWPOOL_TLS_FAILED; -k connects and warns loudly', async () => {
    const server = track(await startTlsServer(pki.server));
    const refused = await cli(['fetch', `${server.origin}/`, ...ALLOW, '--proxy', '']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/FLOWPOOL_TLS_FAILED|not trusted/);
    const insecure = await cli(['fetch', `${server.origin}/`, ...ALLOW, '--proxy', '', '-k']);
    expect(insecure.code).toBe(0);
    expect(insecure.stderr).toMatch(/WARNING: --insecure/);
    expect(server.requests).toBe(1);
  });

  it('takes HTTPS_PROXY from the environment by default, and --proxy "" goes direct', async () => {
    const server = track(await startTlsServer(pki.server));
    const proxy = track(await startProxy());
    process.env.HTTPS_PROXY = proxy.url;
    const via = await cli(['fetch', `${server.origin}/`, ...ALLOW, '--cacert', join(dir, 'ca.pem')]);
    expect(via.code).toBe(0);
    expect(proxy.connects).toEqual([`127.0.0.1:${server.port}`]);
    const direct = await cli(['fetch', `${server.origin}/`, ...ALLOW, '--cacert', join(dir, 'ca.pem'), '--proxy', '']);
    expect(direct.code).toBe(0);
    expect(proxy.connects).toHaveLength(1);
    expect(server.requests).toBe(2);
  });
});
