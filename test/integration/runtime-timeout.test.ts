/** Deadlines: a job's timeoutMs fires in the phase it is in (waiting for headers, or reading the body). */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { headersThenStall, never } from '../fixtures/handlers.js';
import { settle } from '../fixtures/wait.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('runtime: timeouts', () => {
  const track = closeAfterEach();

  it("rejects with FLOWPOOL_TIMEOUT, phase 'headers', when the server never answers", async () => {
    const server = track(await startCountingServer(never));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    // Booted first: the deadline under test is the exchange's, not a worker's start-up under load.
    await runtime.ready();
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
    const server = track(await startCountingServer(headersThenStall));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    // Booted first: the deadline under test is the exchange's, not a worker's start-up under load.
    await runtime.ready();
    const outcome = await settle(runtime.run({ url: `${server.origin}/stall`, timeoutMs: 300 }));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.error.code).toBe('FLOWPOOL_TIMEOUT');
      expect(outcome.error.details?.phase).toBe('body');
    }
  }, 15_000);

  it("applies the runtime's headersTimeoutMs before the job's longer deadline", async () => {
    const server = track(await startCountingServer(never));
    const runtime = track(createRuntime({ workers: 1, headersTimeoutMs: 200, policy: LOOPBACK }));
    const outcome = await settle(runtime.run({ url: `${server.origin}/silent`, timeoutMs: 20_000 }));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.error.code).toBe('FLOWPOOL_TIMEOUT');
      expect(outcome.error.details?.phase).toBe('headers');
      expect(outcome.error.message).toContain('headersTimeoutMs');
    }
  }, 15_000);

  it('a timed-out job leaves the runtime serving', async () => {
    const server = track(
      await startCountingServer((req, res) => {
        req.resume();
        if (req.url === '/silent') return;
        res.end('fine');
      }),
    );
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    const timedOut = await settle(runtime.run({ url: `${server.origin}/silent`, timeoutMs: 200 }));
    expect(timedOut.ok).toBe(false);
    const ok = await runtime.run({ url: `${server.origin}/ok` });
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('fine');
  }, 15_000);
});
