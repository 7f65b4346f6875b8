/**
 * The worker's plain path (a GET read into memory) creates no promise per job: jobs finish by direct calls
 * from undici's handler into the execution and on into the outbox. Counted with async_hooks (every promise
 * created in this thread while the jobs run), not timed. The worker's side runs here in the test's thread
 * with the real undici Agent against a loopback server that counts what it saw.
 */
import { createHook } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { parseOptions } from '../../dist/src/config/options.js';
import { transportBootData } from '../../dist/src/config/transport-options.js';
import { DestinationPolicy } from '../../dist/src/policy/index.js';
import { ConnectionCounters } from '../../dist/src/wire/connection-counters.js';
import type { JobRequest, WorkerBootData, WorkerOutcome } from '../../dist/src/wire/protocol.js';
import { createAgent, type WorkerDispatcher } from '../../dist/src/worker/connect/agent.js';
import { Deadlines } from '../../dist/src/worker/request/deadlines.js';
import { JobExecution, type ExecutionContext } from '../../dist/src/worker/request/job-execution.js';
import { TransformRegistry } from '../../dist/src/worker/request/transforms.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

const JOBS = 300;
const IN_FLIGHT = 10;

function plainJob(id: number, origin: string): JobRequest {
  return {
    id,
    origin,
    path: `/plain/${id}`,
    method: 'GET',
    headers: ['user-agent', 'flowpool/test', 'accept-encoding', 'gzip, deflate, br'],
    body: undefined,
    responseType: 'text',
    timeoutMs: 30_000,
    maxResponseBytes: 1_000_000,
    followRedirects: true,
    maxRedirects: 5,
    jobTimeoutMs: 30_000,
    jobMaxRedirects: 5,
    slot: 0,
    idempotent: true,
  };
}

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
    const options = parseOptions({ workers: 1, connectionsPerHost: IN_FLIGHT, policy: { allow: ['127.0.0.0/8'] } });
    const counters = ConnectionCounters.allocate(1, 1);
    const boot: WorkerBootData = {
      shard: 0,
      counters: counters.buffer,
      slots: 1,
      workers: 1,
      policy: options.policy,
      resolve: {},
      transforms: {},
      transport: transportBootData(options, {}),
      agent: {
        connectionsPerHost: IN_FLIGHT,
        headersTimeoutMs: options.headersTimeoutMs,
        keepAliveTimeoutMs: options.keepAliveTimeoutMs,
        connectTimeoutMs: options.connectTimeoutMs,
        maxHeaderBytes: options.maxHeaderBytes,
      },
    };
    const policy = DestinationPolicy.compile(options.policy);
    dispatcher = createAgent({ boot, policy, counters, originSlots: new Map([[origin, 0]]) });

    const outcomes: WorkerOutcome[] = [];
    let next = 0;
    let allDone!: () => void;
    const finished = new Promise<void>((resolve) => (allDone = resolve));
    const context: ExecutionContext = {
      dispatcher,
      policy,
      headersTimeoutMs: options.headersTimeoutMs,
      transforms: new TransformRegistry({}),
      deadlines: new Deadlines(),
      onStaleRetry: () => undefined,
      complete: (_execution, outcome) => {
        outcomes.push(outcome);
        if (outcomes.length === JOBS) allDone();
        else if (next < JOBS) new JobExecution(plainJob(next++, origin), context).start();
      },
      streamEnded: () => undefined,
    };

    // Warm-up: the pool's sockets and undici's lazy parts exist before counting starts.
    const warm = new Promise<void>((resolve) => {
      let left = IN_FLIGHT;
      const warmContext: ExecutionContext = { ...context, complete: () => --left === 0 && resolve() };
      for (let i = 0; i < IN_FLIGHT; i++) new JobExecution(plainJob(-1 - i, origin), warmContext).start();
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
    for (; next < IN_FLIGHT; next++) new JobExecution(plainJob(next, origin), context).start();
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
