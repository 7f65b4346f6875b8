/**
 * Hostile arguments to run() and runMany() (not the job itself): refused with a FlowpoolError naming the
 * field before anything is queued, so the server sees nothing and no phantom job is left to hold close().
 * Needs src/api/run-arguments.ts wired into src/api/runtime.ts (parseRunOptions in run, parseRunManyArguments in
 * runMany); before that wiring, these fail with plain TypeErrors, which is the bug they pin down.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, FlowpoolError, type Runtime } from '../../dist/src/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, the call succeeded');
}

/** What iterating runMany(...) throws; a refused argument must throw, not come back as per-job results. */
async function runManyRejection(start: () => AsyncIterable<unknown>): Promise<unknown> {
  try {
    for await (const result of start()) expect(result).toBeDefined();
  } catch (error) {
    return error;
  }
  throw new Error('expected runMany to throw, it completed');
}

function expectRefused(error: unknown, code: string, field: string): void {
  expect(error instanceof FlowpoolError).toBe(true);
  if (error instanceof FlowpoolError) expect([error.code, error.details.field]).toEqual([code, field]);
}

describe('runtime: hostile run() and runMany() arguments', () => {
  const track = closeAfterEach();

  async function start(): Promise<{ server: CountingServer; runtime: Runtime }> {
    const server = track(await startCountingServer());
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    return { server, runtime };
  }

  it('takes run(job, null) as no options', async () => {
    const { server, runtime } = await start();
    const result = await runtime.run({ url: `${server.origin}/null-options` }, null as never);
    expect(result.status).toBe(200);
    expect(server.requests).toBe(1);
  });

  it('refuses run(job, { signal: {} }) and run(job, 5) before queueing; close() then resolves', async () => {
    const { server, runtime } = await start();
    const url = `${server.origin}/never`;
    expectRefused(
      await rejectionOf(runtime.run({ url }, { signal: {} } as never)),
      'FLOWPOOL_INVALID_OPTIONS',
      'options.signal',
    );
    expectRefused(await rejectionOf(runtime.run({ url }, 5 as never)), 'FLOWPOOL_INVALID_OPTIONS', 'options');
    expect(server.requests).toBe(0);
    // No phantom job: close() drains nothing and resolves; destroy() after it resolves too.
    await runtime.close();
    await runtime.destroy();
    expect(server.requests).toBe(0);
  });

  it('refuses runMany(null), a bad signal and a bad concurrency with FlowpoolError; close() then resolves', async () => {
    const { server, runtime } = await start();
    const jobs = [{ url: `${server.origin}/never` }];
    expectRefused(await runManyRejection(() => runtime.runMany(null as never)), 'FLOWPOOL_INVALID_JOB', 'jobs');
    expectRefused(
      await runManyRejection(() => runtime.runMany(jobs, { signal: {} } as never)),
      'FLOWPOOL_INVALID_OPTIONS',
      'options.signal',
    );
    expectRefused(
      await runManyRejection(() => runtime.runMany(jobs, { concurrency: 0 })),
      'FLOWPOOL_INVALID_OPTIONS',
      'options.concurrency',
    );
    expect(server.requests).toBe(0);
    await runtime.close();
    await runtime.destroy();
    expect(server.requests).toBe(0);
  });
});
