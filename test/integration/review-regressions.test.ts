/**
 * Regressions found by a review of the data-path rewrite, each shown the way it was found:
 * - a small `bytes` body that arrived in pieces crossed to the caller inside Node's shared 8 KiB pool block
 *   (whatever else the pool held went with it);
 * - a job path starting with `//` made a relative redirect resolve against another host;
 * - a deadline that passed while a transform ran (or never settled) did not end the job, and close() hung;
 * - a job submitted while the workers start with the largest timeoutMs failed at once (Node's timer limit).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createRuntime, FlowpoolError } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.1'] };
const NEVER = fileURLToPath(new URL('../fixtures/faults/never.mjs', import.meta.url));
const COLD_JOB = fileURLToPath(new URL('../fixtures/cold-job.mjs', import.meta.url));
const run = promisify(execFile);

describe('review regressions', () => {
  const track = closeAfterEach();

  it('a bytes body that came in pieces owns exactly its bytes, nothing of the memory around them', async () => {
    const server = track(
      await startCountingServer((_req, res) => {
        res.write('hello ');
        res.end('world');
      }),
    );
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    const result = await runtime.run({ url: `${server.origin}/b`, responseType: 'bytes' });
    expect(Buffer.from(result.body).toString()).toBe('hello world');
    expect(result.body.byteOffset).toBe(0);
    expect(result.body.buffer.byteLength).toBe(11);
  });

  it('a path starting with // stays on its own host through a relative redirect', async () => {
    const server = track(
      await startCountingServer((req, res) => {
        if (req.url === '//elsewhere.test/x') {
          res.writeHead(302, { location: '/login' }).end();
          return;
        }
        res.end(`at ${req.url ?? ''}`);
      }),
    );
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    const result = await runtime.run({ url: `${server.origin}//elsewhere.test/x` });
    expect([result.status, result.body, result.url]).toEqual([200, 'at /login', `${server.origin}/login`]);
    expect(server.requests).toBe(2);
  });

  it('a transform that never settles ends at the deadline with FLOWPOOL_TIMEOUT, and the runtime closes', async () => {
    const server = track(await startCountingServer((_req, res) => res.end('ok')));
    const runtime = createRuntime({ workers: 1, policy: LOOPBACK, transforms: { never: NEVER } });
    const error = await runtime
      .run({ url: `${server.origin}/t`, transform: 'never', timeoutMs: 300 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlowpoolError);
    expect((error as FlowpoolError).code).toBe('FLOWPOOL_TIMEOUT');
    expect(server.requests).toBe(1);
    // Resolves only if nothing of the job is held any more (its slot was released by the worker's answer).
    await runtime.close();
  });

  it('the largest timeoutMs, submitted while the workers start, is not cut short by the timer limit', async () => {
    const server = track(await startCountingServer((_req, res) => res.end('ok')));
    const { stdout } = await run(process.execPath, [COLD_JOB, `${server.origin}/long`, '2', '2147483647'], {
      timeout: 60_000,
    });
    expect(JSON.parse(stdout.trim())).toEqual({ status: 200 });
    expect(server.requests).toBe(1);
  });
});
