/**
 * Validation at the edges: `createRuntime` options (from the built package, as users call it) and
 * `normalizeJob` (pure, from src). Errors are checked by `code`, the field path and the received value.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { normalizeJob, type JobDefaults } from '../../dist/src/job/job.js';
import { retrySchema } from '../../dist/src/config/options.js';
import { DEFAULT_ACCEPT_ENCODING, DEFAULT_USER_AGENT } from '../../dist/src/job/request-headers.js';

/** What every job carries unless it sets these itself (issue 12). */
const DEFAULT_HEADERS = ['user-agent', DEFAULT_USER_AGENT, 'accept-encoding', DEFAULT_ACCEPT_ENCODING];

interface CodedError {
  readonly code: string;
  readonly message: string;
  readonly details: { readonly field?: string };
}

function thrownBy(fn: () => unknown): CodedError {
  try {
    fn();
  } catch (error) {
    return error as CodedError;
  }
  throw new Error('expected a throw');
}

describe('createRuntime: invalid options', () => {
  const cases: readonly (readonly [string, unknown, string, string])[] = [
    ['workers: 0', { workers: 0 }, 'options.workers', 'received 0'],
    ['workers: "2"', { workers: '2' }, 'options.workers', 'received "2"'],
    ['workers: 1.5', { workers: 1.5 }, 'options.workers', 'received 1.5'],
    ['a bad CIDR in policy.allow', { policy: { allow: ['10.0.0.0/99'] } }, 'options.policy.allow[0]', '"10.0.0.0/99"'],
    ['a non-address in resolve', { resolve: { x: ['not-an-ip'] } }, 'options.resolve.x[0]', '"not-an-ip"'],
    ['balancing: "random"', { balancing: 'random' }, 'options.balancing', '"random"'],
    ['maxQueue: -1', { maxQueue: -1 }, 'options.maxQueue', 'received -1'],
    ['an unknown key', { workerz: 2 }, 'options.workerz', 'did you mean "workers"?'],
    ['an unknown key in policy', { policy: { alow: [] } }, 'options.policy.alow', 'did you mean "allow"?'],
  ];

  for (const [name, options, field, received] of cases) {
    it(`rejects ${name}, naming ${field} and the value`, () => {
      const error = thrownBy(() => createRuntime(options as never));
      expect(error.code).toBe('FLOWPOOL_INVALID_OPTIONS');
      expect(error).toBeInstanceOf(Error);
      expect(error.details.field).toBe(field);
      expect(error.message).toContain(`${field}:`);
      expect(error.message).toContain(received);
    });
  }

  it('rejects a non-object', () => {
    const error = thrownBy(() => createRuntime(42 as never));
    expect(error.code).toBe('FLOWPOOL_INVALID_OPTIONS');
    expect(error.message).toContain('received 42');
  });

  it('fills defaults and keeps what was given', async () => {
    const runtime = createRuntime({ workers: 1, connectionsPerHost: 7 });
    try {
      expect(runtime.options.workers).toBe(1);
      expect(runtime.options.connectionsPerHost).toBe(7);
      expect(runtime.options.balancing).toBe('affinity');
      expect(runtime.options.policy).toEqual({ allow: [], deny: [] });
      expect(runtime.options.workerResourceLimits).toEqual({ maxYoungGenerationSizeMb: 6 });
    } finally {
      await runtime.destroy();
    }
  });

  it("keeps the workers' young-generation default beside other heap limits, and lets it be overridden", async () => {
    const capped = createRuntime({ workers: 1, workerResourceLimits: { maxOldGenerationSizeMb: 64 } });
    const raised = createRuntime({ workers: 1, workerResourceLimits: { maxYoungGenerationSizeMb: 48 } });
    try {
      expect(capped.options.workerResourceLimits).toEqual({ maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 6 });
      expect(raised.options.workerResourceLimits).toEqual({ maxYoungGenerationSizeMb: 48 });
    } finally {
      await Promise.all([capped.destroy(), raised.destroy()]);
    }
  });
});

const DEFAULTS: JobDefaults = {
  timeoutMs: 12_345,
  maxResponseBytes: 777,
  maxRedirects: 3,
  transforms: {},
  retry: retrySchema.parse({}),
};

describe('normalizeJob: invalid jobs', () => {
  const cases: readonly (readonly [string, unknown, string, string | undefined])[] = [
    ['url missing', {}, 'job.url', 'received undefined'],
    ['an ftp: URL', { url: 'ftp://files.example/x' }, 'job.url', '"ftp://files.example/x"'],
    ['not a URL', { url: 'nope' }, 'job.url', '"nope"'],
    ['method CONNECT', { url: 'http://a.example/', method: 'CONNECT' }, 'job.method', '"CONNECT"'],
    ['method trace (any case)', { url: 'http://a.example/', method: 'trace' }, 'job.method', '"trace"'],
    [
      'a header value with CRLF',
      { url: 'http://a.example/', headers: { 'x-a': 'a\r\nInjected: 1' } },
      'job.headers.x-a',
      // A header value is never quoted back (it may be a token): only its kind.
      'received a string of 14 characters (value not shown)',
    ],
    ['a host header', { url: 'http://a.example/', headers: { Host: 'evil.example' } }, 'job.headers.Host', undefined],
    [
      'a content-length header',
      { url: 'http://a.example/', headers: { 'content-length': '5' } },
      'job.headers.content-length',
      undefined,
    ],
    ['body and json', { url: 'http://a.example/', method: 'POST', body: 'x', json: { a: 1 } }, 'job.json', undefined],
    ['a body with HEAD', { url: 'http://a.example/', method: 'HEAD', body: 'x' }, 'job.body', 'HEAD'],
    ['json with HEAD', { url: 'http://a.example/', method: 'HEAD', json: {} }, 'job.body', 'HEAD'],
    ['timeoutMs 0', { url: 'http://a.example/', timeoutMs: 0 }, 'job.timeoutMs', 'received 0'],
    ['an unknown field', { url: 'http://a.example/', retries: 3 }, 'job.retries', 'unknown key "retries"'],
    ['a non-serialisable json', { url: 'http://a.example/', method: 'POST', json: { n: 1n } }, 'job.json', undefined],
    ['an unregistered transform', { url: 'http://a.example/', transform: 'nope' }, 'job.transform', '"nope"'],
    ['null', null, 'job', 'received null'],
    [
      'a body whose ArrayBuffer was transferred away',
      { url: 'http://a.example/', method: 'POST', body: detachedBytes() },
      'job.body',
      'detached',
    ],
  ];

  for (const [name, job, field, received] of cases) {
    it(`rejects ${name}, naming ${field}`, () => {
      const error = thrownBy(() => normalizeJob(job, DEFAULTS));
      expect(error.code).toBe('FLOWPOOL_INVALID_JOB');
      expect(error.details.field).toBe(field);
      expect(error.message).toContain(`${field}:`);
      if (received !== undefined) expect(error.message).toContain(received);
    });
  }

  it("copies a binary body when the job is submitted: later writes to the caller's buffer do not change it", () => {
    const bytes = Buffer.from('original');
    const job = normalizeJob({ url: 'http://a.example/', method: 'POST', body: bytes }, DEFAULTS);
    bytes.write('CHANGED!');
    expect(Buffer.from(job.body as Uint8Array).toString()).toBe('original');
  });

  it('echoes the job id in the error', () => {
    const error = thrownBy(() => normalizeJob({ url: 'nope', id: 'job-7' }, DEFAULTS)) as CodedError & {
      details: { jobId?: string };
    };
    expect(error.details.jobId).toBe('job-7');
  });
});

describe('normalizeJob: valid jobs', () => {
  it('applies the defaults', () => {
    const job = normalizeJob({ url: 'http://a.example:8080/p?q=1' }, DEFAULTS);
    expect(job.method).toBe('GET');
    expect(job.href).toBe('http://a.example:8080/p?q=1');
    expect(job.origin).toBe('http://a.example:8080');
    expect(job.headers).toEqual(DEFAULT_HEADERS);
    expect(job.body).toBeUndefined();
    expect(job.responseType).toBe('text');
    expect(job.timeoutMs).toBe(12_345);
    expect(job.maxResponseBytes).toBe(777);
    expect(job.maxRedirects).toBe(3);
    expect(job.followRedirects).toBe(true);
    expect(job.repeatable).toBe(true);
    expect(job.id).toBeUndefined();
  });

  it('upper-cases the method and lower-cases header names', () => {
    const job = normalizeJob(
      { url: 'https://a.example/', method: 'delete', headers: { 'X-Trace': 'abc', Accept: ['a', 'b'], 'X-N': 5 } },
      DEFAULTS,
    );
    expect(job.method).toBe('DELETE');
    // One rule for retries and crash re-runs: DELETE is idempotent (RFC 9110), so it may run again.
    expect(job.repeatable).toBe(true);
    expect(job.headers).toEqual(['x-trace', 'abc', 'accept', 'a', 'accept', 'b', 'x-n', '5', ...DEFAULT_HEADERS]);
  });

  it('encodes json and sets content-type unless the caller did', () => {
    const job = normalizeJob({ url: 'http://a.example/', method: 'post', json: { a: [1, 2] } }, DEFAULTS);
    expect(job.method).toBe('POST');
    expect(job.body).toBe('{"a":[1,2]}');
    expect(job.headers).toEqual(['content-type', 'application/json', ...DEFAULT_HEADERS]);
    expect(job.repeatable).toBe(false);

    const own = normalizeJob(
      { url: 'http://a.example/', method: 'PUT', json: 1, headers: { 'Content-Type': 'application/vnd.x+json' } },
      DEFAULTS,
    );
    expect(own.headers).toEqual(['content-type', 'application/vnd.x+json', ...DEFAULT_HEADERS]);
    expect(own.body).toBe('1');
  });

  it('keeps what the job sets over the defaults', () => {
    const job = normalizeJob(
      {
        url: 'http://a.example/',
        method: 'POST',
        body: 'raw',
        idempotent: true,
        timeoutMs: 5,
        maxResponseBytes: 9,
        maxRedirects: 0,
        followRedirects: false,
        responseType: 'bytes',
        id: 'j1',
      },
      DEFAULTS,
    );
    expect(job.body).toBe('raw');
    expect(job.repeatable).toBe(true);
    expect(job.timeoutMs).toBe(5);
    expect(job.maxResponseBytes).toBe(9);
    expect(job.maxRedirects).toBe(0);
    expect(job.followRedirects).toBe(false);
    expect(job.responseType).toBe('bytes');
    expect(job.id).toBe('j1');
  });
});

// Regression: a refused header name lost its reason and the message quoted the header's value.
describe('normalizeJob: a refused header names the key and the reason', () => {
  it('quotes the key, says why, and never echoes the value', () => {
    let message = '';
    try {
      normalizeJob({ url: 'http://api.example/', headers: { Host: 'evil.example' } }, DEFAULTS);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('host, connection, content-length');
    expect(message).toContain('"Host"');
    expect(message).not.toContain('evil.example');
  });
});

/** A Uint8Array whose ArrayBuffer has been transferred (to nobody): reading it throws, cloning fails. */
function detachedBytes(): Uint8Array {
  const bytes = new Uint8Array(8);
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
  return bytes;
}
