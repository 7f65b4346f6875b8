/**
 * A worker whose origin's connection units are all held by another worker's sockets hands the job back,
 * unsent, instead of dialling in vain until the deadline (CI once saw 35 jobs of a runtime's first burst
 * time out that way: the other worker's first dials had taken every unit). The worker's side runs here in
 * the test's thread with the real undici Agent and the real shared counters; "worker 0" is the counters'
 * record of the other worker's sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionCounters } from '../../dist/src/wire/connection-counters.js';
import { parseOptions } from '../../dist/src/config/options.js';
import { DestinationPolicy } from '../../dist/src/policy/index.js';
import type { JobRequest, WorkerBootData, WorkerOutcome } from '../../dist/src/wire/protocol.js';
import { transportBootData } from '../../dist/src/config/transport-options.js';
import { createAgent, type WorkerDispatcher } from '../../dist/src/worker/connect/agent.js';
import { Deadlines } from '../../dist/src/worker/request/deadlines.js';
import { JobExecution, type ExecutionContext } from '../../dist/src/worker/request/job-execution.js';
import { TransformRegistry } from '../../dist/src/worker/request/transforms.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

const CAP = 2;
const OTHER_WORKER = 0;
const THIS_WORKER = 1;

function workerSide(origin: string): {
  counters: ConnectionCounters;
  dispatcher: WorkerDispatcher;
  run: (job: JobRequest) => Promise<WorkerOutcome>;
} {
  const options = parseOptions({ workers: 2, connectionsPerHost: CAP, policy: { allow: ['127.0.0.0/8'] } });
  const counters = ConnectionCounters.allocate(1, 2);
  const boot: WorkerBootData = {
    shard: THIS_WORKER,
    counters: counters.buffer,
    slots: 1,
    workers: 2,
    policy: options.policy,
    resolve: {},
    transforms: {},
    transport: transportBootData(options, {}),
    agent: {
      connectionsPerHost: CAP,
      headersTimeoutMs: options.headersTimeoutMs,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      maxHeaderBytes: options.maxHeaderBytes,
    },
  };
  const policy = DestinationPolicy.compile(options.policy);
  const dispatcher = createAgent({ boot, policy, counters, originSlots: new Map([[origin, 0]]) });
  const answers = new Map<JobExecution, (outcome: WorkerOutcome) => void>();
  const context: ExecutionContext = {
    dispatcher,
    policy,
    headersTimeoutMs: options.headersTimeoutMs,
    transforms: new TransformRegistry({}),
    deadlines: new Deadlines(),
    onStaleRetry: () => undefined,
    complete: (execution, outcome) => answers.get(execution)?.(outcome),
    streamEnded: () => undefined,
  };
  const run = (request: JobRequest): Promise<WorkerOutcome> =>
    new Promise((resolve) => {
      const execution = new JobExecution(request, context);
      answers.set(execution, resolve);
      execution.start();
    });
  return { counters, dispatcher, run };
}

function job(id: number, origin: string): JobRequest {
  return {
    id,
    origin,
    path: `/job/${id}`,
    method: 'GET',
    headers: [],
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

describe('worker: no connection unit free here', () => {
  let server: CountingServer | undefined;
  let dispatcher: WorkerDispatcher | undefined;
  afterEach(async () => {
    await dispatcher?.agent.destroy();
    await server?.close();
  });

  it("hands the job back unsent while another worker's sockets hold every unit, and runs it once one is free", async () => {
    server = await startCountingServer((_req, res) => res.end('ok'));
    const side = workerSide(server.origin);
    dispatcher = side.dispatcher;
    for (let i = 0; i < CAP; i++) expect(side.counters.tryAcquire(0, OTHER_WORKER, CAP)).toBe(true);

    const refused = await side.run(job(1, server.origin));
    expect(refused).toEqual({ ok: 'no-connection', sent: false });
    expect(server.connections).toBe(0);
    expect(server.requests).toBe(0);
    expect(side.counters.open(0, THIS_WORKER)).toBe(0);

    side.counters.release(0, OTHER_WORKER);
    const served = await side.run(job(2, server.origin));
    expect(served).toMatchObject({ ok: true, status: 200, body: 'ok' });
    expect(served.ok === true && served.headers.includes('content-length:2\n')).toBe(true);
    expect(server.connections).toBe(1);
    expect(server.requests).toBe(1);
    expect(side.counters.open(0, THIS_WORKER)).toBe(1);
  });
});
