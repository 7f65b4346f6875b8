/** Deadlines: a job's timeoutMs fires in the phase it is in (waiting for headers, or reading the body). */
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { headersThenStall, never } from '../fixtures/handlers.js';
import { settle } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('runtime: timeouts', () => {
  let server: CountingServer | undefined;
  let runtime: Runtime | undefined;

  afterEach(async () => {
    await runtime?.destroy();
    await server?.close();
    runtime = undefined;
    server = undefined;
  });

  it("rejects with FLOWPOOL_TIMEOUT, phase 'headers', when the server never answers", async () => {
    server = await startCountingServer(never);
    runtime = createRuntime({ workers: 1, policy: LOOPBACK });
    const outcome = await settle(runtime.run({ url: `${server.origin}/silent`, timeoutMs: 300, id: 'silent-1' }));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.error.code).toBe('FLOWPOOL_TIMEOUT');
      expect(outcome.error.details?.phase).toBe('headers');
      expect(outcome.error.details?.jobId).toBe('silent-1');
    }
    expect(server.requests).toBe(1);
  }, 15_000);

  it("rejects with FLOWPOOL_TIMEOUT, phase 'body', when the server sends headers and then stalls", async () => {
    server = await startCountingServer(headersThenStall);
    runtime = createRuntime({ workers: 1, policy: LOOPBACK });
    const outcome = await settle(runtime.run({ url: `${server.origin}/stall`, timeoutMs: 300 }));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.error.code).toBe('FLOWPOOL_TIMEOUT');
      expect(outcome.error.details?.phase).toBe('body');
    }
  }, 15_000);

  it("applies the runtime's headersTimeoutMs before the job's longer deadline", async () => {
    server = await startCountingServer(never);
    runtime = createRuntime({ workers: 1, headersTimeoutMs: 200, policy: LOOPBACK });
    const outcome = await settle(runtime.run({ url: `${server.origin}/silent`, timeoutMs: 20_000 }));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.error.code).toBe('FLOWPOOL_TIMEOUT');
      expect(outcome.error.details?.phase).toBe('headers');
      expect(outcome.error.message).toContain('headersTimeoutMs');
    }
  }, 15_000);

  it('a timed-out job leaves the runtime serving', async () => {
    server = await startCountingServer((req, res) => {
      req.resume();
      if (req.url === '/silent') return;
      res.end('fine');
    });
    runtime = createRuntime({ workers: 1, policy: LOOPBACK });
    const timedOut = await settle(runtime.run({ url: `${server.origin}/silent`, timeoutMs: 200 }));
    expect(timedOut.ok).toBe(false);
    const ok = await runtime.run({ url: `${server.origin}/ok` });
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('fine');
  }, 15_000);
});
