/**
 * Deadlines: `timeoutMs` covers headers and the whole body (a slowloris trickle ends at the deadline with
 * phase 'body'), `headersTimeoutMs` bounds the wait for headers only, and a job's own timeout or size
 * limit never leaks to another job running beside it on the same worker.
 *
 * No timing assertions: each server here never finishes by construction (or finishes well after the
 * deadline), so a job that settles with FLOWPOOL_TIMEOUT did not wait for it.
 */
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { rejectionOf, startHostServer, type HostHandler } from '../fixtures/host-server.js';
import { expectHealthy } from '../fixtures/health.js';
import { waitUntil } from '../fixtures/wait.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

/** Sends headers at once, then one byte every `everyMs`, `count` times (forever when undefined). */
function trickle(everyMs: number, count?: number): HostHandler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.flushHeaders();
    let sent = 0;
    const timer = setInterval(() => {
      if (count !== undefined && sent >= count) {
        clearInterval(timer);
        res.end();
        return;
      }
      sent++;
      res.write('x');
    }, everyMs);
    res.once('close', () => clearInterval(timer));
  };
}

/** Accepts the request and never sends a byte back (the server's close() destroys the socket). */
const silent: HostHandler = () => {};

/** Answers with `body` after `ms`. */
function after(ms: number, body = 'late but fine'): HostHandler {
  return (_req, res) => {
    const timer = setTimeout(() => res.end(body), ms);
    res.once('close', () => clearTimeout(timer));
  };
}

/** Holds responses until `count` requests are waiting, then answers them all with `body`. */
function answerTogether(count: number, body: Buffer): HostHandler {
  const waiting: ServerResponse[] = [];
  return (_req, res) => {
    waiting.push(res);
    if (waiting.length === count) for (const r of waiting.splice(0)) r.end(body);
  };
}

describe('limits: deadlines and per-job isolation', () => {
  const track = closeAfterEach();

  it("ends a slowloris body (a byte every 200 ms, forever) at timeoutMs with phase 'body'", async () => {
    const server = track(await startHostServer('127.0.0.2', trickle(200)));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    await runtime.ready();

    const error = await rejectionOf(runtime.run({ url: `${server.origin}/slow`, timeoutMs: 1000 }));
    expect(error.code).toBe('FLOWPOOL_TIMEOUT');
    expect(error.details.phase).toBe('body');
    expect(error.message).toMatch(/timeoutMs \(\d+ ms\)/);
    // The client hung up on the trickle.
    await waitUntil(() => server.open === 0, 'the slowloris socket to close');
  });

  it("ends a server that accepts and never sends headers at timeoutMs with phase 'headers'", async () => {
    const server = track(await startHostServer('127.0.0.2', silent));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    await runtime.ready();

    const error = await rejectionOf(runtime.run({ url: `${server.origin}/silent`, timeoutMs: 300 }));
    expect(error.code).toBe('FLOWPOOL_TIMEOUT');
    expect(error.details.phase).toBe('headers');
    expect(server.requests).toHaveLength(1);
    await waitUntil(() => server.open === 0, 'the silent socket to close');
  });

  it("fires headersTimeoutMs (smaller than timeoutMs) with phase 'headers'", async () => {
    const server = track(await startHostServer('127.0.0.2', silent));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, headersTimeoutMs: 200, timeoutMs: 20_000 }));
    await runtime.ready();

    const error = await rejectionOf(runtime.run({ url: `${server.origin}/silent` }));
    expect(error.code).toBe('FLOWPOOL_TIMEOUT');
    expect(error.details.phase).toBe('headers');
    expect(error.message).toMatch(/headersTimeoutMs \(200 ms\)/);
  });

  it('does not apply headersTimeoutMs to the body: a body slower than it, within timeoutMs, succeeds', async () => {
    const server = track(await startHostServer('127.0.0.2', trickle(100, 5)));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, headersTimeoutMs: 200, timeoutMs: 20_000 }));
    await runtime.ready();

    const result = await runtime.run({ url: `${server.origin}/trickle` });
    expect(result.status).toBe(200);
    expect(result.body).toBe('xxxxx');
  });

  it('applies headersTimeoutMs to each redirect hop', async () => {
    const silentTarget = track(await startHostServer('127.0.0.3', silent));
    const start = await startHostServer('127.0.0.2', (_req, res) => {
      res.writeHead(302, { location: `${silentTarget.origin}/hang` });
      res.end();
    });
    track(start);
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, headersTimeoutMs: 200, timeoutMs: 20_000 }));
    await runtime.ready();

    const error = await rejectionOf(runtime.run({ url: `${start.origin}/` }));
    expect(error.code).toBe('FLOWPOOL_TIMEOUT');
    expect(error.details.phase).toBe('headers');
    expect(silentTarget.requests).toHaveLength(1);
  });

  it('a job timing out does not affect a parallel job on the same worker', async () => {
    const hanging = track(await startHostServer('127.0.0.2', silent));
    const slow = track(await startHostServer('127.0.0.3', after(600)));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    await runtime.ready();
    const rt = runtime;

    const [a, b] = await Promise.all([
      rejectionOf(rt.run({ url: `${hanging.origin}/a`, timeoutMs: 300 })),
      rt.run({ url: `${slow.origin}/b` }),
    ]);
    expect([a.code, a.details.phase]).toEqual(['FLOWPOOL_TIMEOUT', 'headers']);
    expect(b.status).toBe(200);
    expect(b.body).toBe('late but fine');
    expect(b.worker).toBe(0);
    await expectHealthy(rt);
  });

  it('maxResponseBytes does not leak: job A (limit 10) fails while parallel job B (default) gets the same body', async () => {
    const body = Buffer.from('y'.repeat(100));
    const server = track(await startHostServer('127.0.0.2', answerTogether(2, body)));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, timeoutMs: 3_000 }));
    await runtime.ready();
    const rt = runtime;

    const [a, b] = await Promise.all([
      rejectionOf(rt.run({ url: `${server.origin}/a`, maxResponseBytes: 10 })),
      rt.run({ url: `${server.origin}/b` }),
    ]);
    expect(a.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
    expect(b.status).toBe(200);
    expect(b.bytes).toBe(100);
    expect(b.body).toBe('y'.repeat(100));
    expect(server.requests.map((r) => r.url).sort()).toEqual(['/a', '/b']);
    await expectHealthy(rt);
  });

  it('maxResponseBytes does not leak to the next job on the same worker either', async () => {
    const server = await startHostServer('127.0.0.2', (_req, res) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.end('z'.repeat(100));
    });
    track(server);
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, timeoutMs: 3_000 }));
    await runtime.ready();

    const a = await rejectionOf(runtime.run({ url: `${server.origin}/a`, maxResponseBytes: 10 }));
    expect(a.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
    const b = await runtime.run({ url: `${server.origin}/b` });
    expect(b.bytes).toBe(100);
  });

  it('timeoutMs does not leak: job A (300 ms) times out while parallel job B (default) gets a 600 ms answer', async () => {
    const server = track(await startHostServer('127.0.0.2', after(600)));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    await runtime.ready();
    const rt = runtime;

    const [a, b] = await Promise.all([
      rejectionOf(rt.run({ url: `${server.origin}/a`, timeoutMs: 300 })),
      rt.run({ url: `${server.origin}/b` }),
    ]);
    expect([a.code, a.details.phase]).toEqual(['FLOWPOOL_TIMEOUT', 'headers']);
    expect(b.status).toBe(200);
    expect(b.body).toBe('late but fine');
    expect(b.worker).toBe(0);
    // And the next job after the timeout gets the default deadline too.
    expect((await rt.run({ url: `${server.origin}/c` })).status).toBe(200);
  });
});
