/**
 * Hostile input at the edges, without threads: every case gives a FlowpoolError with the right code and
 * field, and a message that contains neither the URL credential nor the header value it was given.
 */
import { describe, expect, it } from 'vitest';
import { isFlowpoolError } from '../../dist/src/errors/flowpool-error.js';
import { normalizeJob, type JobDefaults } from '../../dist/src/job/job.js';
import { parseOptions, retrySchema } from '../../dist/src/config/options.js';
import { DEFAULT_ACCEPT_ENCODING, DEFAULT_USER_AGENT } from '../../dist/src/job/request-headers.js';
import { parseRunManyArguments, parseRunOptions } from '../../dist/src/api/run-arguments.js';

/** What every job carries unless it sets these itself. */
const DEFAULT_HEADERS = ['user-agent', DEFAULT_USER_AGENT, 'accept-encoding', DEFAULT_ACCEPT_ENCODING];

const DEFAULTS: JobDefaults = {
  timeoutMs: 60_000,
  maxResponseBytes: 1024,
  maxRedirects: 5,
  transforms: {},
  retry: retrySchema.parse({}),
};
const SECRET = 's3cr3t-hunter2';
const URL_OK = 'http://a.example/';

interface Case {
  readonly name: string;
  readonly input: () => unknown;
  readonly code: 'FLOWPOOL_INVALID_JOB' | 'FLOWPOOL_INVALID_OPTIONS';
  readonly field: string;
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function throwingProxy(trap: keyof ProxyHandler<object>): object {
  return new Proxy(
    { url: URL_OK },
    {
      [trap]: () => {
        throw new Error(SECRET);
      },
    },
  );
}

function expectRefused(error: unknown, code: Case['code'], field: string): void {
  expect(isFlowpoolError(error)).toBe(true);
  if (!isFlowpoolError(error)) return;
  expect(error.code).toBe(code);
  expect(error.details.field).toBe(field);
  expect(error.message).toContain(`${field}:`);
  // Neither the secret nor the credential's user part may be quoted back.
  expect(error.message).not.toContain(SECRET);
  expect(error.message).not.toContain('hunter2');
  expect(JSON.stringify(error.details)).not.toContain(SECRET);
}

const jobCases: readonly Case[] = [
  // URLs with credentials: quoted with the userinfo redacted.
  {
    name: 'an ftp: URL with credentials',
    input: () => ({ url: `ftp://user:${SECRET}@example.com/` }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.url',
  },
  {
    name: 'an unparsable URL with credentials',
    input: () => ({ url: `http://user:${SECRET}@exa mple.com/` }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.url',
  },
  {
    name: 'a password containing "@"',
    input: () => ({ url: `gopher://user:${SECRET}@x@example.com/` }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.url',
  },
  {
    name: 'a URL longer than the quote, credentials past the cut',
    input: () => ({ url: `ftp://${'u'.repeat(70)}:${SECRET}@example.com/` }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.url',
  },
  // Header values undici would refuse in the worker.
  {
    name: 'a DEL in a header value',
    input: () => ({ url: URL_OK, headers: { authorization: `Bearer ${SECRET}\x7f` } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.authorization',
  },
  {
    name: 'a vertical tab in a header value',
    input: () => ({ url: URL_OK, headers: { 'x-token': `${SECRET}\v` } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.x-token',
  },
  {
    name: 'a \\x01 in a header value',
    input: () => ({ url: URL_OK, headers: { 'x-token': `\x01${SECRET}` } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.x-token',
  },
  {
    name: 'U+0100 in a header value',
    input: () => ({ url: URL_OK, headers: { 'x-token': `${SECRET}\u0100` } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.x-token',
  },
  {
    name: 'CRLF in a header value',
    input: () => ({ url: URL_OK, headers: { 'x-token': `${SECRET}\r\nx-injected: 1` } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.x-token',
  },
  {
    name: 'NUL in the second item of a header array',
    input: () => ({ url: URL_OK, headers: { cookie: ['a=1', `b=${SECRET}\0`] } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.cookie[1]',
  },
  // Keys refused by name.
  {
    name: 'a JSON-parsed __proto__ header',
    input: () => JSON.parse(`{"url":"${URL_OK}","headers":{"__proto__":{"x":"${SECRET}"}}}`) as unknown,
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.__proto__',
  },
  {
    name: 'a constructor header',
    input: () => ({ url: URL_OK, headers: { constructor: SECRET } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.constructor',
  },
  {
    name: 'a prototype header',
    input: () => ({ url: URL_OK, headers: { prototype: SECRET } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.prototype',
  },
  {
    name: 'a JSON-parsed __proto__ key on the job',
    input: () => JSON.parse(`{"url":"${URL_OK}","__proto__":{"method":"${SECRET}"}}`) as unknown,
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.__proto__',
  },
  // Objects that fight back while read.
  {
    name: 'a url getter that throws',
    input: () => ({
      get url(): string {
        throw new Error(SECRET);
      },
    }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job',
  },
  {
    name: 'a Proxy whose get trap throws',
    input: () => throwingProxy('get'),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job',
  },
  {
    name: 'a Proxy whose ownKeys trap throws',
    input: () => throwingProxy('ownKeys'),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job',
  },
  {
    name: 'a Proxy whose has trap throws',
    input: () => throwingProxy('has'),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job',
  },
  {
    name: 'a getter that throws a Proxy whose traps throw',
    input: () => ({
      url: URL_OK,
      get method(): string {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- the point: a thrown non-Error that fights back
        throw throwingProxy('get');
      },
    }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job',
  },
  {
    name: 'a json value whose toJSON throws',
    input: () => ({
      url: URL_OK,
      method: 'POST',
      json: {
        toJSON(): never {
          throw new Error('boom');
        },
      },
    }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.json',
  },
  // Not a job at all.
  { name: 'null', input: () => null, code: 'FLOWPOOL_INVALID_JOB', field: 'job' },
  { name: 'a number', input: () => 42, code: 'FLOWPOOL_INVALID_JOB', field: 'job' },
  {
    name: 'a URL string with credentials',
    input: () => `http://user:${SECRET}@a.example/`,
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job',
  },
  {
    name: 'an array of jobs',
    input: () => [{ url: URL_OK, headers: { authorization: SECRET } }],
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job',
  },
  // Header caps (defaults 100 lines, 16384 bytes).
  {
    name: '101 headers',
    input: () => ({
      url: URL_OK,
      headers: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`x-h${String(i)}`, SECRET])),
    }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers',
  },
  {
    name: '104 header lines from two arrays',
    input: () => ({
      url: URL_OK,
      headers: { 'x-a': Array<string>(64).fill(SECRET), 'x-b': Array<string>(40).fill(SECRET) },
    }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers',
  },
  {
    name: '16385 bytes of header lines',
    // "x-a: " + value + CRLF: 3 + 4 + 16378 = 16385 bytes.
    input: () => ({ url: URL_OK, headers: { 'x-a': SECRET + 'v'.repeat(16_378 - SECRET.length) } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers',
  },
];

describe('normalizeJob: hostile jobs', () => {
  for (const { name, input, code, field } of jobCases) {
    it(`refuses ${name} as ${code} naming ${field}, quoting no secret`, () => {
      expectRefused(
        thrownBy(() => normalizeJob(input(), DEFAULTS)),
        code,
        field,
      );
    });
  }

  it('quotes a credential URL with its userinfo redacted, so the caller still sees which URL', () => {
    const error = thrownBy(() => normalizeJob({ url: 'ftp://user:hunter2@example.com/' }, DEFAULTS));
    expect((error as Error).message).toContain('"ftp://***:***@example.com/"');
  });

  it('keeps what a throwing getter threw as cause, without quoting its message', () => {
    const thrown = new Error(SECRET);
    const error = thrownBy(() =>
      normalizeJob(
        {
          get url(): string {
            throw thrown;
          },
        },
        DEFAULTS,
      ),
    );
    expect((error as Error).cause).toBe(thrown);
    expect((error as Error).message).toContain('(Error)');
  });

  it('accepts exactly the limits: 100 header lines, 16384 bytes, printable latin-1 and tabs', () => {
    const hundred = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`x-h${String(i)}`, 'v']));
    // The job's 100 lines, then the two flowpool adds under them (user-agent, accept-encoding).
    expect(normalizeJob({ url: URL_OK, headers: hundred }, DEFAULTS).headers).toHaveLength(
      200 + DEFAULT_HEADERS.length,
    );
    const exact = { 'x-a': 'v'.repeat(16_377) };
    expect(normalizeJob({ url: URL_OK, headers: exact }, DEFAULTS).headers[1]).toHaveLength(16_377);
    const latin1 = normalizeJob({ url: URL_OK, headers: { 'x-a': 'caf\u00e9\tok ~', 'x-n': 7 } }, DEFAULTS);
    expect(latin1.headers).toEqual(['x-a', 'caf\u00e9\tok ~', 'x-n', '7', ...DEFAULT_HEADERS]);
  });

  it('takes the caps from its defaults (the runtime options maxRequestHeaders / maxRequestHeaderBytes)', () => {
    const small: JobDefaults = { ...DEFAULTS, maxRequestHeaders: 2, maxRequestHeaderBytes: 300 };
    expectRefused(
      thrownBy(() => normalizeJob({ url: URL_OK, headers: { a: '1', b: '2', c: '3' } }, small)),
      'FLOWPOOL_INVALID_JOB',
      'job.headers',
    );
    expectRefused(
      thrownBy(() => normalizeJob({ url: URL_OK, headers: { a: 'v'.repeat(300) } }, small)),
      'FLOWPOOL_INVALID_JOB',
      'job.headers',
    );
    expect(normalizeJob({ url: URL_OK, headers: { a: '1', b: '2' } }, small).headers).toHaveLength(
      4 + DEFAULT_HEADERS.length,
    );
  });
});

const optionCases: readonly Case[] = [
  {
    name: 'a JSON-parsed __proto__ in resolve',
    input: () => JSON.parse('{"resolve":{"__proto__":["127.0.0.1"]}}') as unknown,
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.resolve.__proto__',
  },
  {
    name: 'a constructor key in hostLimits',
    input: () => ({ hostLimits: { constructor: { rps: 1 } } }),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.hostLimits.constructor',
  },
  {
    name: 'a prototype key in transforms',
    input: () => ({ transforms: { prototype: '/x.mjs' } }),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.transforms.prototype',
  },
  {
    name: 'a JSON-parsed __proto__ in policy',
    input: () => JSON.parse('{"policy":{"__proto__":{"allow":["*"]}}}') as unknown,
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.policy.__proto__',
  },
  {
    name: 'a JSON-parsed __proto__ on the options',
    input: () => JSON.parse('{"__proto__":{"workers":1}}') as unknown,
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.__proto__',
  },
  {
    name: 'a policy entry pasted from a URL with credentials',
    input: () => ({ policy: { deny: [`https://user:${SECRET}@evil.example/`] } }),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.policy.deny[0]',
  },
  {
    name: 'a getter that throws',
    input: () => ({
      get workers(): number {
        throw new Error(SECRET);
      },
    }),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options',
  },
  {
    name: 'maxRequestHeaders: 0',
    input: () => ({ maxRequestHeaders: 0 }),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.maxRequestHeaders',
  },
  {
    name: 'maxRequestHeaderBytes: 10',
    input: () => ({ maxRequestHeaderBytes: 10 }),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.maxRequestHeaderBytes',
  },
];

describe('parseOptions: hostile options', () => {
  for (const { name, input, code, field } of optionCases) {
    it(`refuses ${name} as ${code} naming ${field}, quoting no secret`, () => {
      expectRefused(
        thrownBy(() => parseOptions(input())),
        code,
        field,
      );
    });
  }

  it('documents its header caps as defaults', () => {
    const options = parseOptions({});
    expect([options.maxRequestHeaders, options.maxRequestHeaderBytes]).toEqual([100, 16_384]);
  });
});

const argumentCases: readonly Case[] = [
  {
    name: 'run options { signal: {} }',
    input: () => parseRunOptions({ signal: {} }),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.signal',
  },
  {
    name: 'run options { signal: "abort" }',
    input: () => parseRunOptions({ signal: 'abort' }),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.signal',
  },
  {
    name: 'a signal made from AbortSignal.prototype (instanceof passes, the brand does not)',
    input: () => parseRunOptions({ signal: Object.create(AbortSignal.prototype) as unknown }),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.signal',
  },
  { name: 'run options 5', input: () => parseRunOptions(5), code: 'FLOWPOOL_INVALID_OPTIONS', field: 'options' },
  {
    name: 'run options whose signal getter throws',
    input: () =>
      parseRunOptions({
        get signal(): never {
          throw new Error(SECRET);
        },
      }),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options',
  },
  {
    name: 'runMany(null)',
    input: () => parseRunManyArguments(null, undefined),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'jobs',
  },
  {
    name: 'runMany of a string',
    input: () => parseRunManyArguments(SECRET, undefined),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'jobs',
  },
  {
    name: 'runMany of a plain object',
    input: () => parseRunManyArguments({ url: URL_OK }, undefined),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'jobs',
  },
  {
    name: 'runMany concurrency 0',
    input: () => parseRunManyArguments([], { concurrency: 0 }),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.concurrency',
  },
  {
    name: 'runMany concurrency 1.5',
    input: () => parseRunManyArguments([], { concurrency: 1.5 }),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.concurrency',
  },
  {
    name: 'runMany concurrency "4"',
    input: () => parseRunManyArguments([], { concurrency: '4' }),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.concurrency',
  },
  {
    name: 'runMany { signal: {} }',
    input: () => parseRunManyArguments([], { signal: {} }),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options.signal',
  },
  {
    name: 'runMany options "fast"',
    input: () => parseRunManyArguments([], 'fast'),
    code: 'FLOWPOOL_INVALID_OPTIONS',
    field: 'options',
  },
];

describe('run() and runMany() arguments', () => {
  for (const { name, input, code, field } of argumentCases) {
    it(`refuses ${name} as ${code} naming ${field}`, () => {
      expectRefused(thrownBy(input), code, field);
    });
  }

  it('takes undefined and null as no options, and passes a real signal through', () => {
    expect(parseRunOptions(undefined)).toEqual({});
    expect(parseRunOptions(null)).toEqual({});
    const signal = AbortSignal.abort();
    expect(parseRunOptions({ signal }).signal).toBe(signal);
  });

  it('takes iterables and async iterables, with the default concurrency of 256', () => {
    const jobs = [{ url: URL_OK }];
    expect(parseRunManyArguments(jobs, undefined)).toEqual({ jobs, concurrency: 256 });
    expect(parseRunManyArguments(jobs, null).concurrency).toBe(256);
    async function* source(): AsyncGenerator<{ url: string }> {
      yield { url: URL_OK };
      await Promise.resolve();
    }
    const asyncJobs = source();
    const signal = new AbortController().signal;
    expect(parseRunManyArguments(asyncJobs, { concurrency: 3, signal })).toEqual({
      jobs: asyncJobs,
      concurrency: 3,
      signal,
    });
  });
});
