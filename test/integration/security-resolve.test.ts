/**
 * Destination policy on the address actually dialled: names go through `resolve` overrides and the
 * connector's vetoing lookup, IP literals (every spelling) are judged before dialling, loopback names and
 * metadata endpoints are refused by rule. A refused destination's server must see 0 connections.
 *
 * Every server here is on loopback; the policy allows only some loopback addresses, so the others stand
 * in for "internal" hosts an attacker would aim at.
 */
import { describe, expect, it } from 'vitest';
import { checkDestination, createRuntime, type Runtime } from '../../dist/src/index.js';
import { rejectionOf, startHostServer, startHostServersOnOnePort } from '../fixtures/host-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

/** Only 127.0.0.2 may be dialled: 127.0.0.1 (and everything else) is a blocked destination. */
const ONLY_DOT_2 = { allow: ['127.0.0.2/32'] };

describe('security: resolve overrides, IP literals and names are judged by the address dialled', () => {
  const track = closeAfterEach();

  async function totalConnectionsOpened(rt: Runtime): Promise<number> {
    const stats = await rt.stats();
    return stats.workers.reduce((sum, w) => sum + w.connectionsOpened, 0);
  }

  it('refuses a name whose resolve override points to a blocked address; that server sees 0 connections', async () => {
    const [blocked, allowed] = await startHostServersOnOnePort(['127.0.0.1', '127.0.0.2']);
    if (blocked === undefined || allowed === undefined) throw new Error('servers did not start');
    track(blocked);
    track(allowed);
    const runtime = track(
      createRuntime({
        workers: 1,
        policy: ONLY_DOT_2,
        resolve: { 'internal.test': ['127.0.0.1'], 'api.test': ['127.0.0.2'] },
      }),
    );

    const error = await rejectionOf(runtime.run({ url: `http://internal.test:${blocked.port}/secret` }));
    expect(error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    expect(error.details.reason).toMatch(/loopback/);

    // Positive control on the same runtime and port: the allowed name reaches the allowed server.
    const ok = await runtime.run({ url: `http://api.test:${allowed.port}/public` });
    expect(ok.status).toBe(200);
    expect(allowed.requests.map((r) => r.url)).toEqual(['/public']);
    expect(allowed.requests[0]?.headers.host).toBe(`api.test:${allowed.port}`);

    expect(blocked.connections).toBe(0);
    expect(await totalConnectionsOpened(runtime)).toBe(1);
  });

  it('dials only the allowed address of a name resolving to [blocked, allowed]', async () => {
    const [blocked, allowed] = await startHostServersOnOnePort(['127.0.0.1', '127.0.0.2']);
    if (blocked === undefined || allowed === undefined) throw new Error('servers did not start');
    track(blocked);
    track(allowed);
    // The blocked address comes first, so a connector that dialled the first answer would hit it.
    const runtime = track(
      createRuntime({ workers: 1, policy: ONLY_DOT_2, resolve: { 'mixed.test': ['127.0.0.1', '127.0.0.2'] } }),
    );

    for (let i = 0; i < 3; i++) {
      const result = await runtime.run({ url: `http://mixed.test:${blocked.port}/r${i}` });
      expect(result.status).toBe(200);
    }
    expect(allowed.requests.map((r) => r.url)).toEqual(['/r0', '/r1', '/r2']);
    expect(blocked.connections).toBe(0);
  });

  it.each([
    ['127.0.0.1', '::1'],
    ['::1', '127.0.0.1'],
  ])(
    'dials only the allowed family of a dual-stack name (blocked %s, allowed %s)',
    async (blockedHost, allowedHost) => {
      const [blocked, allowed] = await startHostServersOnOnePort([blockedHost, allowedHost]);
      if (blocked === undefined || allowed === undefined) throw new Error('servers did not start');
      track(blocked);
      track(allowed);
      // Node races the families (autoSelectFamily): the vetoing lookup must hand it the allowed one only.
      const runtime = track(
        createRuntime({
          workers: 1,
          policy: { allow: [allowedHost] },
          resolve: { 'dual.test': [blockedHost, allowedHost] },
        }),
      );

      for (let i = 0; i < 2; i++)
        expect((await runtime.run({ url: `http://dual.test:${blocked.port}/d${i}` })).status).toBe(200);
      expect(allowed.requests.map((r) => r.url)).toEqual(['/d0', '/d1']);
      expect(blocked.connections).toBe(0);
    },
  );

  it('refuses an IP-literal URL to a blocked loopback address before dialling', async () => {
    const [blocked, allowed] = await startHostServersOnOnePort(['127.0.0.1', '127.0.0.2']);
    if (blocked === undefined || allowed === undefined) throw new Error('servers did not start');
    track(blocked);
    track(allowed);
    const runtime = track(createRuntime({ workers: 1, policy: ONLY_DOT_2 }));

    const error = await rejectionOf(runtime.run({ url: `${blocked.origin}/` }));
    expect(error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    expect(error.details.reason).toMatch(/loopback/);

    expect((await runtime.run({ url: `${allowed.origin}/` })).status).toBe(200);
    expect(blocked.connections).toBe(0);
    expect(allowed.connections).toBe(1);
  });

  it.each([
    ['decimal', (port: number) => `http://2130706433:${port}/`],
    ['hex', (port: number) => `http://0x7f000001:${port}/`],
    ['octal', (port: number) => `http://0177.0.0.1:${port}/`],
    ['short form', (port: number) => `http://127.1:${port}/`],
    ['IPv4-mapped IPv6', (port: number) => `http://[::ffff:127.0.0.1]:${port}/`],
    ['IPv4-mapped IPv6, hex words', (port: number) => `http://[::ffff:7f00:1]:${port}/`],
  ])('judges the %s spelling of 127.0.0.1 as 127.0.0.1 (refused, 0 connections)', async (_name, url) => {
    const [blocked, allowed] = await startHostServersOnOnePort(['127.0.0.1', '127.0.0.2']);
    if (blocked === undefined || allowed === undefined) throw new Error('servers did not start');
    track(blocked);
    track(allowed);
    const runtime = track(createRuntime({ workers: 1, policy: ONLY_DOT_2 }));

    const error = await rejectionOf(runtime.run({ url: url(blocked.port) }));
    expect(error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    expect(error.details.reason).toMatch(/loopback/);

    // 2130706434 is 127.0.0.2: the decimal spelling of the allowed address is allowed, and reaches it.
    const ok = await runtime.run({ url: `http://2130706434:${allowed.port}/via-decimal` });
    expect(ok.status).toBe(200);
    expect(allowed.requests.map((r) => r.url)).toEqual(['/via-decimal']);
    expect(blocked.connections).toBe(0);
  });

  it('refuses every loopback server under the default policy (no allow entries), 0 connections each', async () => {
    const v4 = track(await startHostServer('127.0.0.1'));
    const v4b = track(await startHostServer('127.0.0.2'));
    const v6 = track(await startHostServer('::1'));
    const runtime = track(createRuntime({ workers: 2, resolve: { 'api.test': ['127.0.0.1'], 'six.test': ['::1'] } }));
    const rt = runtime;

    const urls = [
      `${v4.origin}/`,
      `${v4b.origin}/`,
      `${v6.origin}/`,
      `http://[::ffff:127.0.0.1]:${v4.port}/`,
      `http://2130706433:${v4.port}/`,
      `http://api.test:${v4.port}/`,
      `http://six.test:${v6.port}/`,
      `http://localhost:${v4.port}/`,
    ];
    const outcomes = await Promise.all(urls.map((url) => rejectionOf(rt.run({ url }))));
    for (const [i, outcome] of outcomes.entries()) {
      expect({ url: urls[i], code: outcome.code }).toEqual({ url: urls[i], code: 'FLOWPOOL_BLOCKED_DESTINATION' });
      expect(typeof outcome.details.reason).toBe('string');
    }
    expect([v4.connections, v4b.connections, v6.connections]).toEqual([0, 0, 0]);
    expect(await totalConnectionsOpened(rt)).toBe(0);
  });

  it.each(['localhost', 'LOCALHOST', 'localhost.', 'api.localhost', 'localhost.localdomain'])(
    'refuses the loopback name %s even with 127.0.0.0/8 allowed (names need their own allow entry)',
    async (name) => {
      const server = track(await startHostServer('127.0.0.1'));
      // The override keeps the test off real name resolution even if the name were let through.
      const runtime = track(
        createRuntime({ workers: 1, policy: { allow: ['127.0.0.0/8'] }, resolve: { [name]: ['127.0.0.1'] } }),
      );

      const error = await rejectionOf(runtime.run({ url: `http://${name}:${server.port}/` }));
      expect(error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
      expect(error.details.reason).toMatch(/loopback name/);

      expect((await runtime.run({ url: `${server.origin}/control` })).status).toBe(200);
      expect(server.requests.map((r) => r.url)).toEqual(['/control']);
    },
  );

  it('lets localhost through once it has its own allow entry', async () => {
    const server = track(await startHostServer('127.0.0.1'));
    const runtime = track(
      createRuntime({ workers: 1, policy: { allow: ['localhost'] }, resolve: { localhost: ['127.0.0.1'] } }),
    );

    const result = await runtime.run({ url: `http://localhost:${server.port}/named` });
    expect(result.status).toBe(200);
    expect(server.requests.map((r) => r.url)).toEqual(['/named']);
    // The name entry does not open the address to other spellings.
    const error = await rejectionOf(runtime.run({ url: `${server.origin}/literal` }));
    expect(error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    expect(server.requests).toHaveLength(1);
  });

  it('deny wins over allow for a loopback address', async () => {
    const [denied, allowed] = await startHostServersOnOnePort(['127.0.0.3', '127.0.0.2']);
    if (denied === undefined || allowed === undefined) throw new Error('servers did not start');
    track(denied);
    track(allowed);
    const runtime = track(
      createRuntime({
        workers: 1,
        policy: { allow: ['127.0.0.0/8', '*.test'], deny: ['127.0.0.3'] },
        resolve: { 'denied.test': ['127.0.0.3'], 'both.test': ['127.0.0.3', '127.0.0.2'] },
      }),
    );

    for (const url of [`${denied.origin}/`, `http://denied.test:${denied.port}/`]) {
      const error = await rejectionOf(runtime.run({ url }));
      expect(error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    }
    expect((await runtime.run({ url: `http://both.test:${denied.port}/` })).status).toBe(200);
    expect(allowed.requests).toHaveLength(1);
    expect(denied.connections).toBe(0);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', undefined],
    ['http://169.254.169.254/computeMetadata/v1/', ['169.254.0.0/16']],
    ['http://[::ffff:169.254.169.254]/latest/meta-data/', ['169.254.0.0/16', '::ffff:0:0/96']],
    ['http://2852039166/latest/meta-data/', ['169.254.0.0/16']],
    ['http://metadata.google.internal/computeMetadata/v1/', ['*.internal']],
    ['http://[fd00:ec2::254]/latest/meta-data/', ['fc00::/7']],
  ])('refuses the metadata endpoint %s by policy alone, without any network I/O (allow %j)', async (url, allow) => {
    const policy = allow === undefined ? undefined : { allow };
    // NETWORK RULE guard: these addresses are not loopback. Should the pure policy ever let one through, fail
    // here rather than let the runtime dial (or resolve) it.
    expect(checkDestination(url, policy)).toEqual({ allowed: false, reason: 'cloud metadata endpoint' });
    const runtime = track(createRuntime({ workers: 1, ...(policy === undefined ? {} : { policy }) }));

    const error = await rejectionOf(runtime.run({ url }));
    expect(error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    expect(error.details.reason).toBe('cloud metadata endpoint');
    // Refused on the caller's thread: the job never reached a worker, so nothing was dialled or resolved.
    const stats = await runtime.stats();
    expect(stats.totals.failedByCode.FLOWPOOL_BLOCKED_DESTINATION).toBe(1);
    expect(stats.workers.map((w) => [w.jobsCompleted, w.connectionsOpened])).toEqual([[0, 0]]);
  });

  // The last check of the connector: the address the socket reached. 0.0.0.0 is a destination an allow
  // list may name by mistake, and on Linux a connect to it lands on the local host (127.0.0.1), so every
  // check before the dial passes and only the socket's remote address tells. Loopback only.
  it.each([
    ['an IP literal', (port: number) => `http://0.0.0.0:${port}/admin`],
    ['a name resolved to it', (port: number) => `http://zero.test:${port}/admin`],
  ])(
    'refuses a socket that reached a blocked address though it dialled an allowed one (%s); no request reaches the server',
    async (_what, urlFor) => {
      const local = track(await startHostServer('127.0.0.1'));
      const policy = { allow: ['0.0.0.0/32'] };
      expect(checkDestination(`http://0.0.0.0:${local.port}/`, policy)).toEqual({
        allowed: true,
        reason: 'allowed by policy.allow',
      });
      expect(checkDestination(`http://127.0.0.1:${local.port}/`, policy).allowed).toBe(false);
      const runtime = track(createRuntime({ workers: 1, policy, resolve: { 'zero.test': ['0.0.0.0'] } }));

      const error = await rejectionOf(runtime.run({ url: urlFor(local.port) }));
      expect(error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
      expect(error.message).toMatch(/connected address refused: .*loopback/);
      // The dial did connect (this is the after-connect check), yet the server never saw a request.
      expect(local.connections).toBeGreaterThanOrEqual(1);
      expect(local.requests).toHaveLength(0);
    },
  );
});
