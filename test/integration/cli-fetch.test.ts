/**
 * `flowpool fetch`, spawned for real: the default policy blocks loopback (exit 3, `blocked: <reason>`,
 * nothing reaches the server); with --allow it prints the body, with -i the status line and headers
 * first; -f turns a status >= 400 into exit 1; usage errors exit 2.
 */
import { cli } from '../fixtures/cli.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

let server: CountingServer;

beforeAll(async () => {
  server = await startCountingServer((req, res) => {
    if (req.url === '/missing') {
      res.statusCode = 404;
      res.end('no such thing');
      return;
    }
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/' });
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res.setHeader('x-served-by', 'counting-server');
      res.setHeader('content-type', 'text/plain');
      res.end(
        `${req.method} ${req.url} x-tenant=${String(req.headers['x-tenant'])} body=${Buffer.concat(chunks).toString()}`,
      );
    });
  });
});

beforeEach(() => server.reset());

afterAll(async () => {
  await server.close();
});

const ALLOW = ['--allow', '127.0.0.0/8'];

describe('flowpool fetch', () => {
  it('refuses a loopback destination by default: exit 3, "blocked: <reason>", no connection made', async () => {
    const { code, stdout, stderr } = await cli(['fetch', `${server.origin}/`]);
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^blocked: .*loopback/);
    expect(server.connections).toBe(0);
  });

  it('refuses a name that is loopback too (localhost)', async () => {
    const { code, stderr } = await cli(['fetch', `http://localhost:${server.port}/`]);
    expect(code).toBe(3);
    expect(stderr).toMatch(/^blocked: /);
    expect(server.connections).toBe(0);
  });

  it('prints the body when the destination is allowed', async () => {
    const { code, stdout, stderr } = await cli(['fetch', `${server.origin}/hello`, ...ALLOW]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe('GET /hello x-tenant=undefined body=');
    expect(server.requests).toBe(1);
  });

  it('prints the status line and headers first with -i; sends -X, -H and -d', async () => {
    const { code, stdout } = await cli([
      'fetch',
      `${server.origin}/items`,
      ...ALLOW,
      '-i',
      '-X',
      'PUT',
      '-H',
      'x-tenant: t-42',
      '-d',
      'payload',
    ]);
    expect(code).toBe(0);
    const [head, body] = stdout.split('\r\n\r\n');
    const lines = (head ?? '').split('\r\n');
    expect(lines[0]).toBe('HTTP/1.1 200 OK');
    expect(lines).toContain('x-served-by: counting-server');
    expect(lines).toContain('content-type: text/plain');
    expect(body).toBe('PUT /items x-tenant=t-42 body=payload');
  });

  it('makes -d a POST unless -X says otherwise', async () => {
    const { stdout } = await cli(['fetch', `${server.origin}/`, ...ALLOW, '-d', 'x=1']);
    expect(stdout).toBe('POST / x-tenant=undefined body=x=1');
  });

  it('exits 0 on a 404 like curl, and 1 with -f (no body printed)', async () => {
    const plain = await cli(['fetch', `${server.origin}/missing`, ...ALLOW]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe('no such thing');
    const failing = await cli(['fetch', `${server.origin}/missing`, ...ALLOW, '-f']);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toBe('');
    expect(failing.stderr).toContain('HTTP 404 Not Found');
  });

  it('follows redirects unless --no-follow', async () => {
    const followed = await cli(['fetch', `${server.origin}/moved`, ...ALLOW]);
    expect(followed.stdout).toBe('GET / x-tenant=undefined body=');
    const kept = await cli(['fetch', `${server.origin}/moved`, ...ALLOW, '-i', '--no-follow']);
    expect(kept.stdout.split('\r\n')[0]).toBe('HTTP/1.1 302 Found');
  });

  it('exits 1 with the error code when the connection fails', async () => {
    const { code, stderr } = await cli(['fetch', 'http://127.0.0.1:1/', ...ALLOW]);
    expect(code).toBe(1);
    expect(stderr).toContain('FLOWPOOL_CONNECTION_FAILED');
  });

  it.each([
    [['fetch', 'ftp://example.com/'], 'invalid job: <url>: expected an http: or https: URL'],
    [['fetch', 'http://127.0.0.1/', '-H', 'no-colon'], '-H "no-colon": expected \'name: value\''],
    [
      ['fetch', 'http://127.0.0.1/', '--workers', 'many'],
      'invalid options: --workers: expected number, received "many"',
    ],
    [['fetch', 'http://127.0.0.1/', '--connections-per-host', '0'], '--connections-per-host: '],
    [
      ['fetch', 'http://127.0.0.1/', '--config', '/definitely/not/here.json'],
      '--config /definitely/not/here.json: cannot read it',
    ],
    [['fetch'], "missing required argument 'url'"],
  ])('exits 2 for bad usage: %j', async (args, message) => {
    const { code, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it('prints help with exit 0', async () => {
    const { code, stdout } = await cli(['fetch', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--allow <entry>');
    expect(stdout).toContain('3  blocked destination');
  });
});
