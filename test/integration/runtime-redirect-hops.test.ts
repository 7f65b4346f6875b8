/**
 * Redirects to another origin go back through the coordinator: the target origin's global connection
 * cap and per-host limits hold for hops as they do for jobs that name it, the redirect budget and the
 * deadline run across hand-backs, and the result lists every hop. Redirects within an origin stay in
 * the worker. Loopback servers only; the assertions are on what the servers saw.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { closeAll, rejectionOf, startHostServer, type HostServer } from '../fixtures/host-server.js';
import { startScriptedServer, type ScriptedServer } from '../fixtures/traffic-server.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'content-type': 'text/plain' });
  res.end(`see ${location}`);
}

/** A server on `host` that redirects every request to `target(path)`. */
function redirector(host: string, target: (path: string) => string): Promise<HostServer> {
  return startHostServer(host, (_req, res, seen) => redirect(res, target(seen.url)));
}

describe('runtime: redirect hops to another origin', () => {
  let servers: HostServer[] = [];
  let target: ScriptedServer | undefined;
  let runtime: Runtime | undefined;
  const dispatches: { origin: string }[] = [];
  const onStart = (message: unknown): void => {
    dispatches.push(message as { origin: string });
  };

  afterEach(async () => {
    unsubscribe('flowpool:job:start', onStart);
    dispatches.length = 0;
    await runtime?.destroy();
    await closeAll(servers);
    await target?.close();
    runtime = undefined;
    servers = [];
    target = undefined;
  });

  it("hold the target's connectionsPerHost across workers: two sources on two home workers, one target", async () => {
    target = await startScriptedServer(() => ({ status: 200, delayMs: 20 }));
    const to = target.origin;
    // Two source origins get two home workers, so hops followed in place would dial the target from both.
    servers = await Promise.all(['127.0.0.2', '127.0.0.3'].map((host) => redirector(host, (path) => `${to}/target${path}`)));
    runtime = createRuntime({ workers: 2, connectionsPerHost: 2, policy: LOOPBACK });
    const rt = runtime;
    subscribe('flowpool:job:start', onStart);

    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => rt.run({ url: `${servers[i % 2]?.origin ?? ''}/job/${i}` })),
    );
    for (const [i, result] of results.entries()) {
      expect(result.status).toBe(200);
      expect(result.url).toBe(`${to}/target/job/${i}`);
      expect(result.redirects).toEqual([`${to}/target/job/${i}`]);
    }
    expect(target.requests).toBe(40);
    // Counted by the target itself: never more than the cap open at once, though 40 hops came from
    // two workers (followed in place, each worker's pool would have held 2).
    expect(target.counting.peakOpen).toBeLessThanOrEqual(2);
    expect(target.counting.peakActive).toBe(2);
    // Each job was dispatched twice: to its source, then its hop to the target.
    expect(dispatches.filter((d) => d.origin === to)).toHaveLength(40);
    expect(dispatches).toHaveLength(80);
  });

  it("apply the target's hostLimits to hops: concurrency 1 holds for 10 jobs redirected there", async () => {
    target = await startScriptedServer(() => ({ status: 200, delayMs: 20 }));
    const to = target.origin;
    servers = [await redirector('127.0.0.2', (path) => `${to}${path}`)];
    runtime = createRuntime({ workers: 2, policy: LOOPBACK, hostLimits: { '127.0.0.1': { concurrency: 1 } } });
    const rt = runtime;
    const source = servers[0]?.origin ?? '';

    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => rt.run({ url: `${source}/r/${i}` })));
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 200));
    expect(target.requests).toBe(10);
    expect(target.counting.peakActive).toBe(1);
  });

  it('count the redirect budget and list every hop across hand-backs (A -> B -> C -> B)', async () => {
    target = await startScriptedServer((_n, req) =>
      req.url === '/first' ? { status: 302, headers: { location: `${servers[1]?.origin ?? ''}/second` } } : { status: 200 },
    );
    const b = target.origin;
    servers = [await redirector('127.0.0.2', () => `${b}/first`), await redirector('127.0.0.3', () => `${b}/last`)];
    runtime = createRuntime({ workers: 2, policy: LOOPBACK });
    const start = `${servers[0]?.origin ?? ''}/start`;
    const hops = [`${b}/first`, `${servers[1]?.origin ?? ''}/second`, `${b}/last`];

    const result = await runtime.run({ url: start, maxRedirects: 3 });
    expect(result.status).toBe(200);
    expect(result.redirects).toEqual(hops);
    expect(result.url).toBe(hops[2]);

    const error = await rejectionOf(runtime.run({ url: start, maxRedirects: 2 }));
    expect(error.code).toBe('FLOWPOOL_TOO_MANY_REDIRECTS');
    // The refused third hop was never requested: /last was asked for once, by the first job.
    expect(target.arrivals.filter((a) => a.path === '/last')).toHaveLength(1);
  });

  it('follow a redirect within the origin in the worker (one dispatch), and keep the deadline across a hand-back', async () => {
    target = await startScriptedServer((_n, req) => (req.url === '/stall' ? { status: 200, delayMs: 5_000 } : { status: 200 }));
    const to = target.origin;
    servers = [
      await startHostServer('127.0.0.2', (_req, res, seen) => redirect(res, seen.url === '/here' ? '/there' : seen.url === '/there' ? `${to}/ok` : `${to}/stall`)),
    ];
    runtime = createRuntime({ workers: 1, policy: LOOPBACK });
    const source = servers[0]?.origin ?? '';
    subscribe('flowpool:job:start', onStart);

    const within = await runtime.run({ url: `${source}/here` });
    expect(within.redirects).toEqual([`${source}/there`, `${to}/ok`]);
    // /here -> /there stayed in the worker; only the hop to the other origin was dispatched again.
    expect(dispatches.map((d) => d.origin)).toEqual([source, to]);

    const error = await rejectionOf(runtime.run({ url: `${source}/slow`, timeoutMs: 400 }));
    expect(error.code).toBe('FLOWPOOL_TIMEOUT');
    expect(target.arrivals.filter((a) => a.path === '/stall')).toHaveLength(1);
    // The runtime serves on.
    expect((await runtime.run({ url: `${to}/ok` })).status).toBe(200);
  });
});
