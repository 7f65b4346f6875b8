/**
 * Issue 21, item 1: `proxy: 'env'` reads the environment by curl's rules and refuses what curl would not use.
 * Each case runs the runtime in a child process with the variables set (they are read at createRuntime),
 * against a real forward proxy that counts CONNECTs and absolute-form requests, and a trap server standing
 * where a misread value would send the job: the trap must see 0 connections.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { createTestPki, type TestPki } from '../fixtures/tls-certs.js';
import { startProxy, startTlsServer } from '../fixtures/tls-servers.js';

const CHILD = fileURLToPath(new URL('../fixtures/child-proxy-env.mjs', import.meta.url));
const PROXY_NAMES = /^(http|https|no|all)_proxy$/i;

interface ChildReport {
  readonly created: boolean;
  readonly code?: string;
  readonly message?: string;
  readonly details?: Record<string, unknown>;
  readonly outcomes?: { status?: number; code?: string; message?: string }[];
}

/** Runs the child with exactly `vars` as its proxy environment (the parent's own proxy variables removed). */
function runChild(vars: Record<string, string>, urls: string[], ca?: string): Promise<ChildReport> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && !PROXY_NAMES.test(name)) env[name] = value;
  Object.assign(env, vars, ca === undefined ? {} : { FLOWPOOL_TEST_CA: ca });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...urls], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`child exited with ${String(code)}: ${stderr}`));
      else resolve(JSON.parse(stdout) as ChildReport);
    });
  });
}

describe("security: proxy 'env'", () => {
  const track = closeAfterEach();
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki.cleanup());

  it('reads http_proxy=localhost:PORT as http://localhost:PORT (plain job through the proxy) and never reads HTTP_PROXY', async () => {
    const target = track(await startCountingServer());
    const proxy = track(await startProxy());
    const trap = track(await startCountingServer());
    const report = await runChild({ http_proxy: `localhost:${proxy.port}`, HTTP_PROXY: trap.origin }, [
      `${target.origin}/via-proxy`,
    ]);
    expect(report).toEqual({ created: true, outcomes: [{ status: 200 }] });
    expect(proxy.requests).toEqual([`${target.origin}/via-proxy`]);
    expect(target.requests).toBe(1);
    expect(trap.connections).toBe(0);
  });

  it('HTTPS_PROXY=127.0.0.1:PORT tunnels HTTPS with one CONNECT; an empty https_proxy does not hide it', async () => {
    const server = track(await startTlsServer(pki.server));
    const proxy = track(await startProxy());
    const report = await runChild(
      { https_proxy: '', HTTPS_PROXY: `127.0.0.1:${proxy.port}` },
      [`https://api.test:${server.port}/tunnelled`],
      pki.ca,
    );
    expect(report).toEqual({ created: true, outcomes: [{ status: 200 }] });
    expect(proxy.connects).toEqual([`127.0.0.1:${server.port}`]);
    expect(server.requests).toBe(1);
  });

  it.each([
    ['http_proxy', 'file:///etc/passwd'],
    ['http_proxy', 'socks5://127.0.0.1:TRAP'],
    ['HTTPS_PROXY', 'socks5h://127.0.0.1:TRAP'],
    ['https_proxy', 'ftp://127.0.0.1:TRAP'],
  ])('refuses %s=%s at createRuntime with FLOWPOOL_INVALID_OPTIONS naming it; nothing is sent', async (name, raw) => {
    const target = track(await startCountingServer());
    const trap = track(await startCountingServer());
    const report = await runChild({ [name]: raw.replace('TRAP', String(trap.port)) }, [`${target.origin}/x`]);
    expect(report.created).toBe(false);
    expect(report.code).toBe('FLOWPOOL_INVALID_OPTIONS');
    expect(report.details).toEqual({ field: 'options.proxy', variable: name });
    expect(report.message).toContain(name);
    expect(target.connections).toBe(0);
    expect(trap.connections).toBe(0);
  });
});
