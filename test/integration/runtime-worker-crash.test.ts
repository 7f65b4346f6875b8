/**
 * A worker dies for real (JSON.parse of ~20 MB of strings under a 24 MB heap limit) while other jobs
 * are in flight on it: every job settles; the ones safe to repeat run again on the replacement, the
 * others fail with FLOWPOOL_WORKER_CRASHED; the runtime keeps serving.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { bigJsonStrings, gate } from '../fixtures/handlers.js';
import { settle, waitUntil } from '../fixtures/wait.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('runtime: worker crash mid-flight', () => {
  const track = closeAfterEach();

  it('settles every in-flight job: GETs run again (attempts 2), POSTs fail with FLOWPOOL_WORKER_CRASHED', async () => {
    const big = bigJsonStrings(20e6);
    const slow = gate();
    const server = track(
      await startCountingServer((req, res, state) => {
        if (req.url === '/big') {
          req.resume();
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(big.length) });
          res.end(big);
          return;
        }
        slow.handler(req, res, state);
      }),
    );
    const runtime = track(
      createRuntime({ workers: 1, workerResourceLimits: { maxOldGenerationSizeMb: 24 }, policy: LOOPBACK }),
    );
    const origin = server.origin;

    const gets = Array.from({ length: 6 }, (_, i) => settle(runtime.run({ url: `${origin}/get/${i}` })));
    const posts = Array.from({ length: 4 }, (_, i) =>
      settle(runtime.run({ url: `${origin}/post/${i}`, method: 'POST', body: `p${i}` })),
    );
    await waitUntil(() => slow.held === 10, 'the server to hold all 10 requests');

    // POST: not safe to repeat, so the crash happens exactly once.
    const crasher = await settle(
      runtime.run({ url: `${origin}/big`, method: 'POST', responseType: 'json', maxResponseBytes: 100e6 }),
    );
    expect(crasher.ok).toBe(false);
    if (!crasher.ok) {
      expect(crasher.error.code).toBe('FLOWPOOL_WORKER_CRASHED');
      // The reason piscina gave for the death, not a generic "exited".
      expect(crasher.error.message).toMatch(/memory/i);
    }

    slow.release();
    const getOutcomes = await Promise.all(gets);
    const postOutcomes = await Promise.all(posts);

    getOutcomes.forEach((outcome, i) => {
      expect(outcome.ok).toBe(true);
      if (outcome.ok) {
        expect(outcome.value.status).toBe(200);
        expect(outcome.value.attempts).toBe(2);
        expect(outcome.value.body).toContain(`/get/${i}`);
      }
    });
    for (const outcome of postOutcomes) {
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.error.code).toBe('FLOWPOOL_WORKER_CRASHED');
    }
    // Each GET reached the server twice, each POST once (never repeated).
    for (let i = 0; i < 6; i++) expect(slow.paths.filter((p) => p === `/get/${i}`)).toHaveLength(2);
    for (let i = 0; i < 4; i++) expect(slow.paths.filter((p) => p === `/post/${i}`)).toHaveLength(1);

    const later = await runtime.run({ url: `${origin}/after` });
    expect(later.status).toBe(200);
    expect(later.attempts).toBe(1);

    const stats = await runtime.stats();
    expect(stats.totals.workerRestarts).toBeGreaterThanOrEqual(1);
    expect(stats.totals.rerunsAfterCrash).toBe(6);
    expect(stats.totals.failedByCode.FLOWPOOL_WORKER_CRASHED).toBe(5);
    expect(stats.totals.running).toBe(0);
    expect(stats.totals.queued).toBe(0);
  }, 60_000);
});
