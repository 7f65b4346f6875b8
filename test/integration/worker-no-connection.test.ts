/**
 * A worker whose origin's connection units are all held by another worker's sockets hands the job back,
 * unsent, instead of dialling in vain until the deadline (CI once saw 35 jobs of a runtime's first burst
 * time out that way: the other worker's first dials had taken every unit). The worker's side runs here in
 * the test's thread with the real undici Agent and the real shared counters; "worker 0" is the counters'
 * record of the other worker's sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionCounters } from '../../dist/src/wire/connection-counters.js';
import type { JobRequest, WorkerOutcome } from '../../dist/src/wire/protocol.js';
import type { WorkerDispatcher } from '../../dist/src/worker/connect/agent.js';
import { JobExecution } from '../../dist/src/worker/request/job-execution.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { plainJob, workerSide } from '../fixtures/worker-side.js';

const CAP = 2;
const OTHER_WORKER = 0;
const THIS_WORKER = 1;

/** This worker's side, and `run`: one job through a JobExecution, resolved with its outcome. */
function side(origin: string): {
  counters: ConnectionCounters;
  dispatcher: WorkerDispatcher;
  run: (job: JobRequest) => Promise<WorkerOutcome>;
} {
  const answers = new Map<object, (outcome: WorkerOutcome) => void>();
  const { counters, dispatcher, context, lane } = workerSide(
    origin,
    { workers: 2, shard: THIS_WORKER, cap: CAP },
    (execution, outcome) => answers.get(execution)?.(outcome),
  );
  const run = (request: JobRequest): Promise<WorkerOutcome> =>
    new Promise((resolve) => {
      const execution = new JobExecution(request, context, lane);
      answers.set(execution, resolve);
      execution.start();
    });
  return { counters, dispatcher, run };
}

function job(id: number, origin: string): JobRequest {
  return { ...plainJob(id, origin, `/job/${String(id)}`), headers: [] };
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
    const worker = side(server.origin);
    dispatcher = worker.dispatcher;
    for (let i = 0; i < CAP; i++) expect(worker.counters.tryAcquire(0, OTHER_WORKER, CAP)).toBe(true);

    const refused = await worker.run(job(1, server.origin));
    expect(refused).toEqual({ ok: 'no-connection', sent: false });
    expect(server.connections).toBe(0);
    expect(server.requests).toBe(0);
    expect(worker.counters.open(0, THIS_WORKER)).toBe(0);

    worker.counters.release(0, OTHER_WORKER);
    const served = await worker.run(job(2, server.origin));
    expect(served).toMatchObject({ ok: true, status: 200, body: 'ok' });
    expect(served.ok === true && served.headers.includes('content-length:2\n')).toBe(true);
    expect(server.connections).toBe(1);
    expect(server.requests).toBe(1);
    expect(worker.counters.open(0, THIS_WORKER)).toBe(1);
  });
});
