/**
 * `connectionsPerHost` counts every profile's sockets to an origin: the server does not care which profile a
 * socket belongs to. Two profiles to one origin, cap 2, counted at the server (connections open at once).
 * The idle sockets of one profile give way to the other's jobs instead of holding the cap until their
 * keep-alive ends.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const CAP = 2;

describe('profiles: the per-host cap across profiles', () => {
  const track = closeAfterEach();

  it('holds connectionsPerHost across two profiles to the same origin', async () => {
    // Answers in pairs: a request waits until a second one is in, so the cap is reached in every round.
    const waiting: ServerResponse[] = [];
    // Connections open when each request arrives. A socket the client closed counts until its FIN is read
    // (its 'close' comes a turn later), so a unit given back and taken again by a new dial is not counted twice.
    const live = new Set<Socket>();
    let peakLive = 0;
    const server = track(
      await startCountingServer((req, res) => {
        peakLive = Math.max(peakLive, live.size);
        waiting.push(res);
        if (waiting.length >= CAP) for (const held of waiting.splice(0)) held.end(String(req.headers['x-profile']));
      }),
    );
    server.server.on('connection', (socket: Socket) => {
      live.add(socket);
      const gone = (): boolean => live.delete(socket);
      socket.once('end', gone).once('close', gone);
    });
    const runtime = track(
      createRuntime({
        workers: 2,
        policy: LOOPBACK,
        connectionsPerHost: CAP,
        profiles: { a: { headers: { 'x-profile': 'a' } }, b: { headers: { 'x-profile': 'b' } } },
      }),
    );
    const jobs = Array.from({ length: 20 }, (_, i) =>
      runtime.run({ url: `${server.origin}/job/${i}`, profile: i % 2 === 0 ? 'a' : 'b' }),
    );
    const results = await Promise.all(jobs);
    expect(results.every((result) => result.status === 200)).toBe(true);
    expect(server.requests).toBe(20);
    expect(peakLive).toBeLessThanOrEqual(CAP);

    // Both units held by profile a's sockets, idle once its jobs are done: profile b's jobs get through at
    // once (a's idle sockets close and give their units back), not after a's keep-alive ends.
    const pair = (profile: string): Promise<unknown> =>
      Promise.all(
        [0, 1].map((i) => runtime.run({ url: `${server.origin}/${profile}/${i}`, profile, timeoutMs: 5_000 })),
      );
    await pair('a');
    await pair('b');
    await pair('a');
    expect(server.requests).toBe(26);
    expect(peakLive).toBeLessThanOrEqual(CAP);
  });
});
