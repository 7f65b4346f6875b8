/**
 * Redirects: every hop is judged by the same policy (a hop to a blocked address never connects), only http
 * and https are followed, credentials stay on their origin, chains are bounded by maxRedirects, methods and
 * bodies change the way browsers change them, and the result reports the hops.
 */
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkDestination, createRuntime } from '../../dist/src/index.js';
import { rejectionOf, startHostServer, type HostHandler } from '../fixtures/host-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const ONLY_DOT_2 = { allow: ['127.0.0.2/32'] };

function redirect(res: ServerResponse, status: number, location: string): void {
  res.writeHead(status, { location, 'content-type': 'text/plain' });
  res.end(`see ${location}`);
}

/** Redirects every request to `location(url)` with `status`, unless it returns undefined (then echoes). */
function redirecting(status: number, location: (url: string) => string | undefined): HostHandler {
  return (_req, res, seen) => {
    const target = location(seen.url);
    if (target !== undefined) {
      redirect(res, status, target);
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: seen.method, url: seen.url, bodyLength: seen.body.length }));
  };
}

describe('security: redirects', () => {
  const track = closeAfterEach();

  it.each([
    ['an IP literal', (port: number) => `http://127.0.0.1:${port}/internal`],
    ['a decimal IP', (port: number) => `http://2130706433:${port}/internal`],
    ['an IPv4-mapped IPv6 literal', (port: number) => `http://[::ffff:127.0.0.1]:${port}/internal`],
    ['localhost', (port: number) => `http://localhost:${port}/internal`],
    ['a name resolving to it', (port: number) => `http://internal.test:${port}/internal`],
    ['a protocol-relative location', (port: number) => `//127.0.0.1:${port}/internal`],
  ])(
    'refuses a hop from an allowed server to a blocked address given as %s; the target sees 0 connections',
    async (_name, location) => {
      const target = track(await startHostServer('127.0.0.1'));
      const start = track(
        await startHostServer(
          '127.0.0.2',
          redirecting(302, () => location(target.port)),
        ),
      );
      const runtime = track(
        createRuntime({ workers: 1, policy: ONLY_DOT_2, resolve: { 'internal.test': ['127.0.0.1'] } }),
      );

      const error = await rejectionOf(runtime.run({ url: `${start.origin}/start` }));
      expect(error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
      expect(error.details.reason).toMatch(/loopback/);
      expect(start.requests.map((r) => r.url)).toEqual(['/start']);
      // The worker is still healthy and the start server still reachable.
      expect((await runtime.run({ url: `${start.origin}/start`, followRedirects: false })).status).toBe(302);
      expect(target.connections).toBe(0);
    },
  );

  it.each([
    ['file:///etc/passwd', /scheme "file:"/],
    ['ftp://127.0.0.2:21/pub/', /scheme "ftp:"/],
    ['gopher://127.0.0.2:70/_SLAVEOF', /scheme "gopher:"/],
    ['data:text/plain,hello', /scheme "data:"/],
    ['javascript:alert(1)', /scheme "javascript:"/],
  ])('refuses a redirect to the non-http scheme %s', async (location, reason) => {
    const start = track(
      await startHostServer(
        '127.0.0.2',
        redirecting(302, () => location),
      ),
    );
    const runtime = track(createRuntime({ workers: 1, policy: ONLY_DOT_2 }));

    const error = await rejectionOf(runtime.run({ url: `${start.origin}/` }));
    expect(error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    expect(error.details.reason).toMatch(reason);
  });

  it('refuses a redirect carrying credentials in the URL, without echoing them', async () => {
    const other = track(await startHostServer('127.0.0.2'));
    const start = track(
      await startHostServer(
        '127.0.0.2',
        redirecting(302, () => `http://admin:hunter2@127.0.0.2:${other.port}/`),
      ),
    );
    const runtime = track(createRuntime({ workers: 1, policy: ONLY_DOT_2 }));

    const error = await rejectionOf(runtime.run({ url: `${start.origin}/` }));
    expect(error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    expect(error.details.reason).toMatch(/credentials/);
    expect(`${error.message} ${JSON.stringify(error.details)}`).not.toMatch(/hunter2|admin/);
    expect(other.connections).toBe(0);
  });

  it('drops Authorization, Cookie and Proxy-Authorization on a cross-origin hop, keeps other headers', async () => {
    const second = track(await startHostServer('127.0.0.3'));
    const first = track(
      await startHostServer(
        '127.0.0.2',
        redirecting(302, () => `${second.origin}/landing`),
      ),
    );
    const runtime = track(createRuntime({ workers: 1, policy: { allow: ['127.0.0.2', '127.0.0.3'] } }));

    const result = await runtime.run({
      url: `${first.origin}/start`,
      headers: {
        Authorization: 'Bearer secret-token',
        Cookie: 'session=abc',
        'Proxy-Authorization': 'Basic cHJveHk6cGFzcw==',
        'X-Custom': 'kept',
      },
    });
    expect(result.status).toBe(200);
    const sent = first.requests[0]?.headers;
    expect(sent?.authorization).toBe('Bearer secret-token');
    expect(sent?.cookie).toBe('session=abc');
    expect(sent?.['proxy-authorization']).toBe('Basic cHJveHk6cGFzcw==');

    expect(second.requests).toHaveLength(1);
    const landed = second.requests[0]?.headers ?? {};
    expect(landed.authorization).toBeUndefined();
    expect(landed.cookie).toBeUndefined();
    expect(landed['proxy-authorization']).toBeUndefined();
    expect(landed['x-custom']).toBe('kept');
    expect(landed.host).toBe(`127.0.0.3:${second.port}`);
  });

  it('treats another port on the same address as another origin (credentials dropped), and never restores them', async () => {
    const back = track(await startHostServer('127.0.0.2'));
    const other = track(
      await startHostServer(
        '127.0.0.2',
        redirecting(307, () => `${back.origin}/back`),
      ),
    );
    const start = track(
      await startHostServer(
        '127.0.0.2',
        redirecting(307, () => `${other.origin}/other`),
      ),
    );
    const runtime = track(createRuntime({ workers: 1, policy: ONLY_DOT_2 }));

    const result = await runtime.run({
      url: `${start.origin}/`,
      headers: { authorization: 'Bearer t', 'x-custom': 'kept' },
    });
    expect(result.status).toBe(200);
    expect(other.requests[0]?.headers.authorization).toBeUndefined();
    expect(back.requests[0]?.headers.authorization).toBeUndefined();
    expect(back.requests[0]?.headers['x-custom']).toBe('kept');
  });

  it('keeps Authorization on a same-origin redirect', async () => {
    const server = track(
      await startHostServer(
        '127.0.0.2',
        redirecting(302, (url) => (url === '/start' ? '/landing' : undefined)),
      ),
    );
    const runtime = track(createRuntime({ workers: 1, policy: ONLY_DOT_2 }));

    const result = await runtime.run({
      url: `${server.origin}/start`,
      headers: { authorization: 'Bearer same-origin', cookie: 'a=1' },
    });
    expect(result.status).toBe(200);
    expect(server.requests.map((r) => [r.url, r.headers.authorization, r.headers.cookie])).toEqual([
      ['/start', 'Bearer same-origin', 'a=1'],
      ['/landing', 'Bearer same-origin', 'a=1'],
    ]);
  });

  describe('a 20-hop loop', () => {
    const loop: HostHandler = (_req, res, seen) => {
      const n = Number(/^\/loop\/(\d+)$/.exec(seen.url)?.[1] ?? '0');
      if (n < 20) {
        redirect(res, 302, `/loop/${n + 1}`);
        return;
      }
      res.end('end of the chain');
    };

    it('ends with FLOWPOOL_TOO_MANY_REDIRECTS after the default 5 redirects (6 requests)', async () => {
      const server = track(await startHostServer('127.0.0.2', loop));
      const runtime = track(createRuntime({ workers: 1, policy: ONLY_DOT_2 }));

      const error = await rejectionOf(runtime.run({ url: `${server.origin}/loop/0` }));
      expect(error.code).toBe('FLOWPOOL_TOO_MANY_REDIRECTS');
      expect(server.requests.map((r) => r.url)).toEqual([
        '/loop/0',
        '/loop/1',
        '/loop/2',
        '/loop/3',
        '/loop/4',
        '/loop/5',
      ]);
    });

    it('honours a per-job maxRedirects: 2 (3 requests), while the next job still gets the default', async () => {
      const server = track(await startHostServer('127.0.0.2', loop));
      const runtime = track(createRuntime({ workers: 1, policy: ONLY_DOT_2 }));

      const error = await rejectionOf(runtime.run({ url: `${server.origin}/loop/0`, maxRedirects: 2 }));
      expect(error.code).toBe('FLOWPOOL_TOO_MANY_REDIRECTS');
      expect(server.requests).toHaveLength(3);

      // Exactly 5 hops (15 -> 20) fit in the default limit.
      const result = await runtime.run({ url: `${server.origin}/loop/15` });
      expect(result.status).toBe(200);
      expect(result.body).toBe('end of the chain');
      expect(result.redirects).toHaveLength(5);
      expect(server.requests).toHaveLength(3 + 6);
    });

    it('follows a longer chain when the runtime raises maxRedirects to 20', async () => {
      const server = track(await startHostServer('127.0.0.2', loop));
      const runtime = track(createRuntime({ workers: 1, policy: ONLY_DOT_2, maxRedirects: 20 }));

      const result = await runtime.run({ url: `${server.origin}/loop/0` });
      expect(result.status).toBe(200);
      expect(result.redirects).toHaveLength(20);
      expect(server.requests).toHaveLength(21);
    });

    it('ends a redirect-to-itself loop too', async () => {
      const server = track(await startHostServer('127.0.0.2', (_req, res) => redirect(res, 301, '/same')));
      const runtime = track(createRuntime({ workers: 1, policy: ONLY_DOT_2 }));

      const error = await rejectionOf(runtime.run({ url: `${server.origin}/same` }));
      expect(error.code).toBe('FLOWPOOL_TOO_MANY_REDIRECTS');
      expect(server.requests).toHaveLength(6);
    });
  });

  it.each([
    [303, 'POST', 'GET'],
    [301, 'POST', 'GET'],
    [302, 'POST', 'GET'],
    [303, 'PUT', 'GET'],
  ])('turns a %i after %s into %s without a body', async (status, method, expected) => {
    const server = track(
      await startHostServer(
        '127.0.0.2',
        redirecting(status, (url) => (url === '/form' ? '/result' : undefined)),
      ),
    );
    const runtime = track(createRuntime({ workers: 1, policy: ONLY_DOT_2 }));

    const result = await runtime.run({
      url: `${server.origin}/form`,
      method,
      json: { name: 'x'.repeat(100) },
      responseType: 'json',
    });
    expect(result.status).toBe(200);
    const [first, second] = server.requests;
    expect([first?.method, first?.body.length, first?.headers['content-type']]).toEqual([
      method,
      111,
      'application/json',
    ]);
    expect(second?.method).toBe(expected);
    expect(second?.body.length).toBe(0);
    expect(second?.headers['content-type']).toBeUndefined();
    expect(second?.headers['content-length'] ?? '0').toBe('0');
    expect(second?.headers['transfer-encoding']).toBeUndefined();
    expect(result.body).toEqual({ method: expected, url: '/result', bodyLength: 0 });
  });

  it.each([307, 308])('keeps POST and its body on a %i', async (status) => {
    const server = track(
      await startHostServer(
        '127.0.0.2',
        redirecting(status, (url) => (url === '/upload' ? '/stored' : undefined)),
      ),
    );
    const runtime = track(createRuntime({ workers: 1, policy: ONLY_DOT_2 }));

    const result = await runtime.run({
      url: `${server.origin}/upload`,
      method: 'POST',
      body: 'payload-123',
      headers: { 'content-type': 'text/plain' },
    });
    expect(result.status).toBe(200);
    expect(server.requests.map((r) => [r.url, r.method, r.body.toString(), r.headers['content-type']])).toEqual([
      ['/upload', 'POST', 'payload-123', 'text/plain'],
      ['/stored', 'POST', 'payload-123', 'text/plain'],
    ]);
  });

  it('lists every hop in `redirects` and reports the final `url`', async () => {
    const last = track(await startHostServer('127.0.0.3'));
    const first = await startHostServer('127.0.0.2', (_req, res, seen) => {
      if (seen.url === '/a') {
        redirect(res, 301, '/b?x=1');
        return;
      }
      if (seen.url === '/b?x=1') {
        redirect(res, 302, `${last.origin}/c?y=2`);
        return;
      }
      res.end();
    });
    track(first);
    const runtime = track(createRuntime({ workers: 1, policy: { allow: ['127.0.0.2', '127.0.0.3'] } }));

    const result = await runtime.run({ url: `${first.origin}/a`, responseType: 'json' });
    expect(result.status).toBe(200);
    expect(result.redirects).toEqual([`${first.origin}/b?x=1`, `${last.origin}/c?y=2`]);
    expect(result.url).toBe(`${last.origin}/c?y=2`);
    expect(result.body).toEqual({ method: 'GET', url: '/c?y=2', bodyLength: 0 });

    const direct = await runtime.run({ url: `${last.origin}/direct` });
    expect(direct.redirects).toEqual([]);
    expect(direct.url).toBe(`${last.origin}/direct`);
  });

  it('returns the 3xx itself with followRedirects: false, and never touches the target', async () => {
    const target = track(await startHostServer('127.0.0.1'));
    const start = track(
      await startHostServer(
        '127.0.0.2',
        redirecting(302, () => `${target.origin}/internal`),
      ),
    );
    const runtime = track(createRuntime({ workers: 1, policy: ONLY_DOT_2 }));

    const result = await runtime.run({ url: `${start.origin}/start`, followRedirects: false });
    expect(result.status).toBe(302);
    expect(result.headers.location).toBe(`${target.origin}/internal`);
    expect(result.body).toBe(`see ${target.origin}/internal`);
    expect(result.redirects).toEqual([]);
    expect(result.url).toBe(`${start.origin}/start`);
    expect(target.connections).toBe(0);
    // The engine can check the Location itself before following it by hand.
    expect(checkDestination(String(result.headers.location), ONLY_DOT_2).allowed).toBe(false);
  });
});
