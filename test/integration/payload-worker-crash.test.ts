/**
 * A worker dies (JSON.parse of ~20 MB of strings under a 24 MB heap limit) while a stream crosses to or
 * from it: a 'stream' body being read fails with FLOWPOOL_WORKER_CRASHED instead of waiting forever, an
 * upload from a generator rejects with it and the generator is closed (its `finally` runs), and in both
 * cases the job's slot comes back (connectionsPerHost is 1: the next job to that host runs).
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { bigJsonStrings } from '../fixtures/handlers.js';
import { endlessUpload } from '../fixtures/endless-upload.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { settle, waitUntil } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const BLOCK = Buffer.alloc(256 * 1024, 0x61);

describe('payload: a worker dying mid-stream', () => {
  const track = closeAfterEach();

  /** The server that kills the worker: its answer cannot be parsed within the worker's heap. */
  async function crasher(): Promise<CountingServer> {
    const big = bigJsonStrings(20e6);
    return track(
      await startCountingServer((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(big.length) });
        res.end(big);
      }),
    );
  }

  /** One worker with a small heap (the crasher's answer kills it) and one connection per host (a slot held shows). */
  function oneSlotRuntime(): Runtime {
    return createRuntime({
      workers: 1,
      connectionsPerHost: 1,
      workerResourceLimits: { maxOldGenerationSizeMb: 24 },
      policy: LOOPBACK,
    });
  }

  function crashWorker(runtime: Runtime, server: CountingServer): Promise<unknown> {
    // A POST: not safe to repeat, so the crash happens once.
    return settle(
      runtime.run({ url: `${server.origin}/big`, method: 'POST', responseType: 'json', maxResponseBytes: 100e6 }),
    );
  }

  it("fails the 'stream' body being read with FLOWPOOL_WORKER_CRASHED, and frees its slot", async () => {
    let closedEarly = false;
    const server = track(
      await startCountingServer((req, res) => {
        if (req.url === '/small') {
          res.end('small');
          return;
        }
        // 4 blocks of a declared 64 MiB, then nothing: the body stays mid-way until the worker dies.
        res.writeHead(200, { 'content-length': String(64 * 1024 * 1024) });
        for (let i = 0; i < 4; i++) res.write(BLOCK);
        res.once('close', () => {
          closedEarly = !res.writableFinished;
        });
      }),
    );
    const killer = await crasher();
    const runtime = track(oneSlotRuntime());
    const result = await runtime.run({
      url: `${server.origin}/stream`,
      responseType: 'stream',
      maxResponseBytes: 128 * 1024 * 1024,
    });
    const reader = result.body.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);

    const crash = (await crashWorker(runtime, killer)) as { ok: boolean; error?: { code?: string } };
    expect(crash.error?.code).toBe('FLOWPOOL_WORKER_CRASHED');

    const failure = await (async () => {
      for (;;) if ((await reader.read()).done) return undefined;
    })().then(
      () => undefined,
      (error: unknown) => error as { code?: string; message: string },
    );
    expect(failure?.code).toBe('FLOWPOOL_WORKER_CRASHED');
    expect(failure?.message).toMatch(/died/);
    await waitUntil(() => closedEarly, 'the server to see the dead worker’s connection close');
    // One connection per host: this runs only if the streamed job gave its slot back.
    const next = await runtime.run({ url: `${server.origin}/small` });
    expect(next.body).toBe('small');
  });

  it('rejects an upload from a generator with FLOWPOOL_WORKER_CRASHED, closes the generator, and frees its slot', async () => {
    let held = 0;
    const server = track(
      await startCountingServer((req, res) => {
        if (req.url === '/small') {
          res.end('small');
          return;
        }
        // Reads a little of the body, then nothing: the upload stays mid-way until the worker dies.
        held++;
        req.once('data', () => req.pause());
      }),
    );
    const killer = await crasher();
    const runtime = track(oneSlotRuntime());
    const endless = endlessUpload(BLOCK);
    const upload = settle(runtime.run({ url: `${server.origin}/upload`, method: 'POST', body: endless.body }));
    await waitUntil(() => held === 1 && endless.produced() > 0, 'the upload to reach the server');

    await crashWorker(runtime, killer);
    const outcome = await upload;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe('FLOWPOOL_WORKER_CRASHED');
    await waitUntil(() => endless.closed(), 'the generator to be closed');
    const next = await runtime.run({ url: `${server.origin}/small` });
    expect(next.body).toBe('small');
  });
});
