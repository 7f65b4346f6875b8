/**
 * The `flowpool:request:*` diagnostics channels: one start and one end (or error) per request a worker was
 * given, checked against what the loopback server saw and against the results' own timings.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { closedPort, startScriptedServer } from '../fixtures/traffic-server.js';
import { settle } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const CHANNELS = ['flowpool:request:start', 'flowpool:request:end', 'flowpool:request:error'] as const;

interface Event {
  readonly channel: (typeof CHANNELS)[number];
  readonly message: Record<string, unknown>;
}

describe('request channels', () => {
  const track = closeAfterEach();
  const events: Event[] = [];
  const listeners = CHANNELS.map(
    (channel) =>
      [channel, (message: unknown) => events.push({ channel, message: message as Record<string, unknown> })] as const,
  );
  const subscribeAll = (): void => {
    for (const [channel, listener] of listeners) subscribe(channel, listener);
  };
  const on = (channel: Event['channel']) => events.filter((e) => e.channel === channel).map((e) => e.message);

  afterEach(() => {
    for (const [channel, listener] of listeners) unsubscribe(channel, listener);
    events.length = 0;
  });

  it('one start and one end per request, with status and timings', async () => {
    const server = track(await startScriptedServer(() => ({ status: 200 })));
    const runtime = track(createRuntime({ workers: 2, policy: LOOPBACK }));
    subscribeAll();
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        runtime.run({ url: `${server.origin}/item/${i}?token=secret`, id: `job-${i}`, tenant: 'acme' }),
      ),
    );
    expect(server.requests).toBe(5);
    const starts = on('flowpool:request:start');
    const ends = on('flowpool:request:end');
    expect(starts).toHaveLength(5);
    expect(ends).toHaveLength(5);
    expect(on('flowpool:request:error')).toEqual([]);
    for (const [i, result] of results.entries()) {
      const end = ends.find((m) => m.jobId === `job-${i}`);
      const start = starts.find((m) => m.jobId === `job-${i}`);
      const common = {
        jobId: `job-${i}`,
        origin: server.origin,
        method: 'GET',
        path: `/item/${i}`,
        worker: result.worker,
        attempt: 1,
        tenant: 'acme',
        profile: undefined,
      };
      expect(start).toEqual({ id: end?.id, ...common });
      expect(end).toEqual({ id: start?.id, ...common, status: 200, timings: result.timings });
      expect(Object.keys(end ?? {})).toContain('profile');
    }
  });

  it("names the job's profile (plain and fully parsed jobs alike), and none for the runtime's own", async () => {
    const server = track(await startScriptedServer(() => ({ status: 200 })));
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, profiles: { partner: { headers: { 'x-partner': '1' } } } }),
    );
    subscribeAll();
    await runtime.run({ url: `${server.origin}/plain`, profile: 'partner', id: 'plain' });
    await runtime.run({ url: `${server.origin}/full`, profile: 'partner', id: 'full', json: { a: 1 }, method: 'POST' });
    await runtime.run({ url: `${server.origin}/own`, id: 'own' });
    expect(server.requests).toBe(3);
    const profiles = (channel: Event['channel']) => on(channel).map((m) => [m.jobId, m.profile]);
    const expected = [
      ['plain', 'partner'],
      ['full', 'partner'],
      ['own', undefined],
    ];
    expect(profiles('flowpool:request:start')).toEqual(expected);
    expect(profiles('flowpool:request:end')).toEqual(expected);
  });

  it('a retried job (503, then 200): two start/end pairs, one per attempt', async () => {
    const server = track(await startScriptedServer((n) => ({ status: n === 1 ? 503 : 200 })));
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, retry: { attempts: 2, minDelayMs: 1, maxDelayMs: 2 } }),
    );
    subscribeAll();
    const result = await runtime.run({ url: `${server.origin}/flaky` });
    expect(result.attempts).toBe(2);
    expect(server.requests).toBe(2);
    expect(events.map((e) => [e.channel, e.message.attempt, e.message.status])).toEqual([
      ['flowpool:request:start', 1, undefined],
      ['flowpool:request:end', 1, 503],
      ['flowpool:request:start', 2, undefined],
      ['flowpool:request:end', 2, 200],
    ]);
    const [first, second] = on('flowpool:request:end') as { timings: { queuedMs: number; totalMs: number } }[];
    // The second request was dispatched after the first ended: its queue time counts from the job's submission.
    expect(second?.timings.queuedMs).toBeGreaterThanOrEqual(first?.timings.totalMs ?? Infinity);
    expect(second?.timings).toEqual(result.timings);
  });

  it('a redirect to another origin: its hop is a request of its own, the first ends without a status', async () => {
    const target = track(await startScriptedServer(() => ({ status: 200 })));
    const source = track(
      await startScriptedServer(() => ({ status: 302, headers: { location: `${target.origin}/landed?x=1` } })),
    );
    const runtime = track(createRuntime({ workers: 2, policy: LOOPBACK }));
    subscribeAll();
    const result = await runtime.run({ url: `${source.origin}/moved` });
    expect(result.status).toBe(200);
    expect(source.requests + target.requests).toBe(2);
    expect(
      events.map((e) => [e.channel, e.message.origin, e.message.path, e.message.attempt, e.message.status]),
    ).toEqual([
      ['flowpool:request:start', source.origin, '/moved', 1, undefined],
      ['flowpool:request:end', source.origin, '/moved', 1, undefined],
      ['flowpool:request:start', target.origin, '/landed', 1, undefined],
      ['flowpool:request:end', target.origin, '/landed', 1, 200],
    ]);
  });

  it('a refused connection: start, then error with its code', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, retry: { attempts: 1 } }));
    subscribeAll();
    const outcome = await settle(runtime.run({ url: `${down}/x?q=1` }));
    expect(outcome.ok ? 'resolved' : outcome.error.code).toBe('FLOWPOOL_CONNECTION_FAILED');
    expect(events.map((e) => e.channel)).toEqual(['flowpool:request:start', 'flowpool:request:error']);
    const [error] = on('flowpool:request:error');
    expect(error).toMatchObject({ origin: down, path: '/x', attempt: 1, code: 'FLOWPOOL_CONNECTION_FAILED' });
    expect(error?.timings).toMatchObject({ headersMs: undefined });
  });
});
