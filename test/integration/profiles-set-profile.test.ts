/**
 * `runtime.setProfile` while running (credential rotation): the next job carries the new settings, a job in
 * flight finishes on the old ones, the replaced dispatcher's connection closes once it is idle, and a worker
 * started after a crash is told every profile as last set. Counted at a loopback server: the headers of every
 * request, and the connections open.
 */
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer, startHeaderRecorder } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { settle, waitUntil } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
/** A transform that ends its worker thread (test/fixtures/faults). */
const EXIT_TRANSFORM = fileURLToPath(new URL('../fixtures/faults/exit.mjs', import.meta.url));

describe('profiles: setProfile', () => {
  const track = closeAfterEach();

  it('changes a header between two jobs', async () => {
    const { server, values: keys } = await startHeaderRecorder('x-key');
    track(server);
    const runtime = track(
      createRuntime({ workers: 2, policy: LOOPBACK, profiles: { tenant: { headers: { 'x-key': 'one' } } } }),
    );
    await runtime.run({ url: `${server.origin}/first`, profile: 'tenant' });
    await runtime.setProfile('tenant', { headers: { 'x-key': 'two' } });
    await runtime.run({ url: `${server.origin}/second`, profile: 'tenant' });
    // A profile added while running works at once too; the runtime's own jobs carry neither header.
    await runtime.setProfile('other', { headers: { 'x-key': 'three' } });
    await runtime.run({ url: `${server.origin}/third`, profile: 'other' });
    await runtime.run({ url: `${server.origin}/plain` });
    expect(keys).toEqual(['one', 'two', 'three', undefined]);
  });

  it('rotates a hostAuth credential between two jobs', async () => {
    const seen: (string | undefined)[] = [];
    const server = track(
      await startCountingServer((req, res) => {
        seen.push(req.headers.authorization);
        res.end('ok');
      }),
    );
    // Plain HTTP on loopback: the key names http:// so the credential may go in clear.
    const key = `http://127.0.0.1:${server.port}`;
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, profiles: { api: { hostAuth: { [key]: { bearer: 'old' } } } } }),
    );
    await runtime.run({ url: `${server.origin}/a`, profile: 'api' });
    await runtime.setProfile('api', { hostAuth: { [key]: { bearer: 'new' } } });
    await runtime.run({ url: `${server.origin}/b`, profile: 'api' });
    await runtime.run({ url: `${server.origin}/c` });
    expect(seen).toEqual(['Bearer old', 'Bearer new', undefined]);
  });

  it('a worker started after a crash knows every profile as last set', async () => {
    const { server, values: keys } = await startHeaderRecorder('x-key');
    track(server);
    // The runtime's own policy refuses loopback: only the profile's, in the new worker too, lets jobs through.
    const runtime = track(
      createRuntime({
        workers: 1,
        transforms: { exit: EXIT_TRANSFORM },
        profiles: { p: { policy: LOOPBACK, headers: { 'x-key': 'before' } } },
      }),
    );
    await runtime.setProfile('p', { policy: LOOPBACK, headers: { 'x-key': 'after' } });
    // A POST is not repeated: the crash happens once.
    const crashed = await settle(
      runtime.run({ url: `${server.origin}/crash`, method: 'POST', transform: 'exit', profile: 'p' }),
    );
    expect(crashed.ok ? 'succeeded' : crashed.error.code).toBe('FLOWPOOL_WORKER_CRASHED');
    const after = await runtime.run({ url: `${server.origin}/after`, profile: 'p' });
    expect(after.status).toBe(200);
    expect(keys).toEqual(['after', 'after']);
  });

  it('lets a job in flight finish on the old settings and closes the old connection once idle', async () => {
    const held: ServerResponse[] = [];
    const keys: (string | undefined)[] = [];
    const server = track(
      await startCountingServer((req, res) => {
        keys.push(req.headers['x-key'] as string | undefined);
        if (req.url === '/slow') held.push(res);
        else res.end('ok');
      }),
    );
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, profiles: { rotating: { headers: { 'x-key': 'old' } } } }),
    );
    const slow = runtime.run({ url: `${server.origin}/slow`, profile: 'rotating' });
    await waitUntil(() => held.length === 1, 'the slow request to arrive');
    await runtime.setProfile('rotating', { headers: { 'x-key': 'new' } });
    const fresh = await runtime.run({ url: `${server.origin}/fresh`, profile: 'rotating' });
    expect(fresh.status).toBe(200);
    // The new settings have a dispatcher of their own: a second connection while the old one is busy.
    expect(server.connections).toBe(2);
    held[0]?.end('done');
    const finished = await slow;
    expect(finished.body).toBe('done');
    expect(keys).toEqual(['old', 'new']);
    // The old dispatcher has no job left: its kept-alive socket closes; the new one's stays.
    await waitUntil(() => server.open === 1, 'the replaced profile’s idle connection to close');
    await runtime.run({ url: `${server.origin}/reuse`, profile: 'rotating' });
    expect(server.connections).toBe(2);
  });
});
