/** Cancelling one job (running or queued) rejects it with FLOWPOOL_ABORTED and disturbs nothing else. */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { gate } from '../fixtures/handlers.js';
import { settle, waitUntil } from '../fixtures/wait.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('runtime: cancel', () => {
  const track = closeAfterEach();

  it('aborts one of 10 running jobs on one worker; the other 9 resolve and the worker lives on', async () => {
    const slow = gate();
    const server = track(await startCountingServer(slow.handler));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    const controller = new AbortController();
    const jobs = Array.from({ length: 10 }, (_, i) =>
      settle(runtime.run({ url: `${server.origin}/job/${i}` }, i === 4 ? { signal: controller.signal } : {})),
    );
    // All 10 are on the wire (held by the server) before the abort.
    await waitUntil(() => slow.held === 10, 'the server to hold all 10 requests');
    controller.abort();
    const aborted = await jobs[4];
    expect(aborted?.ok).toBe(false);
    if (aborted !== undefined && !aborted.ok) expect(aborted.error.code).toBe('FLOWPOOL_ABORTED');

    slow.release();
    const outcomes = await Promise.all(jobs);
    outcomes.forEach((outcome, i) => {
      if (i === 4) return;
      expect(outcome.ok).toBe(true);
      if (outcome.ok) {
        expect(outcome.value.status).toBe(200);
        expect(outcome.value.body).toContain(`/job/${i}"`);
      }
    });
    const stats = await runtime.stats();
    expect(stats.totals.workerRestarts).toBe(0);
    expect(stats.totals.succeeded).toBe(9);
    expect(stats.totals.failedByCode.FLOWPOOL_ABORTED).toBe(1);
    // The same worker thread keeps serving.
    expect((await runtime.run({ url: `${server.origin}/after` })).status).toBe(200);
    expect((await runtime.stats()).totals.workerRestarts).toBe(0);
  }, 30_000);

  it('aborting a queued job removes it: the server never sees its request', async () => {
    const slow = gate();
    const server = track(await startCountingServer(slow.handler));
    const runtime = track(createRuntime({ workers: 1, concurrencyPerWorker: 1, policy: LOOPBACK }));
    const controller = new AbortController();
    const first = settle(runtime.run({ url: `${server.origin}/first` }));
    const doomed = settle(runtime.run({ url: `${server.origin}/doomed` }, { signal: controller.signal }));
    const last = settle(runtime.run({ url: `${server.origin}/last` }));
    await waitUntil(() => slow.held === 1, 'the first request to arrive');
    expect((await runtime.stats()).totals.queued).toBe(2);

    controller.abort();
    const doomedOutcome = await doomed;
    expect(doomedOutcome.ok).toBe(false);
    if (!doomedOutcome.ok) expect(doomedOutcome.error.code).toBe('FLOWPOOL_ABORTED');
    expect((await runtime.stats()).totals.queued).toBe(1);

    slow.release();
    const [firstOutcome, lastOutcome] = await Promise.all([first, last]);
    expect(firstOutcome.ok && firstOutcome.value.status).toBe(200);
    expect(lastOutcome.ok && lastOutcome.value.status).toBe(200);
    expect(slow.paths).toEqual(['/first', '/last']);
  }, 30_000);

  it('a signal aborted before submission rejects at once and sends nothing', async () => {
    const server = track(await startCountingServer());
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    const outcome = await settle(runtime.run({ url: `${server.origin}/never` }, { signal: AbortSignal.abort() }));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe('FLOWPOOL_ABORTED');
    expect(server.requests).toBe(0);
  });
});
