/**
 * The package as a user gets it: `npm pack`, the tarball installed into fresh apps outside this repository
 * (so nothing resolves from the repo's node_modules), a GET through createRuntime to a loopback server that
 * counts what it saw. One app has only flowpool; one also depends on zod 3, and npm must nest flowpool's zod 4.
 * Installs use the npm cache first (`--offline`; this machine's `npm ci` filled it) and fall back to the
 * registry. The pack skips scripts: vitest's globalSetup has just built dist/, and a second build here would
 * rewrite dist/ under the test files running beside this one (`prepack` builds for a real `npm pack`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const QUEUE_PEERS = ['bullmq', 'ioredis', 'rate-limiter-flexible', 'redis-semaphore'];

/** The environment without npm's own `npm_*` variables (set when the tests run under `npm test`). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, env: cleanEnv(), maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

async function install(app: string): Promise<void> {
  try {
    await npm(['install', '--offline', '--no-audit', '--no-fund'], app);
  } catch {
    await npm(['install', '--no-audit', '--no-fund'], app);
  }
}

/** A GET through the installed package; prints `{ status, body }` as JSON. */
const GET_SCRIPT = `
import { createRuntime } from 'flowpool';
const runtime = createRuntime({ workers: 1, policy: { allow: ['127.0.0.1'] } });
try {
  const res = await runtime.run({ url: process.argv[2] });
  console.log(JSON.stringify({ status: res.status, body: res.body }));
} finally {
  await runtime.close();
}
`;

/** Imports flowpool/queue and prints the message it fails with (or "loaded"). */
const QUEUE_SCRIPT = `
try {
  await import('flowpool/queue');
  console.log('loaded');
} catch (error) {
  console.log(error instanceof Error ? error.message : String(error));
}
`;

async function createApp(root: string, name: string, tarball: string, extra: Record<string, string> = {}) {
  const app = join(root, name);
  await mkdir(app);
  const manifest = { name, private: true, type: 'module', dependencies: { flowpool: `file:${tarball}`, ...extra } };
  await writeFile(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  await writeFile(join(app, 'get.mjs'), GET_SCRIPT);
  await writeFile(join(app, 'queue.mjs'), QUEUE_SCRIPT);
  await install(app);
  return app;
}

async function getThrough(app: string, url: string): Promise<{ status: number; body: string }> {
  const { stdout } = await run(process.execPath, ['get.mjs', url], { cwd: app });
  return JSON.parse(stdout) as { status: number; body: string };
}

async function versionOf(dir: string): Promise<string> {
  return (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

describe('the packed package, installed into a fresh app', () => {
  let root: string;
  let tarball: string;
  let server: CountingServer;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'flowpool-pack-'));
    const out = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', root], repo);
    const [packed] = JSON.parse(out) as [{ filename: string; files: { path: string }[] }];
    tarball = join(root, packed.filename);
    server = await startCountingServer((req, res) => res.end(`hello ${String(req.url)}`));
  }, 120_000);

  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it('runs a GET through createRuntime, without the queue packages, and says how to install them', async () => {
    const app = await createApp(root, 'plain-app', tarball);
    for (const peer of QUEUE_PEERS) expect(existsSync(join(app, 'node_modules', peer))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'flowpool', 'dist', 'src', 'index.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules', 'flowpool', 'dist', 'bench'))).toBe(false);

    const before = server.requests;
    const result = await getThrough(app, `${server.origin}/plain`);
    expect(result).toEqual({ status: 200, body: 'hello /plain' });
    expect(server.requests - before).toBe(1);

    const { stdout } = await run(process.execPath, ['queue.mjs'], { cwd: app });
    expect(stdout.trim()).toBe(
      'flowpool/queue needs bullmq, ioredis, rate-limiter-flexible, redis-semaphore, optional peer dependencies ' +
        'that are not installed: npm install bullmq ioredis rate-limiter-flexible redis-semaphore',
    );
  }, 300_000);

  it('installs and runs in an app on zod 3 (npm nests zod 4 for flowpool)', async () => {
    const app = await createApp(root, 'zod3-app', tarball, { zod: '^3.25.0' });
    expect((await versionOf(join(app, 'node_modules', 'zod'))).startsWith('3.')).toBe(true);
    expect((await versionOf(join(app, 'node_modules', 'flowpool', 'node_modules', 'zod'))).startsWith('4.')).toBe(true);

    const before = server.requests;
    const result = await getThrough(app, `${server.origin}/zod3`);
    expect(result).toEqual({ status: 200, body: 'hello /zod3' });
    expect(server.requests - before).toBe(1);
  }, 300_000);
});
