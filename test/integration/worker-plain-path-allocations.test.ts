/**
 * The worker's plain path (a GET read into memory) creates no promise per job: jobs finish by direct calls
 * from undici's handler into the execution and on into the outbox. Counted with async_hooks (every promise
 * created in this thread while the jobs run), not timed. The worker's side runs here in the test's thread
 * with the real undici Agent against a loopback server that counts what it saw.
 */
import { createHook } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobRequest, WorkerOutcome } from '../../dist/src/wire/protocol.js';
import type { WorkerDispatcher } from '../../dist/src/worker/connect/agent.js';
import { JobExecution, type ExecutionContext } from '../../dist/src/worker/request/job-execution.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { plainJob, workerSide } from '../fixtures/worker-side.js';

const JOBS = 300;
const IN_FLIGHT = 10;

describe('worker: the plain path', () => {
  let server: CountingServer | undefined;
  let dispatcher: WorkerDispatcher | undefined;
  afterEach(async () => {
    await dispatcher?.agent.destroy();
    await server?.close();
  });

  it('creates no promise per job (async_hooks count over 300 GETs, 10 in flight)', async () => {
    server = await startCountingServer((_req, res) => res.end('ok'));
    const origin = server.origin;
    const outcomes: WorkerOutcome[] = [];
    let next = 0;
    let allDone!: () => void;
    const finished = new Promise<void>((resolve) => (allDone = resolve));
    const side = workerSide(origin, { workers: 1, shard: 0, cap: IN_FLIGHT }, (_execution, outcome) => {
      outcomes.push(outcome);
      if (outcomes.length === JOBS) allDone();
      else if (next < JOBS) new JobExecution(job(next++), context, side.lane).start();
    });
    const context = side.context;
    dispatcher = side.dispatcher;
    const job = (id: number): JobRequest => plainJob(id, origin, `/plain/${String(id)}`);

    // Warm-up: the pool's sockets and undici's lazy parts exist before counting starts.
    const warm = new Promise<void>((resolve) => {
      let left = IN_FLIGHT;
      const warmContext: ExecutionContext = { ...context, complete: () => --left === 0 && resolve() };
      for (let i = 0; i < IN_FLIGHT; i++) new JobExecution(job(-1 - i), warmContext, side.lane).start();
    });
    await warm;
    const connectionsAfterWarmUp = server.connections;

    let promises = 0;
    const hook = createHook({
      init(_id, type) {
        if (type === 'PROMISE') promises++;
      },
    });
    hook.enable();
    for (; next < IN_FLIGHT; next++) new JobExecution(job(next), context, side.lane).start();
    await finished;
    hook.disable();

    expect(outcomes).toHaveLength(JOBS);
    expect(outcomes.every((outcome) => outcome.ok === true && outcome.status === 200 && outcome.body === 'ok')).toBe(
      true,
    );
    expect(server.requests).toBe(JOBS + IN_FLIGHT);
    expect(server.connections).toBe(connectionsAfterWarmUp);
    // The test's own awaits account for a handful; one per job would be 300 or more.
    expect(promises).toBeLessThan(JOBS / 10);
  });
});
