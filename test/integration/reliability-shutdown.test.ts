/**
 * Shutdown with thousands of jobs in flight and queued: close() stops admitting and drains every one
 * (all 200), destroy() settles every one with FLOWPOOL_CLOSED and releases their sockets; both are
 * idempotent and each may follow the other. And nothing is left behind: a child process that embeds a
 * runtime, uses it and stops (close, destroy, after a worker crash, or simply stops using it) exits by
 * itself with code 0; the test kills it after 10 s and fails.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRuntime, type HttpResult } from '../../dist/src/index.js';
import { allWithin, workersReady } from '../fixtures/bounded.js';
import { byPrefix, rawGate, silentRaw } from '../fixtures/raw-behaviours.js';
import { startRawServer } from '../fixtures/raw-server.js';
import { settle, waitUntil, type Settled } from '../fixtures/wait.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const JOBS = 3_000;
const CHILD = fileURLToPath(new URL('../fixtures/child-runtime.mjs', import.meta.url));
const CHILD_LIMIT_MS = 10_000;
const LOOPBACK = { allow: ['127.0.0.1'] };

interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly killed: boolean;
}

/** Runs the child fixture; SIGKILLs it if it has not exited after CHILD_LIMIT_MS. */
function runChild(mode: string, origin: string): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, mode, origin], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, CHILD_LIMIT_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, killed });
    });
  });
}

describe('reliability: shutdown', () => {
  const track = closeAfterEach();

  it(`close() with ${JOBS} jobs running and queued drains every one (all 200); idempotent; refuses new jobs`, async () => {
    const gate = rawGate();
    const server = track(await startRawServer(gate.behaviour));
    // 2 workers x 256 in flight, the rest queued in the coordinator.
    const runtime = track(createRuntime({ workers: 2, connectionsPerHost: 1_000, policy: LOOPBACK }));
    await workersReady(runtime);
    const jobs: Promise<Settled<HttpResult>>[] = [];
    for (let i = 0; i < JOBS; i++) jobs.push(settle(runtime.run({ url: `${server.origin}/drain/${i}` })));
    const before = await runtime.stats();
    expect(before.totals.running).toBeGreaterThan(0);
    expect(before.totals.queued).toBeGreaterThan(0);
    expect(before.totals.running + before.totals.queued).toBe(JOBS);
    await waitUntil(() => gate.held === before.totals.running, 'the server to hold the running jobs');

    const closing = runtime.close();
    const again = runtime.close();
    const late = await settle(runtime.run({ url: `${server.origin}/late` }));
    expect(late.ok).toBe(false);
    if (!late.ok) expect(late.error.code).toBe('FLOWPOOL_CLOSED');

    gate.release();
    await allWithin([closing, again], 'close() calls');
    const outcomes = await allWithin(jobs, 'drained jobs');
    expect(outcomes.filter((o) => o.ok && o.value.status === 200).length).toBe(JOBS);
    expect(server.requests).toBe(JOBS);
    expect(server.count('/late')).toBe(0);
    // Idempotent, and destroy() after close() is a no-op that resolves.
    await allWithin([runtime.close(), runtime.destroy(), runtime.close()], 'repeated close()/destroy()');
  }, 60_000);

  it(`destroy() with ${JOBS} jobs against a server that never answers settles every one with FLOWPOOL_CLOSED`, async () => {
    const server = track(await startRawServer(silentRaw));
    const runtime = track(createRuntime({ workers: 2, connectionsPerHost: 1_000, policy: LOOPBACK }));
    await workersReady(runtime);
    const jobs: Promise<Settled<HttpResult>>[] = [];
    for (let i = 0; i < JOBS; i++) jobs.push(settle(runtime.run({ url: `${server.origin}/never/${i}` })));
    const running = (await runtime.stats()).totals.running;
    await waitUntil(() => server.requests === running, 'the server to receive the running jobs');
    expect(server.open).toBe(running);

    const destroying = runtime.destroy();
    const again = runtime.destroy();
    await allWithin([destroying, again, runtime.close()], 'destroy()/close() calls');
    const outcomes = await allWithin(jobs, 'destroyed jobs');
    const codes = new Map<string, number>();
    for (const o of outcomes)
      if (!o.ok) codes.set(o.error.code ?? 'none', (codes.get(o.error.code ?? 'none') ?? 0) + 1);
    expect([...codes]).toEqual([['FLOWPOOL_CLOSED', JOBS]]);
    // Their sockets went with the workers.
    await waitUntil(() => server.open === 0, 'every socket of the destroyed jobs to close');
    const late = await settle(runtime.run({ url: `${server.origin}/late` }));
    expect(late.ok).toBe(false);
    if (!late.ok) expect(late.error.code).toBe('FLOWPOOL_CLOSED');
    await allWithin([runtime.destroy(), runtime.close()], 'repeated destroy()/close()');
  }, 60_000);

  describe('no handle left: a child process embedding a runtime exits by itself', () => {
    const expected: Record<string, { resolved: number; rejected: Record<string, number> }> = {
      close: { resolved: 100, rejected: {} },
      destroy: { resolved: 0, rejected: { FLOWPOOL_CLOSED: 100 } },
      crash: { resolved: 50, rejected: { FLOWPOOL_WORKER_CRASHED: 1 } },
      idle: { resolved: 50, rejected: {} },
    };
    for (const [mode, summary] of Object.entries(expected)) {
      it(
        `after ${mode === 'idle' ? 'its last job, without close()' : mode === 'crash' ? 'a worker crash and close()' : `${mode}()`}`,
        async () => {
          const server = track(await startRawServer(byPrefix({ silent: silentRaw })));
          const exit = await runChild(mode, server.origin);
          expect(exit.killed, `still running after ${CHILD_LIMIT_MS} ms; stderr: ${exit.stderr}`).toBe(false);
          expect(exit.code, exit.stderr).toBe(0);
          expect(JSON.parse(exit.stdout.trim())).toEqual({ mode, ...summary });
        },
        CHILD_LIMIT_MS + 5_000,
      );
    }
  });
});
