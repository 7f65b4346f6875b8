/**
 * A worker dies mid-flood, three ways, injected through registered transforms (no test hooks):
 * process.exit() in the thread, an uncaught exception thrown from a timer, and the V8 heap limit of
 * `workerResourceLimits`. 250 jobs (200 GET, 50 POST) are in flight on both workers, held at the server,
 * when a POST whose transform is the fault runs.
 *
 * Every job settles (resolved + rejected === submitted); every GET succeeds, on its first run or on the
 * replacement (attempts 1 or 2); a POST succeeds or fails with FLOWPOOL_WORKER_CRASHED (never run twice:
 * counted at the server); the fault job itself fails with FLOWPOOL_WORKER_CRASHED; the worker is
 * replaced, and a flood afterwards succeeds entirely on re-pinned hosts.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRuntime, type HttpResult, type Runtime, type RuntimeOptions } from '../../dist/src/index.js';
import { allWithin, workersReady } from '../fixtures/bounded.js';
import { byPrefix, rawGate } from '../fixtures/raw-behaviours.js';
import { startRawServer } from '../fixtures/raw-server.js';
import { settle, waitUntil, type Settled } from '../fixtures/wait.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const fault = (name: string): string => fileURLToPath(new URL(`../fixtures/faults/${name}.mjs`, import.meta.url));
const TRANSFORMS = { exit: fault('exit'), uncaught: fault('uncaught'), allocate: fault('allocate') };
const GETS = 200;
const POSTS = 50;

interface Flood {
  readonly gets: Promise<Settled<HttpResult>>[];
  readonly posts: Promise<Settled<HttpResult>>[];
}

function flood(runtime: Runtime, origin: string, tag: string): Flood {
  const gets: Promise<Settled<HttpResult>>[] = [];
  const posts: Promise<Settled<HttpResult>>[] = [];
  // Interleaved, so both kinds sit on both workers.
  for (let i = 0; i < GETS + POSTS; i++) {
    if (i % 5 === 4)
      posts.push(settle(runtime.run({ url: `${origin}/flood/${tag}/post/${i}`, method: 'POST', body: `p${i}` })));
    else gets.push(settle(runtime.run({ url: `${origin}/flood/${tag}/get/${i}` })));
  }
  return { gets, posts };
}

describe('reliability: a worker dies mid-flood', () => {
  const track = closeAfterEach();

  async function faultMidFlood(transform: keyof typeof TRANSFORMS, extra: Partial<RuntimeOptions> = {}): Promise<void> {
    const gate = rawGate();
    const server = track(await startRawServer(byPrefix({ flood: gate.behaviour })));
    // Cap above the flood: all 250 jobs hold a connection at once, none waits in the coordinator.
    const runtime = track(
      createRuntime({
        workers: 2,
        connectionsPerHost: 300,
        policy: { allow: ['127.0.0.1'] },
        transforms: TRANSFORMS,
        ...extra,
      }),
    );
    // Both workers up before the flood, so it spreads over both and the fault hits one carrying jobs.
    await workersReady(runtime);

    const first = flood(runtime, server.origin, 'first');
    await waitUntil(() => gate.held === GETS + POSTS, `the server to hold all ${GETS + POSTS} flood requests`);
    const during = await runtime.stats();
    expect(during.totals.running).toBe(GETS + POSTS);
    expect(during.workers.every((w) => w.inFlight > 0)).toBe(true);

    // Not safe to repeat (POST), so the fault strikes exactly once.
    const faultJob = await settle(runtime.run({ url: `${server.origin}/fault`, method: 'POST', body: 'f', transform }));
    expect(faultJob.ok).toBe(false);
    if (!faultJob.ok) expect(faultJob.error.code).toBe('FLOWPOOL_WORKER_CRASHED');

    gate.release();
    const gets = await allWithin(first.gets, 'GETs of the first flood');
    const posts = await allWithin(first.posts, 'POSTs of the first flood');
    const resolved = [...gets, ...posts].filter((o) => o.ok).length;
    const rejected = [...gets, ...posts].filter((o) => !o.ok).length;
    expect(resolved + rejected).toBe(GETS + POSTS);

    const attempts = new Map<number, number>();
    for (const outcome of gets) {
      expect(outcome.ok).toBe(true);
      if (!outcome.ok) continue;
      expect(outcome.value.status).toBe(200);
      attempts.set(outcome.value.attempts, (attempts.get(outcome.value.attempts) ?? 0) + 1);
    }
    expect([...attempts.keys()].every((a) => a === 1 || a === 2)).toBe(true);
    // The fault hit a worker carrying flood jobs: some GETs ran again on the replacement.
    expect(attempts.get(2) ?? 0).toBeGreaterThan(0);

    let postsCrashed = 0;
    for (const outcome of posts) {
      if (outcome.ok) expect(outcome.value.status).toBe(200);
      else {
        expect(outcome.error.code).toBe('FLOWPOOL_WORKER_CRASHED');
        postsCrashed++;
      }
    }

    // Counted at the server: no POST twice, no GET more than twice, every rerun GET arrived again.
    const seen = [...server.byPath].filter(([path]) => path.startsWith('/flood/first/'));
    expect(seen.filter(([path, n]) => path.includes('/post/') && n > 1)).toEqual([]);
    expect(seen.filter(([, n]) => n > 2)).toEqual([]);
    expect(seen.filter(([path, n]) => path.includes('/get/') && n === 2).length).toBe(attempts.get(2) ?? 0);

    const after = await runtime.stats();
    expect(after.totals.workerRestarts).toBeGreaterThanOrEqual(1);
    expect(after.totals.rerunsAfterCrash).toBe(attempts.get(2) ?? 0);
    expect(after.totals.failedByCode.FLOWPOOL_WORKER_CRASHED).toBe(postsCrashed + 1);

    // The replacement boots; the flood goes on: everything succeeds on its first run, over both
    // workers (the replacement serves), on hosts homed on live workers.
    await workersReady(runtime);
    const second = flood(runtime, server.origin, 'second');
    const workersUsed = new Set<number>();
    for (const outcome of await allWithin([...second.gets, ...second.posts], 'jobs of the flood after the fault')) {
      expect(outcome.ok).toBe(true);
      if (outcome.ok) {
        expect(outcome.value.status).toBe(200);
        expect(outcome.value.attempts).toBe(1);
        workersUsed.add(outcome.value.worker);
      }
    }
    expect(workersUsed.size).toBe(2);
    const final = await runtime.stats();
    expect(final.hosts.find((h) => h.origin === server.origin)?.homeWorker).toBeGreaterThanOrEqual(0);
    expect(final.totals.running).toBe(0);
    expect(final.totals.queued).toBe(0);
    expect(final.totals.succeeded + final.totals.failed).toBe(final.totals.submitted);
  }

  it('process.exit() in the worker', async () => {
    await faultMidFlood('exit');
  }, 60_000);

  it('an uncaught exception thrown from a timer in the worker', async () => {
    await faultMidFlood('uncaught');
  }, 60_000);

  it('the worker heap limit (workerResourceLimits.maxOldGenerationSizeMb 24)', async () => {
    await faultMidFlood('allocate', { workerResourceLimits: { maxOldGenerationSizeMb: 24 } });
  }, 60_000);
});
