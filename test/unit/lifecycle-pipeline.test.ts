/**
 * The job pipeline without threads: the real coordinator, traffic rules and counters, and a fake set of
 * worker outboxes that records what would be posted. Each test drives the worker's side by hand (posted,
 * an outcome, a death) and checks what the caller gets and what the pipeline holds afterwards.
 */
import { describe, expect, it } from 'vitest';
import { parseOptions, type RuntimeOptions } from '../../dist/src/config/options.js';
import { FlowpoolError } from '../../dist/src/errors/flowpool-error.js';
import { normalizeJob, type HttpJob } from '../../dist/src/job/job.js';
import type { HttpResult } from '../../dist/src/job/result.js';
import { JobPipeline, type WorkerOutboxes } from '../../dist/src/lifecycle/job-pipeline.js';
import type { JobRun } from '../../dist/src/lifecycle/job-run.js';
import { RuntimeCounters } from '../../dist/src/observe/stats.js';
import { Coordinator } from '../../dist/src/scheduling/coordinator.js';
import { coordinatorConfig } from '../../dist/src/api/coordinator-config.js';
import { systemClock } from '../../dist/src/traffic/clock.js';
import { TrafficController } from '../../dist/src/traffic/traffic-controller.js';
import type { JobOutcome, JobRequest } from '../../dist/src/wire/protocol.js';
import { jobsOf, type JobsMessage } from '../../dist/src/wire/codec.js';
import type { OutgoingJob } from '../../dist/src/threads/outgoing-job.js';

/** The worker link every fake post goes on. */
const LINK = 1;

class FakeOutboxes implements WorkerOutboxes {
  /** Each job's wire record as it would leave, decoded as the worker decodes it. */
  readonly sent: { worker: number; request: JobRequest }[] = [];
  readonly cancels: number[] = [];
  readonly #waiting = new Map<number, OutgoingJob>();

  send(worker: number, job: OutgoingJob): void {
    const message: JobsMessage = [1];
    job.writeTo(message, performance.now());
    const [request] = jobsOf(message);
    if (request === undefined) throw new Error('the job wrote no record');
    this.sent.push({ worker, request });
    this.#waiting.set(job.id, job);
  }

  unsend(_worker: number, id: number): boolean {
    return this.#waiting.delete(id);
  }

  cancel(_worker: number, id: number): void {
    this.cancels.push(id);
  }

  /** What the shards do at the end of the microtask checkpoint: the outbox leaves, on link LINK. */
  post(_pipeline: JobPipeline): number[] {
    const jobs = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const job of jobs) job.posted(LINK);
    return jobs.map((job) => job.id);
  }
}

function harness(
  overrides: RuntimeOptions = {},
  { ready = true, started = ready }: { ready?: boolean; started?: boolean } = {},
) {
  const options = parseOptions({ workers: 1, policy: { allow: ['127.0.0.0/8'] }, ...overrides });
  const traffic = new TrafficController(options, systemClock, { onCircuitChange: () => undefined });
  const stats = new RuntimeCounters(options.workers);
  const wired: { pipeline?: JobPipeline } = {};
  const coordinator = new Coordinator<JobRun>(
    coordinatorConfig(options, traffic, () => wired.pipeline?.dispatchPlaced()),
    { total: () => 0, open: () => 0 },
  );
  if (!ready) coordinator.setReady(0, false);
  const outboxes = new FakeOutboxes();
  const pipeline = new JobPipeline({ options, coordinator, shards: outboxes, traffic, stats });
  wired.pipeline = pipeline;
  if (started) pipeline.workersStarted();
  const submit = (job: HttpJob, signal?: AbortSignal): Promise<HttpResult> =>
    new Promise<HttpResult>((resolve, reject) => {
      pipeline.submit(normalizeJob(job, options), signal, resolve, reject, false);
    });
  return { pipeline, outboxes, stats, submit };
}

const ok = (status: number, body = 'ok'): JobOutcome => ({
  ok: true,
  status,
  headers: { 'content-type': 'text/plain' },
  body,
  headersMs: 1,
  bytes: body.length,
});

async function rejection(promise: Promise<unknown>): Promise<FlowpoolError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FlowpoolError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('JobPipeline: a job from submission to settlement', () => {
  it("dispatches, posts and resolves the caller with the worker's answer; nothing is held afterwards", async () => {
    const h = harness();
    const result = h.submit({ url: 'http://127.0.0.1:9/a?b=1' });
    expect(h.outboxes.sent.map((s) => [s.request.origin, s.request.path, s.request.method])).toEqual([
      ['http://127.0.0.1:9', '/a?b=1', 'GET'],
    ]);
    const [id] = h.outboxes.post(h.pipeline);
    expect(h.pipeline.busy).toBe(true);
    h.pipeline.onOutcome(id ?? -1, ok(200));
    const value = await result;
    expect([value.status, value.body, value.url, value.attempts, value.worker]).toEqual([
      200,
      'ok',
      'http://127.0.0.1:9/a?b=1',
      1,
      0,
    ]);
    expect(h.pipeline.busy).toBe(false);
    expect(h.stats.succeeded).toBe(1);
  });

  it('an abort while the job waits in the outbox ends it unsent, and the worker never sees it', async () => {
    const h = harness();
    const controller = new AbortController();
    const result = h.submit({ url: 'http://127.0.0.1:9/' }, controller.signal);
    controller.abort();
    const error = await rejection(result);
    expect([error.code, error.details]).toEqual(['FLOWPOOL_ABORTED', { sent: false }]);
    expect(h.outboxes.post(h.pipeline)).toEqual([]);
    expect(h.outboxes.cancels).toEqual([]);
    expect(h.pipeline.busy).toBe(false);
  });

  it("an abort after posting sends a cancel; the worker's answer settles the job, saying it was sent", async () => {
    const h = harness();
    const controller = new AbortController();
    const result = h.submit({ url: 'http://127.0.0.1:9/' }, controller.signal);
    const [id] = h.outboxes.post(h.pipeline);
    controller.abort();
    expect(h.outboxes.cancels).toEqual([id]);
    h.pipeline.onOutcome(id ?? -1, {
      ok: false,
      sent: true,
      error: { code: 'FLOWPOOL_ABORTED', name: 'FlowpoolError', message: 'job was cancelled' },
    });
    const error = await rejection(result);
    expect([error.code, error.details]).toEqual(['FLOWPOOL_ABORTED', { sent: true }]);
    expect(h.pipeline.busy).toBe(false);
  });

  it('a job beyond the per-host concurrency waits queued and goes when the first one answers', async () => {
    const h = harness({ hostLimits: { '127.0.0.1': { concurrency: 1 } } });
    const first = h.submit({ url: 'http://127.0.0.1:9/1' });
    const second = h.submit({ url: 'http://127.0.0.1:9/2' });
    expect(h.outboxes.sent.map((s) => s.request.path)).toEqual(['/1']);
    const [firstId] = h.outboxes.post(h.pipeline);
    h.pipeline.onOutcome(firstId ?? -1, ok(200, 'one'));
    expect((await first).body).toBe('one');
    expect(h.outboxes.sent.map((s) => s.request.path)).toEqual(['/1', '/2']);
    const [secondId] = h.outboxes.post(h.pipeline);
    h.pipeline.onOutcome(secondId ?? -1, ok(200, 'two'));
    const value = await second;
    expect(value.body).toBe('two');
    expect(value.timings.queuedMs).toBeGreaterThanOrEqual(0);
  });

  it('a redirect handed back goes on to the other origin within the same attempt, and lists every hop', async () => {
    const h = harness();
    const result = h.submit({ url: 'http://127.0.0.1:9/start' });
    const [id] = h.outboxes.post(h.pipeline);
    h.pipeline.onOutcome(id ?? -1, {
      ok: 'redirect',
      next: { origin: 'http://127.0.0.2:9', path: '/next', method: 'GET', headers: [], body: undefined },
      redirects: ['http://127.0.0.2:9/next'],
    });
    expect(h.outboxes.sent.map((s) => [s.request.origin, s.request.maxRedirects])).toEqual([
      ['http://127.0.0.1:9', 5],
      ['http://127.0.0.2:9', 4],
    ]);
    const [hopId] = h.outboxes.post(h.pipeline);
    h.pipeline.onOutcome(hopId ?? -1, ok(200));
    const value = await result;
    expect([value.url, value.redirects, value.attempts]).toEqual([
      'http://127.0.0.2:9/next',
      ['http://127.0.0.2:9/next'],
      1,
    ]);
  });

  it('a GET whose worker died is run again once; a POST is not (it may have reached the server)', async () => {
    const h = harness();
    const get = h.submit({ url: 'http://127.0.0.1:9/get' });
    const post = h.submit({ url: 'http://127.0.0.1:9/post', method: 'POST', body: 'x' });
    h.outboxes.post(h.pipeline);
    // Another link's death concerns none of them.
    h.pipeline.onLinkLost(LINK + 1, new Error('another worker exited'));
    expect(h.outboxes.sent).toHaveLength(2);
    h.pipeline.onLinkLost(LINK, new Error('worker exited with code 1'));
    const error = await rejection(post);
    expect(error.code).toBe('FLOWPOOL_WORKER_CRASHED');
    expect(h.outboxes.sent.map((s) => s.request.path)).toEqual(['/get', '/post', '/get']);
    const [rerun] = h.outboxes.post(h.pipeline);
    h.pipeline.onOutcome(rerun ?? -1, ok(200));
    expect((await get).attempts).toBe(2);
    expect(h.stats.rerunsAfterCrash).toBe(1);
  });

  it('a POST whose batch never left its outbox is run again (it provably reached no server)', async () => {
    const h = harness();
    const post = h.submit({ url: 'http://127.0.0.1:9/post', method: 'POST', body: 'x' });
    const [id] = [...h.outboxes.sent.map((s) => s.request.id)];
    h.outboxes.unsend(0, id ?? -1);
    h.pipeline.onBatchFailed([id ?? -1], new Error('the worker is not running'));
    expect(h.outboxes.sent.map((s) => s.request.path)).toEqual(['/post', '/post']);
    const [rerun] = h.outboxes.post(h.pipeline);
    h.pipeline.onOutcome(rerun ?? -1, ok(200));
    expect((await post).attempts).toBe(2);
  });

  it('a streamed body keeps the job (and its slot) until the caller has read it to the end', async () => {
    const h = harness();
    const result = h.submit({ url: 'http://127.0.0.1:9/stream', responseType: 'stream' });
    const [id] = h.outboxes.post(h.pipeline);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('abc'));
        controller.close();
      },
    });
    h.pipeline.onOutcome(id ?? -1, { ok: true, status: 200, headers: {}, body, headersMs: 1, bytes: 0 });
    const value = await result;
    expect(h.pipeline.busy).toBe(true);
    const text = await new Response(value.body as ReadableStream<Uint8Array>).text();
    expect(text).toBe('abc');
    expect(h.pipeline.busy).toBe(false);
  });

  it('destroyAll settles every waiting caller with FLOWPOOL_CLOSED', async () => {
    const h = harness();
    const result = h.submit({ url: 'http://127.0.0.1:9/' });
    h.outboxes.post(h.pipeline);
    h.pipeline.destroyAll();
    expect((await rejection(result)).code).toBe('FLOWPOOL_CLOSED');
  });
});

describe('JobPipeline: deadlines that belong to the caller', () => {
  it('a job submitted while the workers start begins its timeoutMs when one can take it, not before', () => {
    const h = harness({ timeoutMs: 60_000, startupTimeoutMs: 30_000 }, { started: false });
    const result = h.submit({ url: 'http://127.0.0.1:9/early' });
    // Dispatched at once here (the fake workers are ready): its clock starts at that dispatch, so the
    // worker is given the job's own timeoutMs, not the startup bound on top of it.
    const [sent] = h.outboxes.sent;
    expect(sent?.request.timeoutMs).toBeLessThanOrEqual(60_000);
    expect(sent?.request.timeoutMs).toBeGreaterThan(0);
    h.pipeline.destroyAll();
    return expect(result).rejects.toMatchObject({ code: 'FLOWPOOL_CLOSED' });
  });

  it('a job that waits longer than startupTimeoutMs for its worker fails with phase startup', async () => {
    const h = harness({ timeoutMs: 1, startupTimeoutMs: 1 }, { ready: false });
    const error = await rejection(h.submit({ url: 'http://127.0.0.1:9/never' }));
    expect([error.code, error.details]).toEqual(['FLOWPOOL_TIMEOUT', { phase: 'startup' }]);
    expect(h.outboxes.sent).toEqual([]);
  });

  it('an AbortSignal.timeout() reason reads as FLOWPOOL_TIMEOUT, phase signal, with sent', async () => {
    const h = harness();
    const controller = new AbortController();
    const result = h.submit({ url: 'http://127.0.0.1:9/' }, controller.signal);
    const [id] = h.outboxes.post(h.pipeline);
    controller.abort(new DOMException('the caller gave up', 'TimeoutError'));
    h.pipeline.onOutcome(id ?? -1, {
      ok: false,
      sent: true,
      error: { code: 'FLOWPOOL_ABORTED', name: 'FlowpoolError', message: 'job was cancelled' },
    });
    const error = await rejection(result);
    expect([error.code, error.details]).toEqual(['FLOWPOOL_TIMEOUT', { phase: 'signal', sent: true }]);
  });
});
