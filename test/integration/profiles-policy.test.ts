/**
 * A profile's policy judges its jobs: on the caller's thread before anything is queued, at the dial in the
 * worker, and on every redirect hop (one to another origin too, which the coordinator dispatches under the
 * same profile). Counted at loopback servers: a refused destination sees no connection at all.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { settle } from '../fixtures/wait.js';

describe('profiles: the policy is the profile’s', () => {
  const track = closeAfterEach();

  it('a profile allowing loopback reaches a server the runtime refuses: 0 connections without it, 200 with it', async () => {
    const server = track(await startCountingServer());
    const runtime = track(
      createRuntime({ workers: 1, profiles: { internal: { policy: { allow: ['127.0.0.0/8'] } } } }),
    );
    const refused = await settle(runtime.run({ url: `${server.origin}/outside` }));
    expect(refused.ok ? 'succeeded' : refused.error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    expect(server.connections).toBe(0);

    const allowed = await runtime.run({ url: `${server.origin}/inside`, profile: 'internal' });
    expect(allowed.status).toBe(200);
    expect(server.connections).toBe(1);
    expect(server.requests).toBe(1);

    // The runtime's own jobs are still refused after the profile's ran (no verdict leaks across profiles).
    const again = await settle(runtime.run({ url: `${server.origin}/outside-again` }));
    expect(again.ok ? 'succeeded' : again.error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    expect(server.requests).toBe(1);
  });

  it('a redirect to another origin under a profile is judged by that profile’s policy', async () => {
    const target = track(await startCountingServer());
    const start = track(
      await startCountingServer((_req, res) => {
        res.writeHead(302, { location: `http://target.test:${target.port}/landed` }).end();
      }),
    );
    const runtime = track(
      createRuntime({
        workers: 2,
        resolve: { 'start.test': ['127.0.0.1'], 'target.test': ['127.0.0.1'] },
        // The runtime allows only the first hop; profile `wide` allows the redirect's target too, `narrow`
        // allows what the runtime does.
        policy: { allow: ['start.test'] },
        profiles: {
          wide: { policy: { allow: ['start.test', 'target.test'] } },
          narrow: { policy: { allow: ['start.test'] } },
        },
      }),
    );
    const url = `http://start.test:${start.port}/go`;
    const refused = await Promise.all([settle(runtime.run({ url })), settle(runtime.run({ url, profile: 'narrow' }))]);
    for (const outcome of refused)
      expect(outcome.ok ? 'succeeded' : outcome.error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    expect(start.requests).toBe(2);
    expect(target.connections).toBe(0);

    const followed = await runtime.run({ url, profile: 'wide' });
    expect(followed.status).toBe(200);
    expect(followed.url).toBe(`http://target.test:${target.port}/landed`);
    expect(target.requests).toBe(1);
  });
});
