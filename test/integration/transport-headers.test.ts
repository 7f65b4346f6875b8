/**
 * Default headers and auth: user-agent and accept-encoding by default (and the decoders answering them),
 * runtime `headers` and `hostHeaders` under the job's own, `auth` per job and `hostAuth` per pattern, never
 * sent to another origin on a redirect, and URL credentials refused with a pointer to `auth`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { settle } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8', 'localhost'] };

/** A server that records each request's headers and answers gzip when asked. */
async function recordingServer(seen: IncomingHttpHeaders[], redirectTo?: () => string) {
  return startCountingServer((req, res) => {
    seen.push(req.headers);
    if (redirectTo !== undefined && req.url === '/hop') {
      res.writeHead(302, { location: redirectTo() });
      res.end();
      return;
    }
    const body = Buffer.from('hello hello hello');
    if ((req.headers['accept-encoding'] ?? '').includes('gzip') || req.url === '/gzip-anyway') {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end(gzipSync(body));
    } else res.end(body);
  });
}

describe('transport: default headers and auth', () => {
  const track = closeAfterEach();

  it('sends user-agent flowpool/<version> and accept-encoding, decodes the answer; decompress false sends none and returns raw bytes', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = track(await recordingServer(seen));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    const result = await runtime.run({ url: `${server.origin}/` });
    expect(result.body).toBe('hello hello hello');
    expect(seen[0]?.['user-agent']).toMatch(/^flowpool\/\d+\.\d+\.\d+/);
    expect(seen[0]?.['accept-encoding']).toBe('gzip, deflate, br');
    const raw = await runtime.run({
      url: `${server.origin}/gzip-anyway`,
      decompress: false,
      responseType: 'bytes',
      headers: { 'User-Agent': 'mine/1' },
    });
    expect(seen[1]?.['accept-encoding']).toBeUndefined();
    expect(seen[1]?.['user-agent']).toBe('mine/1');
    // The server compresses regardless; with decompress: false the bytes come back as sent.
    expect(gunzipSync(raw.body).toString()).toBe('hello hello hello');
  });

  it('merges runtime headers and hostHeaders under the job headers', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = track(await recordingServer(seen));
    const runtime = track(
      createRuntime({
        workers: 1,
        policy: LOOPBACK,
        headers: { 'x-team': 'core', 'x-env': 'prod', 'user-agent': 'engine/2' },
        hostHeaders: { '127.0.0.1': { 'x-env': 'loopback' }, 'other.example': { 'x-never': 'sent' } },
      }),
    );
    await runtime.run({ url: `${server.origin}/`, headers: { 'x-team': 'job' } });
    expect(seen[0]).toMatchObject({ 'x-team': 'job', 'x-env': 'loopback', 'user-agent': 'engine/2' });
    expect(seen[0]?.['x-never']).toBeUndefined();
  });

  it('sends auth (basic, bearer, hostAuth) and drops it on a redirect to another origin', async () => {
    const seenB: IncomingHttpHeaders[] = [];
    const serverB = track(await recordingServer(seenB));
    const seenA: IncomingHttpHeaders[] = [];
    const serverA = track(await recordingServer(seenA, () => `${serverB.origin}/landed`));
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, hostAuth: { 'http://127.0.0.1': { bearer: 'host-token' } } }),
    );
    await runtime.run({ url: `${serverA.origin}/`, auth: { username: 'ann', password: 'pw' } });
    expect(seenA[0]?.authorization).toBe(`Basic ${Buffer.from('ann:pw').toString('base64')}`);
    await runtime.run({ url: `${serverA.origin}/`, auth: { bearer: 'job-token' } });
    expect(seenA[1]?.authorization).toBe('Bearer job-token');
    await runtime.run({ url: `${serverA.origin}/` });
    expect(seenA[2]?.authorization).toBe('Bearer host-token');

    // serverB listens on another port: another origin. The redirect to it carries no credentials.
    const redirected = await runtime.run({ url: `${serverA.origin}/hop`, auth: { bearer: 'job-token' } });
    expect(redirected.status).toBe(200);
    expect(seenA[3]?.authorization).toBe('Bearer job-token');
    expect(seenB).toHaveLength(1);
    expect(seenB[0]?.authorization).toBeUndefined();
  });

  it('refuses URL credentials with a pointer to auth, without echoing them', async () => {
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    const outcome = await settle(runtime.run({ url: 'http://ann:topsecret@127.0.0.1:9/' }));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.message).toContain('auth');
    expect(outcome.error.message).not.toContain('topsecret');
    const both = await settle(
      runtime.run({ url: 'http://127.0.0.1:9/', auth: { bearer: 't' }, headers: { authorization: 'Bearer x' } }),
    );
    expect(both.ok ? undefined : both.error.code).toBe('FLOWPOOL_INVALID_JOB');
  });
});
