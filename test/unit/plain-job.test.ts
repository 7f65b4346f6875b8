/**
 * The plain-job fast path (src/job/plain-job.ts) against the full parser (src/job/job.ts): for every input,
 * either the fast path declines it (the full parser decides), or both give the same normalised job. The fast
 * path never accepts what the full parser refuses.
 */
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../dist/src/config/options.js';
import { normalizeJob } from '../../dist/src/job/job.js';
import { PlainJobs } from '../../dist/src/job/plain-job.js';
import { DestinationPolicy } from '../../dist/src/policy/index.js';

const options = parseOptions({
  workers: 1,
  policy: { allow: ['127.0.0.1'] },
  hostAuth: { '127.0.0.1': { bearer: 't' } },
});
const plain = new PlainJobs(options, DestinationPolicy.compile(options.policy));

function hidden(): Record<string, unknown> {
  const job: Record<string, unknown> = { url: 'http://127.0.0.1:9/h' };
  Object.defineProperty(job, 'method', { value: 'DELETE', enumerable: false });
  return job;
}

const INPUTS: readonly [string, () => unknown][] = [
  ['a bare GET', () => ({ url: 'http://127.0.0.1:9/a?b=1' })],
  [
    'method in lower case, headers of mixed case',
    () => ({ url: 'http://127.0.0.1:9/', method: 'post', headers: { 'X-A': '1', 'user-agent': 'mine' } }),
  ],
  [
    'json response, deadline, id, tenant',
    () => ({ url: 'https://127.0.0.1:9/', responseType: 'json', timeoutMs: 5, id: 'j', tenant: 't' }),
  ],
  ['an unknown key that is undefined', () => ({ url: 'http://127.0.0.1:9/', fooo: undefined })],
  ['an unknown key', () => ({ url: 'http://127.0.0.1:9/', fooo: 1 })],
  ['a refused header', () => ({ url: 'http://127.0.0.1:9/', headers: { host: 'x' } })],
  ['a header value with a control character', () => ({ url: 'http://127.0.0.1:9/', headers: { a: 'b\u0001' } })],
  ['a numeric header value', () => ({ url: 'http://127.0.0.1:9/', headers: { a: 1 } })],
  [
    'a JSON-parsed __proto__ header',
    () => JSON.parse('{"url":"http://127.0.0.1:9/","headers":{"__proto__":"x"}}') as unknown,
  ],
  ['a non-enumerable method', hidden],
  ['credentials in the URL', () => ({ url: 'http://u:p@127.0.0.1:9/' })],
  ['a deadline of 0', () => ({ url: 'http://127.0.0.1:9/', timeoutMs: 0 })],
  ['TRACE', () => ({ url: 'http://127.0.0.1:9/', method: 'TRACE' })],
  ['a dot segment', () => ({ url: 'http://127.0.0.1:9/a/../b' })],
  ['a hex IPv4 host and a default port', () => ({ url: 'http://0x7f.0.0.1:80/x?y' })],
  ['a query without a path', () => ({ url: 'http://127.0.0.1:9?x=1' })],
  ['characters the parser encodes', () => ({ url: 'http://127.0.0.1:9/a b"c?d e' })],
];

/**
 * URLs whose rest the fast path takes as written, and URLs it must parse whole: either way, what it keeps
 * (href, origin, hostname, path) must be what the WHATWG parser says.
 */
const URLS: readonly string[] = [
  'http://127.0.0.1:9/a?b=1',
  'http://127.0.0.1:9',
  'http://127.0.0.1:9?x=1',
  'http://127.0.0.1:80/x',
  'https://127.0.0.1:443/x',
  'http://0x7f.0.0.1:9/x',
  'http://127.1:9/x',
  'http://127.0.0.1:/x',
  'http://127.0.0.1:9 ',
  'http://127.0.0.1:9/a/../b',
  'http://127.0.0.1:9/a/./b',
  'http://127.0.0.1:9/a/%2e%2E/b',
  'http://127.0.0.1:9/.well-known/x',
  'http://127.0.0.1:9/a?x=/../y',
  'http://127.0.0.1:9/a b"c<d>?e f\'g',
  'http://127.0.0.1:9/a#frag',
  'http://127.0.0.1:9\\a\\b',
  'http://127.0.0.1:9/a\tb',
  'http:///127.0.0.1:9/x',
  'http://127.0.0.1:9/a%20b?q=%zz',
  'http://127.0.0.1:9/é?ü',
  'http://127.0.0.1:9/{a}^`|',
  'http://127.0.0.1:9/a!$&()*+,;=:@~-_.b?c/d?e',
  'http://[::1]:9/x?y',
  'http://[0:0::1]:9/x',
];

describe("plain jobs: the URL kept is the WHATWG parser's", () => {
  const loose = parseOptions({ workers: 1, policy: { allow: ['127.0.0.0/8', '::1'] } });
  const fast = new PlainJobs(loose, DestinationPolicy.compile(loose.policy));
  it.each(URLS)('%s', (text) => {
    const url = new URL(text);
    // Twice: the second time the prefix's facts come from the table.
    for (let i = 0; i < 2; i++) {
      const job = fast.normalize({ url: text });
      expect(job === undefined ? undefined : [job.href, job.origin, job.hostname, job.path]).toEqual([
        url.href,
        url.origin,
        url.hostname,
        `${url.pathname}${url.search}`,
      ]);
    }
  });
});

function outcome(run: () => unknown): { ok: true; value: unknown } | { ok: false; code: string; field: unknown } {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    const e = error as { code: string; details: { field?: unknown } };
    return { ok: false, code: e.code, field: e.details.field };
  }
}

describe('plain jobs: the fast path agrees with the full parser', () => {
  it.each(INPUTS)('%s', (_name, input) => {
    const full = outcome(() => normalizeJob(input(), options));
    const fast = outcome(() => plain.normalize(input()));
    if (fast.ok && fast.value === undefined) return; // declined: the full parser decides
    expect(full.ok).toBe(true);
    expect(fast).toEqual(full);
  });

  it('takes a job naming a profile with the profile’s headers and policy, as the full parser does', () => {
    const profileOptions = { ...options, headers: { 'x-p': '1' }, hostAuth: {} };
    const profilePolicy = DestinationPolicy.compile({ allow: ['127.0.0.1', '10.0.0.0/8'] });
    const profile = { index: 3, defaults: profileOptions, plain: new PlainJobs(profileOptions, profilePolicy) };
    const withProfiles = new PlainJobs(options, DestinationPolicy.compile(options.policy), (name) =>
      name === 'p' ? profile : undefined,
    );
    const fullDefaults = { ...options, profileNamed: (name: string) => (name === 'p' ? profile : undefined) };
    for (const input of [
      { url: 'http://127.0.0.1:9/', profile: 'p' },
      { url: 'https://127.0.0.1:9/x', profile: 'p', headers: { 'X-A': '1', 'x-p': 'own' }, tenant: 't' },
    ]) {
      const fast = withProfiles.normalize(input);
      expect(fast?.profile).toBe(3);
      expect(fast).toEqual(normalizeJob(input, fullDefaults));
    }
    // The profile's own header, not the runtime's credentials (its hostAuth is empty).
    expect(withProfiles.normalize({ url: 'https://127.0.0.1:9/', profile: 'p' })?.headers).toEqual(
      normalizeJob({ url: 'https://127.0.0.1:9/', profile: 'p' }, fullDefaults).headers,
    );
    expect(withProfiles.normalize({ url: 'https://127.0.0.1:9/', profile: 'p' })?.headers).not.toContain(
      'authorization',
    );
    // Judged by the profile's policy: 10.1.2.3 is allowed there and refused by the runtime's.
    expect(withProfiles.normalize({ url: 'http://10.1.2.3/', profile: 'p' })?.profile).toBe(3);
    expect(() => withProfiles.normalize({ url: 'http://10.1.2.3/' })).toThrow(/destination blocked/);
    // An unknown name, or any profile without a lookup, is the full parser's to refuse.
    expect(withProfiles.normalize({ url: 'http://127.0.0.1:9/', profile: 'nope' })).toBeUndefined();
    expect(plain.normalize({ url: 'http://127.0.0.1:9/', profile: 'p' })).toBeUndefined();
    expect(plain.normalize({ url: 'http://127.0.0.1:9/' })?.profile).toBe(0);
  });

  it('takes the common shapes (so the fast path is really used)', () => {
    expect(plain.normalize({ url: 'http://127.0.0.1:9/a' })).toBeDefined();
    expect(plain.normalize({ url: 'http://127.0.0.1:9/', method: 'post', headers: { 'X-A': '1' } })).toBeDefined();
  });
});
