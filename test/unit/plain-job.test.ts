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
];

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

  it('declines a job that names a profile: the full parser looks it up and applies its headers', () => {
    expect(plain.normalize({ url: 'http://127.0.0.1:9/', profile: 'p' })).toBeUndefined();
    const profiled = normalizeJob(
      { url: 'http://127.0.0.1:9/', profile: 'p' },
      {
        ...options,
        profileNamed: (name) => (name === 'p' ? { index: 3, defaults: { headers: { 'x-p': '1' } } } : undefined),
      },
    );
    expect(profiled.profile).toBe(3);
    expect(profiled.headers).toContain('x-p');
    expect(plain.normalize({ url: 'http://127.0.0.1:9/' })?.profile).toBe(0);
  });

  it('takes the common shapes (so the fast path is really used)', () => {
    expect(plain.normalize({ url: 'http://127.0.0.1:9/a' })).toBeDefined();
    expect(plain.normalize({ url: 'http://127.0.0.1:9/', method: 'post', headers: { 'X-A': '1' } })).toBeDefined();
  });
});
