/**
 * Cookies, opt-in per job: a login's 302 Set-Cookie is sent on the hop that follows (within the origin
 * in the worker, and across origins through the main thread), a caller's jar carries cookies to later
 * jobs, and without a jar nothing leaks from one job to another.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from 'tough-cookie';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('payload: cookies', () => {
  let server: CountingServer;
  /** A second origin on the same host (another port): host cookies apply to it, as in browsers. */
  let other: CountingServer;
  let runtime: Runtime;
  /** The Cookie header of every request each server saw, by path. */
  const seen: { path: string; cookie: string | undefined }[] = [];

  const app = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ path: url.pathname, cookie: req.headers.cookie });
    const loggedIn = /(?:^|; )sid=s3cret(?:;|$)/.test(req.headers.cookie ?? '');
    switch (url.pathname) {
      case '/login':
        res.statusCode = 302;
        res.setHeader('set-cookie', ['sid=s3cret; Path=/; HttpOnly; SameSite=Lax', 'theme=dark; Path=/prefs']);
        res.setHeader('location', url.searchParams.get('next') ?? '/home');
        res.end();
        return;
      case '/home':
        res.statusCode = loggedIn ? 200 : 401;
        res.end(loggedIn ? 'welcome' : 'who are you?');
        return;
      case '/expire':
        res.setHeader('set-cookie', 'sid=gone; Path=/; Max-Age=0');
        res.end('bye');
        return;
      default:
        res.statusCode = 404;
        res.end();
    }
  };

  beforeAll(async () => {
    server = await startCountingServer(app);
    other = await startCountingServer(app);
    runtime = createRuntime({ workers: 2, policy: LOOPBACK, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await runtime.destroy();
    await Promise.all([server.close(), other.close()]);
  });

  it('login flow: the 302 Set-Cookie is sent on the next hop of the same origin (cookies: true)', async () => {
    const result = await runtime.run({ url: `${server.origin}/login`, method: 'POST', cookies: true });
    expect(result.status).toBe(200);
    expect(result.body).toBe('welcome');
    expect(seen.at(-1)).toEqual({ path: '/home', cookie: 'sid=s3cret' });
  });

  it('without cookies the same flow fails (nothing is stored by default)', async () => {
    const result = await runtime.run({ url: `${server.origin}/login`, method: 'POST' });
    expect(result.status).toBe(401);
    expect(seen.at(-1)).toEqual({ path: '/home', cookie: undefined });
  });

  it('carries the cookie across a redirect to another origin (handed back to the main thread)', async () => {
    const next = encodeURIComponent(`${other.origin}/home`);
    const before = other.requests;
    const result = await runtime.run({ url: `${server.origin}/login?next=${next}`, cookies: true });
    expect(result.status).toBe(200);
    expect(other.requests).toBe(before + 1);
    expect(result.url).toBe(`${other.origin}/home`);
  });

  it('never leaks cookies between jobs without a shared jar', async () => {
    await runtime.run({ url: `${server.origin}/login`, method: 'POST', cookies: true });
    const second = await runtime.run({ url: `${server.origin}/home`, cookies: true });
    expect(second.status).toBe(401);
    const plain = await runtime.run({ url: `${server.origin}/home` });
    expect(plain.status).toBe(401);
    expect(seen.slice(-2).map((s) => s.cookie)).toEqual([undefined, undefined]);
  });

  it("keeps cookies in the caller's jar for later jobs, honouring Path and Max-Age", async () => {
    const jar = new CookieJar();
    await runtime.run({ url: `${server.origin}/login`, method: 'POST', cookies: jar });
    expect(jar.getCookieStringSync(`${server.origin}/`)).toBe('sid=s3cret');
    expect(jar.getCookieStringSync(`${server.origin}/prefs/x`)).toContain('theme=dark');

    const later = await runtime.run({ url: `${server.origin}/home`, cookies: jar });
    expect(later.status).toBe(200);
    expect(seen.at(-1)?.cookie).toBe('sid=s3cret');

    await runtime.run({ url: `${server.origin}/expire`, cookies: jar });
    const afterExpiry = await runtime.run({ url: `${server.origin}/home`, cookies: jar });
    expect(afterExpiry.status).toBe(401);
  });

  it("merges the jar's cookies after a cookie header the job sets itself", async () => {
    const jar = new CookieJar();
    jar.setCookieSync('sid=s3cret', `${server.origin}/`);
    await runtime.run({ url: `${server.origin}/home`, headers: { cookie: 'a=1' }, cookies: jar });
    expect(seen.at(-1)?.cookie).toBe('a=1; sid=s3cret');
  });

  it('refuses a cookies value that is not a jar, naming job.cookies', async () => {
    const error = await runtime.run({ url: `${server.origin}/home`, cookies: 'sid=1' as never }).then(
      () => undefined,
      (e: unknown) => e as { code: string; details: { field?: string } },
    );
    expect(error?.code).toBe('FLOWPOOL_INVALID_JOB');
    expect(error?.details.field).toBe('job.cookies');
  });
});
