/**
 * Bad profiles and bad profile names are refused before anything is sent, naming the field: an invalid
 * ProfileSettings in createRuntime or setProfile is FLOWPOOL_INVALID_OPTIONS (`options.profiles.<name>...`,
 * and setProfile then changes nothing); a job naming a profile the runtime does not know is
 * FLOWPOOL_INVALID_JOB (`job.profile`). Counted at a loopback server: refused jobs never arrive.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, type ProfileSettings } from '../../dist/src/index.js';
import { startCountingServer, startHeaderRecorder } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { settle } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

function thrownBy(create: () => unknown): { code?: string; message: string; details?: Record<string, unknown> } {
  try {
    create();
  } catch (error) {
    return error as { code?: string; message: string; details?: Record<string, unknown> };
  }
  throw new Error('expected createRuntime to throw');
}

describe('profiles: validation', () => {
  const track = closeAfterEach();

  it.each([
    ['a CA that is not PEM', { a: { tls: { ca: 5 } } }, 'options.profiles.a.tls.ca'],
    [
      'a policy entry that is no host',
      { a: { policy: { allow: ['not a host!'] } } },
      'options.profiles.a.policy.allow[0]',
    ],
    ['a proxy that is no URL', { b: { proxy: 'nowhere' } }, 'options.profiles.b.proxy'],
    ['a header value with CR LF', { c: { headers: { 'x-a': 'one\r\ntwo' } } }, 'options.profiles.c.headers.x-a'],
    ['an unknown setting', { d: { tlz: {} } }, 'options.profiles.d.tlz'],
    ['a name that is not one', { 'no spaces': {} }, 'options.profiles.no spaces'],
  ])('createRuntime refuses %s with FLOWPOOL_INVALID_OPTIONS naming the field', (_, profiles, field) => {
    const error = thrownBy(() => createRuntime({ workers: 1, profiles: profiles as never }));
    expect(error.code).toBe('FLOWPOOL_INVALID_OPTIONS');
    expect(error.details?.field).toBe(field);
  });

  it('setProfile refuses invalid settings naming the field and leaves the profile as it was', async () => {
    const { server, values: keys } = await startHeaderRecorder('x-key');
    track(server);
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, profiles: { a: { headers: { 'x-key': 'kept' } } } }),
    );
    const bad = await settle(runtime.setProfile('a', { headers: { 'x-key': 'new' }, tls: { ca: 5 } } as never));
    expect(bad.ok ? 'accepted' : bad.error.code).toBe('FLOWPOOL_INVALID_OPTIONS');
    expect(bad.ok ? undefined : bad.error.details?.field).toBe('options.profiles.a.tls.ca');
    const badName = await settle(runtime.setProfile(5 as never, {} satisfies ProfileSettings));
    expect(badName.ok ? undefined : badName.error.details?.field).toBe('options.profiles');
    const forbidden = await settle(runtime.setProfile('__proto__', {}));
    expect(forbidden.ok ? undefined : forbidden.error.details?.field).toBe('options.profiles.__proto__');
    await runtime.run({ url: `${server.origin}/`, profile: 'a' });
    expect(keys).toEqual(['kept']);
  });

  it('a job naming an unknown profile is FLOWPOOL_INVALID_JOB (job.profile) and is never sent', async () => {
    const server = track(await startCountingServer());
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, profiles: { known: {} } }));
    const unknown = await settle(runtime.run({ url: `${server.origin}/`, profile: 'unknown', id: 'job-7' }));
    expect(unknown.ok ? 'accepted' : unknown.error.code).toBe('FLOWPOOL_INVALID_JOB');
    expect(unknown.ok ? undefined : unknown.error.details).toEqual({ field: 'job.profile', jobId: 'job-7' });
    const notAString = await settle(runtime.run({ url: `${server.origin}/`, profile: 7 as never }));
    expect(notAString.ok ? undefined : notAString.error.details?.field).toBe('job.profile');
    expect(server.connections).toBe(0);
    const known = await runtime.run({ url: `${server.origin}/`, profile: 'known' });
    expect(known.status).toBe(200);
  });
});
