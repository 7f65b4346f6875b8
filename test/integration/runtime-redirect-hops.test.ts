/**
 * Redirects to another origin go back through the coordinator: the target origin's global connection
 * cap and per-host limits hold for hops as they do for jobs that name it, the redirect budget and the
 * deadline run across hand-backs, and the result lists every hop. Redirects within an origin stay in
 * the worker. Loopback servers only; the assertions are on what the servers saw.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Worker } from 'node:worker_threads';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { workersReady } from '../fixtures/bounded.js';
import { rejectionOf, startHostServer, type HostServer } from '../fixtures/host-server.js';
import { startScriptedServer } from '../fixtures/traffic-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

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
  const track = closeAfterEach();
  const dispatches: { origin: string; redirects: number; attempt: number }[] = [];
  const onStart = (message: unknown): void => {
    dispatches.push(message as { origin: string; redirects: number; attempt: number });
  };

  afterEach(() => {
    unsubscribe('flowpool:job:start', onStart);
    dispatches.length = 0;
  });

  it("hold the target's connectionsPerHost across workers: two sources on two home workers, one target", async () => {
    const target = track(await startScriptedServer(() => ({ status: 200, delayMs: 20 })));
    const to = target.origin;
    // Two source origins get two home workers, so hops followed in place would dial the target from both.
    const sources = (
      await Promise.all(['127.0.0.2', '127.0.0.3'].map((host) => redirector(host, (path) => `${to}/target${path}`)))
    ).map(track);
    const runtime = track(createRuntime({ workers: 2, connectionsPerHost: 2, policy: LOOPBACK }));
    subscribe('flowpool:job:start', onStart);

    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => runtime.run({ url: `${sources[i % 2]?.origin ?? ''}/job/${i}` })),
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
    const target = track(await startScriptedServer(() => ({ status: 200, delayMs: 20 })));
    const to = target.origin;
    const source = track(await redirector('127.0.0.2', (path) => `${to}${path}`)).origin;
    const runtime = track(
      createRuntime({ workers: 2, policy: LOOPBACK, hostLimits: { '127.0.0.1': { concurrency: 1 } } }),
    );

    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => runtime.run({ url: `${source}/r/${i}` })));
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 200));
    expect(target.requests).toBe(10);
    expect(target.counting.peakActive).toBe(1);
  });

  it('count the redirect budget and list every hop across hand-backs (A -> B -> C -> B)', async () => {
    let c = '';
    const target = track(
      await startScriptedServer((_n, req) =>
        req.url === '/first' ? { status: 302, headers: { location: `${c}/second` } } : { status: 200 },
      ),
    );
    const b = target.origin;
    const start = `${track(await redirector('127.0.0.2', () => `${b}/first`)).origin}/start`;
    c = track(await redirector('127.0.0.3', () => `${b}/last`)).origin;
    const runtime = track(createRuntime({ workers: 2, policy: LOOPBACK }));
    const hops = [`${b}/first`, `${c}/second`, `${b}/last`];

    const result = await runtime.run({ url: start, maxRedirects: 3 });
    expect(result.status).toBe(200);
    expect(result.redirects).toEqual(hops);
    expect(result.url).toBe(hops[2]);

    const error = await rejectionOf(runtime.run({ url: start, maxRedirects: 2 }));
    expect(error.code).toBe('FLOWPOOL_TOO_MANY_REDIRECTS');
    expect(error.message).toBe('more than 2 redirects');
    // The refused third hop was never requested: /last was asked for once, by the first job.
    expect(target.arrivals.filter((a) => a.path === '/last')).toHaveLength(1);
  });

  it('follow a redirect within the origin in the worker: one dispatch, then one for the hop to another origin', async () => {
    const target = track(await startScriptedServer(() => ({ status: 200 })));
    const to = target.origin;
    const source = track(
      await startHostServer('127.0.0.2', (_req, res, seen) =>
        redirect(res, seen.url === '/here' ? '/there' : `${to}/ok`),
      ),
    ).origin;
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    subscribe('flowpool:job:start', onStart);

    const result = await runtime.run({ url: `${source}/here` });
    expect(result.redirects).toEqual([`${source}/there`, `${to}/ok`]);
    // /here -> /there stayed in the worker; only the hop to the other origin was dispatched again.
    expect(dispatches).toEqual([
      expect.objectContaining({ origin: source, redirects: 0, attempt: 1 }),
      expect.objectContaining({ origin: to, redirects: 2, attempt: 1 }),
    ]);
  });

  it("keep the job's deadline across a hand-back: a hop that would fit a fresh deadline still times out", async () => {
    // The source redirects after 1200 ms, the target answers 1200 ms later: 2400 ms in all against a
    // deadline of 2000. A hop given a fresh deadline would succeed; the job's own fails, whatever the load
    // (delays only push the answer later). The runtime is ready first, so a worker booting under load
    // does not eat the 800 ms the hop has to reach the target.
    const target = track(await startScriptedServer(() => ({ status: 200, delayMs: 1200 })));
    const to = target.origin;
    const source = track(
      await startHostServer('127.0.0.2', (_req, res) => setTimeout(() => redirect(res, `${to}/late`), 1200)),
    ).origin;
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    await runtime.ready();

    const error = await rejectionOf(runtime.run({ url: `${source}/slow`, timeoutMs: 2000 }));
    expect(error.code).toBe('FLOWPOOL_TIMEOUT');
    // The caller's figure, not the hop's share of it.
    expect(error.message).toContain('timeoutMs (2000 ms) elapsed');
    expect(target.arrivals.map((a) => a.path)).toEqual(['/late']);
    expect((await runtime.run({ url: `${to}/ok` })).status).toBe(200);
  });

  describe('when this thread reads the redirect late', () => {
    // The source must answer while this thread is busy, so it runs in a thread of its own.
    let source: Worker | undefined;
    afterEach(async () => {
      await source?.terminate();
      source = undefined;
    });

    async function startSourceThread(location: string): Promise<string> {
      source = new Worker(
        `const { parentPort, workerData } = require('node:worker_threads');
         const server = require('node:http').createServer((req, res) => { res.writeHead(302, { location: workerData.location }); res.end(); });
         server.listen(0, '127.0.0.2', () => parentPort.postMessage(server.address().port));`,
        { eval: true, workerData: { location } },
      );
      const port = await new Promise<number>((resolve) => source?.once('message', resolve));
      return `http://127.0.0.2:${port}`;
    }

    /** Keeps this thread busy: the worker's answer waits in the port meanwhile. */
    function busyFor(ms: number): void {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        // spin
      }
    }

    async function dispatched(): Promise<void> {
      // The job leaves on a microtask flush; one turn later it is on its way to the worker.
      await new Promise((resolve) => setImmediate(resolve));
    }

    /** A target server, a source (in its thread) redirecting to it, and a runtime whose worker is up. */
    async function redirectToTarget(): Promise<{ target: HostServer; source: string; rt: Runtime }> {
      const target = track(await startHostServer('127.0.0.3'));
      const source = await startSourceThread(`${target.origin}/late`);
      const rt = track(createRuntime({ workers: 1, policy: LOOPBACK }));
      await workersReady(rt);
      return { target, source, rt };
    }

    it('fails the job as timed out past its deadline and never sends the hop', async () => {
      const { target: b, source: origin, rt } = await redirectToTarget();

      const job = rejectionOf(rt.run({ url: `${origin}/start`, timeoutMs: 400 }));
      await dispatched();
      busyFor(800);
      const error = await job;
      expect(error.code).toBe('FLOWPOOL_TIMEOUT');
      expect(error.message).toBe(`timeoutMs (400 ms) elapsed before the redirect to ${b.origin} was sent`);
      expect(b.connections).toBe(0);
      expect((await rt.run({ url: `${b.origin}/ok` })).status).toBe(200);
    });

    it('drops the hop of a job aborted meanwhile: the caller gets FLOWPOOL_ABORTED, the target nothing', async () => {
      const { target: b, source: origin, rt } = await redirectToTarget();
      const controller = new AbortController();

      const job = rejectionOf(rt.run({ url: `${origin}/start` }, { signal: controller.signal }));
      await dispatched();
      busyFor(400);
      controller.abort(); // before this thread has read the worker's redirect
      const error = await job;
      expect(error.code).toBe('FLOWPOOL_ABORTED');
      await rt.close(); // drains: nothing left running or queued
      expect(b.connections).toBe(0);
    });
  });
});
