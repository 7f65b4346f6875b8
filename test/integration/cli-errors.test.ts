/**
 * The CLI speaks in its own flags (issue 22, item 3): an option a flag set is named by that flag
 * (`--cacert`, not `tls.ca`), one a --config file set by its key and the file; a job field of `fetch` by the
 * flag that built it; `blocked:` says how to allow the destination; `-d` sends form data's content-type
 * unless -H gives one, as curl. Spawned for real against a loopback server that counts what it saw.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../fixtures/cli.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

let server: CountingServer;
let dir: string;
const contentTypes: (string | undefined)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowpool-cli-errors-'));
  server = await startCountingServer((req, res) => {
    contentTypes.push(req.headers['content-type']);
    req.resume();
    req.on('end', () => res.end('ok'));
  });
});

beforeEach(() => {
  server.reset();
  contentTypes.length = 0;
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const ALLOW = ['--allow', '127.0.0.0/8'];

describe('CLI errors name the flags', () => {
  it('an empty --cacert file is named --cacert, never tls.ca; nothing is sent', async () => {
    const empty = join(dir, 'empty.pem');
    await writeFile(empty, '');
    const { code, stderr } = await cli(['fetch', `${server.origin}/`, ...ALLOW, '--cacert', empty]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^flowpool: invalid options: --cacert: /);
    expect(stderr).not.toContain('tls.ca');
    expect(server.requests).toBe(0);
  });

  it('the same value from --config is named by its key and the file', async () => {
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ tls: { ca: '' }, workers: 1 }));
    const { code, stderr } = await cli(['fetch', `${server.origin}/`, ...ALLOW, '--config', config]);
    expect(code).toBe(2);
    expect(stderr).toContain(`tls.ca (in --config ${config}): `);
    expect(stderr).not.toContain('--cacert');
  });

  it('a typo in --config gets a "did you mean"', async () => {
    const config = join(dir, 'typo.json');
    await writeFile(config, JSON.stringify({ wrokers: 1 }));
    const { code, stderr } = await cli(['fetch', `${server.origin}/`, ...ALLOW, '--config', config]);
    expect(code).toBe(2);
    expect(stderr).toContain('options.wrokers: unknown key "wrokers" (did you mean "workers"?)');
    expect(stderr).toContain(`(in --config ${config})`);
  });

  it('a job field is named by the flag that set it: -X, -H', async () => {
    const method = await cli(['fetch', `${server.origin}/`, ...ALLOW, '-X', 'NOT A METHOD']);
    expect(method.code).toBe(2);
    expect(method.stderr).toContain('invalid job: -X/--request: expected an HTTP method token');
    const header = await cli(['fetch', `${server.origin}/`, ...ALLOW, '-H', 'host: elsewhere.example']);
    expect(header.code).toBe(2);
    expect(header.stderr).toContain("-H 'host: ...': expected a header flowpool does not set itself");
    expect(header.stderr).not.toContain('job.');
    expect(server.requests).toBe(0);
  });

  it('blocked: says nothing was sent and how to allow it with --allow', async () => {
    const { code, stderr } = await cli(['fetch', `${server.origin}/`]);
    expect(code).toBe(3);
    expect(stderr).toMatch(/^blocked: /);
    expect(stderr).toContain('allow it with --allow <host|ip|cidr>');
    expect(server.connections).toBe(0);
  });
});

describe('-d content-type, as curl', () => {
  it('sends application/x-www-form-urlencoded with -d, for a string and for @file', async () => {
    const file = join(dir, 'form.txt');
    await writeFile(file, 'a=1&b=2');
    const inline = await cli(['fetch', `${server.origin}/`, ...ALLOW, '-d', 'a=1']);
    const fromFile = await cli(['fetch', `${server.origin}/`, ...ALLOW, '-d', `@${file}`]);
    expect([inline.code, fromFile.code]).toEqual([0, 0]);
    expect(server.requests).toBe(2);
    expect(contentTypes).toEqual(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded']);
  });

  it('keeps the content-type -H gives (any case), and sends none without -d', async () => {
    const json = await cli([
      'fetch',
      `${server.origin}/`,
      ...ALLOW,
      '-d',
      '{}',
      '-H',
      'Content-Type: application/json',
    ]);
    const plain = await cli(['fetch', `${server.origin}/`, ...ALLOW]);
    expect([json.code, plain.code]).toEqual([0, 0]);
    expect(server.requests).toBe(2);
    expect(contentTypes).toEqual(['application/json', undefined]);
  });
});
