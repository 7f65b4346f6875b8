/**
 * Errors that say what to do (issue 22, item 3): an unknown key is named by its own path with the known
 * key it most likely meant, `JSON.stringify(error)` keeps code, message and details, and `fromJSON` reads
 * that back. The edit-distance helper behind "did you mean" is pure and tested on its own.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, FlowpoolError, isFlowpoolError } from '../../dist/src/index.js';
import { closestMatch, editDistance } from '../../dist/src/errors/closest-match.js';
import { knownKeysAt } from '../../dist/src/errors/schema-keys.js';
import { jobSchema, normalizeJob, type JobDefaults } from '../../dist/src/job/job.js';
import { retrySchema, runtimeOptionsSchema } from '../../dist/src/config/options.js';
import { deserializeError, serializeError } from '../../dist/src/errors/flowpool-error.js';

const DEFAULTS: JobDefaults = {
  timeoutMs: 1_000,
  maxResponseBytes: 1_000,
  maxRedirects: 1,
  transforms: {},
  retry: retrySchema.parse({}),
};

function thrownBy(fn: () => unknown): FlowpoolError {
  try {
    fn();
  } catch (error) {
    if (isFlowpoolError(error)) return error;
    throw error;
  }
  throw new Error('expected a throw');
}

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['headers', 'headers', 0],
    ['hedaers', 'headers', 1], // a swap of neighbours is one edit
    ['header', 'headers', 1],
    ['haeders', 'headers', 1],
    ['kitten', 'sitting', 3],
    ['timeout', 'timeoutMs', 2],
  ])('%j -> %j is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('closestMatch', () => {
  const jobKeys = ['url', 'method', 'headers', 'body', 'json', 'responseType', 'timeoutMs', 'saveTo'];

  it('suggests the key a typo most likely meant', () => {
    expect(closestMatch('hedaers', jobKeys)).toBe('headers');
    expect(closestMatch('metod', jobKeys)).toBe('method');
    expect(closestMatch('responsetype', jobKeys)).toBe('responseType'); // case is not a typo's distance
    expect(closestMatch('URL', jobKeys)).toBe('url');
    expect(closestMatch('timeout', jobKeys)).toBe('timeoutMs');
  });

  it('suggests nothing when no key is close', () => {
    expect(closestMatch('colour', jobKeys)).toBeUndefined();
    expect(closestMatch('x', jobKeys)).toBeUndefined();
    expect(closestMatch('anything', [])).toBeUndefined();
  });

  it('prefers the nearer key, and the first listed on a tie', () => {
    expect(closestMatch('bodi', ['body', 'bode'])).toBe('body');
    expect(closestMatch('jsom', ['json', 'jsox'])).toBe('json');
  });
});

describe('knownKeysAt: the keys a schema accepts at a path', () => {
  it('reads through optional, default, refine and union wrappers', () => {
    expect(knownKeysAt(jobSchema, [])).toEqual(expect.arrayContaining(['url', 'headers', 'responseType', 'saveTo']));
    expect(knownKeysAt(jobSchema, ['retry'])).toEqual(
      expect.arrayContaining(['attempts', 'minDelayMs', 'maxDelayMs', 'statuses', 'errorCodes']),
    );
    expect(knownKeysAt(runtimeOptionsSchema, ['policy'])).toEqual(['allow', 'deny']);
    expect(knownKeysAt(runtimeOptionsSchema, ['circuitBreaker'])).toEqual([
      'failureThreshold',
      'cooldownMs',
      'failOn5xx',
    ]);
    expect(knownKeysAt(runtimeOptionsSchema, ['hostLimits', 'api.example.com'])).toEqual([
      'rps',
      'burst',
      'concurrency',
    ]);
    expect(knownKeysAt(runtimeOptionsSchema, ['no-such-option'])).toEqual([]);
  });
});

describe('unknown keys are named by their own path, with a suggestion', () => {
  it('a job key: field job.hedaers, "did you mean headers"', () => {
    const error = thrownBy(() => normalizeJob({ url: 'http://a.example/', hedaers: { a: '1' }, id: 'j1' }, DEFAULTS));
    expect(error.code).toBe('FLOWPOOL_INVALID_JOB');
    expect(error.details).toEqual({ field: 'job.hedaers', suggestion: 'headers', jobId: 'j1' });
    expect(error.message).toBe('invalid job: job.hedaers: unknown key "hedaers" (did you mean "headers"?)');
  });

  it('a nested job key: job.retry.atempts', () => {
    const error = thrownBy(() => normalizeJob({ url: 'http://a.example/', retry: { atempts: 2 } }, DEFAULTS));
    expect(error.details).toEqual({ field: 'job.retry.atempts', suggestion: 'attempts' });
  });

  it('an unknown key with no close match has no suggestion', () => {
    const error = thrownBy(() => normalizeJob({ url: 'http://a.example/', colour: 'red' }, DEFAULTS));
    expect(error.details).toEqual({ field: 'job.colour' });
    expect(error.message).toBe('invalid job: job.colour: unknown key "colour"');
  });

  it('several unknown keys: each named, the first one decides field', () => {
    const error = thrownBy(() => normalizeJob({ url: 'http://a.example/', metod: 'GET', tiemoutMs: 5 }, DEFAULTS));
    expect(error.details.field).toBe('job.metod');
    expect(error.message).toContain('job.metod: unknown key "metod" (did you mean "method"?)');
    expect(error.message).toContain('job.tiemoutMs: unknown key "tiemoutMs" (did you mean "timeoutMs"?)');
  });

  it('a runtime option: options.tls.rejectUnauthorised', () => {
    const error = thrownBy(() => createRuntime({ tls: { rejectUnauthorised: false } } as never));
    expect(error.code).toBe('FLOWPOOL_INVALID_OPTIONS');
    expect(error.details).toEqual({ field: 'options.tls.rejectUnauthorised', suggestion: 'rejectUnauthorized' });
  });

  it('a metrics option: options.metrics.tennant', () => {
    const error = thrownBy(() => createRuntime({ metrics: { tennant: false } } as never));
    expect(error.details).toEqual({ field: 'options.metrics.tennant', suggestion: 'tenant' });
  });
});

describe('toJSON / fromJSON', () => {
  it('JSON.stringify keeps name, code, message and details, and summarises the cause', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1 via http://user:pw@proxy.test/'), {
      code: 'ECONNREFUSED',
    });
    const error = new FlowpoolError(
      'FLOWPOOL_QUEUE_UNAVAILABLE',
      'Redis at 127.0.0.1:1 is unavailable: it is unreachable',
      { redis: '127.0.0.1:1', reason: 'it is unreachable', causeCode: 'ECONNREFUSED' },
      { cause },
    );
    const json = JSON.parse(JSON.stringify(error)) as Record<string, unknown>;
    expect(json).toEqual({
      name: 'FlowpoolError',
      code: 'FLOWPOOL_QUEUE_UNAVAILABLE',
      message: 'Redis at 127.0.0.1:1 is unavailable: it is unreachable',
      details: { redis: '127.0.0.1:1', reason: 'it is unreachable', causeCode: 'ECONNREFUSED' },
      cause: { name: 'Error', message: expect.not.stringContaining('pw') as unknown, code: 'ECONNREFUSED' },
    });
  });

  it('has no cause key without a cause', () => {
    const json: unknown = JSON.parse(JSON.stringify(new FlowpoolError('FLOWPOOL_TIMEOUT', 'late', { phase: 'body' })));
    expect(json).toEqual({
      name: 'FlowpoolError',
      code: 'FLOWPOOL_TIMEOUT',
      message: 'late',
      details: { phase: 'body' },
    });
  });

  it('fromJSON rebuilds the same error (instanceof, code, message, details, cause)', () => {
    const original = new FlowpoolError(
      'FLOWPOOL_SAVE_FAILED',
      'the body could not be saved to /nope/x: ENOENT',
      { path: '/nope/x', causeCode: 'ENOENT' },
      { cause: Object.assign(new Error('no such dir'), { code: 'ENOENT' }) },
    );
    const rebuilt = FlowpoolError.fromJSON(JSON.parse(JSON.stringify(original)));
    expect(rebuilt).toBeInstanceOf(FlowpoolError);
    expect(rebuilt.code).toBe('FLOWPOOL_SAVE_FAILED');
    expect(rebuilt.message).toBe(original.message);
    expect(rebuilt.details).toEqual({ path: '/nope/x', causeCode: 'ENOENT' });
    expect(rebuilt.cause).toMatchObject({ name: 'Error', message: 'no such dir', code: 'ENOENT' });
  });

  it('fromJSON keeps the message of an unknown code and refuses what is not an error', () => {
    const rebuilt = FlowpoolError.fromJSON({ code: 'FLOWPOOL_FROM_THE_FUTURE', message: 'new', details: { x: 1 } });
    expect(rebuilt.code).toBe('FLOWPOOL_CONNECTION_FAILED');
    expect(rebuilt.message).toBe('new');
    expect(() => FlowpoolError.fromJSON(null)).toThrow(TypeError);
    expect(() => FlowpoolError.fromJSON({ code: 1, message: 'x' })).toThrow(TypeError);
  });

  it('serializeError / deserializeError (the thread and queue wire) still round-trip', () => {
    const error = new FlowpoolError('FLOWPOOL_SAVE_FAILED', 'x', { path: '/a', causeCode: 'EACCES' });
    const back = deserializeError(serializeError(error));
    expect(back.code).toBe('FLOWPOOL_SAVE_FAILED');
    expect(back.details).toEqual({ path: '/a', causeCode: 'EACCES' });
  });
});
