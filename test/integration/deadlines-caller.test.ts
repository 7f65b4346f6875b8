/**
 * Deadlines that belong to the caller. A job submitted right after createRuntime spends its timeoutMs on
 * the request, not on the workers' start (issue: a 300 ms GET failed as queued on a runtime that was merely
 * starting). A signal whose reason is a TimeoutError (AbortSignal.timeout) reads as FLOWPOOL_TIMEOUT, phase
 * `signal`, not as an abort.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createRuntime, FlowpoolError } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const run = promisify(execFile);
const COLD_JOB = fileURLToPath(new URL('../fixtures/cold-job.mjs', import.meta.url));

describe("deadlines: the caller's time", () => {
  const track = closeAfterEach();

  it('a GET with timeoutMs 300 submitted at once after createRuntime({ workers: 4 }) succeeds', async () => {
    const server = track(await startCountingServer((_req, res) => res.end('ok')));
    const { stdout } = await run(process.execPath, [COLD_JOB, `${server.origin}/cold`, '4', '300'], {
      timeout: 60_000,
    });
    expect(JSON.parse(stdout.trim())).toEqual({ status: 200 });
    expect(server.requests).toBe(1);
  });

  it('an already timed-out signal: FLOWPOOL_TIMEOUT, phase signal, nothing sent', async () => {
    const server = track(await startCountingServer((_req, res) => res.end('ok')));
    const runtime = track(createRuntime({ workers: 1, policy: { allow: ['127.0.0.1'] } }));
    const controller = new AbortController();
    controller.abort(new DOMException('the caller gave up', 'TimeoutError'));
    const error = await runtime
      .run({ url: `${server.origin}/x` }, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlowpoolError);
    expect([(error as FlowpoolError).code, (error as FlowpoolError).details]).toEqual([
      'FLOWPOOL_TIMEOUT',
      { phase: 'signal', sent: false },
    ]);
    // A plain abort stays an abort.
    const plain = new AbortController();
    plain.abort();
    const aborted = await runtime.run({ url: `${server.origin}/y` }, { signal: plain.signal }).catch((e: unknown) => e);
    expect((aborted as FlowpoolError).code).toBe('FLOWPOOL_ABORTED');
    expect(server.requests).toBe(0);
  });

  it('a signal timing out while the server holds the answer: FLOWPOOL_TIMEOUT, phase signal, sent', async () => {
    let arrived!: () => void;
    const atServer = new Promise<void>((resolve) => (arrived = resolve));
    const server = track(
      await startCountingServer(() => {
        arrived();
      }),
    );
    const runtime = track(createRuntime({ workers: 1, policy: { allow: ['127.0.0.1'] } }));
    const controller = new AbortController();
    const pending = runtime
      .run({ url: `${server.origin}/held` }, { signal: controller.signal })
      .catch((e: unknown) => e);
    await atServer;
    controller.abort(new DOMException('the caller gave up', 'TimeoutError'));
    const error = (await pending) as FlowpoolError;
    expect([error.code, error.details]).toEqual(['FLOWPOOL_TIMEOUT', { phase: 'signal', sent: true }]);
    expect(server.requests).toBe(1);
  });
});
