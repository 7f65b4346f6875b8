/**
 * FlowpoolError as users meet it: instanceof across two copies of the package (the module loaded twice, under
 * two URLs: two module instances with two classes) and after a thread hop (serialise, rebuild), `cause` kept,
 * `details` narrowed by `code`, and URL credentials redacted however a message was built.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  describeReceived,
  deserializeError,
  FlowpoolError,
  isFlowpoolError,
  serializeError,
  type FlowpoolErrorCode,
  type TimeoutPhase,
} from '../../dist/src/errors/flowpool-error.js';
import { redactUrlCredentials } from '../../dist/src/errors/redact.js';

/** A second instance of the errors module, as an app with two copies of flowpool in node_modules has. */
const secondCopy = (await import(
  new URL('../../dist/src/errors/flowpool-error.js?second-copy', import.meta.url).href
)) as typeof import('../../dist/src/errors/flowpool-error.js');
const { FlowpoolError: BuiltFlowpoolError, isFlowpoolError: builtIsFlowpoolError } = secondCopy;

describe('FlowpoolError: a brand, not a class identity', () => {
  it('answers instanceof across two copies of the package, both ways', () => {
    const fromSrc = new FlowpoolError('FLOWPOOL_TIMEOUT', 'late', { phase: 'body' });
    const fromDist = new BuiltFlowpoolError('FLOWPOOL_TIMEOUT', 'late', { phase: 'body' });
    expect(Object.getPrototypeOf(fromSrc)).not.toBe(Object.getPrototypeOf(fromDist));
    expect(fromDist instanceof FlowpoolError).toBe(true);
    expect(fromSrc instanceof BuiltFlowpoolError).toBe(true);
    expect(isFlowpoolError(fromDist, 'FLOWPOOL_TIMEOUT')).toBe(true);
    expect(builtIsFlowpoolError(fromSrc)).toBe(true);
    expect(fromSrc).toBeInstanceOf(Error);
  });

  it('refuses look-alikes: a plain Error with a flowpool code, a plain object, null, a primitive', () => {
    const lookAlike = Object.assign(new Error('x'), { code: 'FLOWPOOL_TIMEOUT', details: {} });
    for (const value of [lookAlike, { code: 'FLOWPOOL_TIMEOUT' }, null, 'FLOWPOOL_TIMEOUT', 7]) {
      expect(value instanceof FlowpoolError).toBe(false);
      expect(isFlowpoolError(value)).toBe(false);
    }
    expect(isFlowpoolError(new FlowpoolError('FLOWPOOL_CLOSED', 'closed'), 'FLOWPOOL_TIMEOUT')).toBe(false);
  });

  it('survives a thread hop: a structured clone loses the brand, the rebuilt error has it', () => {
    const original = new FlowpoolError('FLOWPOOL_CONNECTION_FAILED', 'refused', { causeCode: 'ECONNREFUSED' });
    expect(structuredClone(original) instanceof FlowpoolError).toBe(false);
    const rebuilt = deserializeError(structuredClone(serializeError(original)), { jobId: 'j1', attempts: 2 });
    expect(rebuilt instanceof FlowpoolError).toBe(true);
    expect(rebuilt instanceof BuiltFlowpoolError).toBe(true);
    expect([rebuilt.code, rebuilt.message, rebuilt.name]).toEqual([
      'FLOWPOOL_CONNECTION_FAILED',
      'refused',
      'FlowpoolError',
    ]);
    expect(rebuilt.details).toEqual({ causeCode: 'ECONNREFUSED', jobId: 'j1', attempts: 2 });
  });

  it('keeps cause, and leaves it off when none is given', () => {
    const cause = new TypeError('low level');
    expect(new FlowpoolError('FLOWPOOL_INVALID_JOB', 'bad', { field: 'job' }, { cause }).cause).toBe(cause);
    expect('cause' in new FlowpoolError('FLOWPOOL_INVALID_JOB', 'bad', { field: 'job' })).toBe(false);
  });

  it('lists the new codes', async () => {
    const { FLOWPOOL_ERROR_CODES } = await import('../../dist/src/errors/flowpool-error.js');
    expect(FLOWPOOL_ERROR_CODES).toContain('FLOWPOOL_TLS_FAILED');
    expect(FLOWPOOL_ERROR_CODES).toContain('FLOWPOOL_QUEUE_UNAVAILABLE');
  });
});

describe('FlowpoolError: details typed per code', () => {
  // The expectTypeOf lines are checked by `npm run typecheck`; the expect lines at run time.
  function describeError(error: FlowpoolError): string {
    switch (error.code) {
      case 'FLOWPOOL_TIMEOUT':
        expectTypeOf(error.details.phase).toEqualTypeOf<TimeoutPhase>();
        return error.details.phase;
      case 'FLOWPOOL_ABORTED':
        expectTypeOf(error.details.sent).toEqualTypeOf<boolean>();
        return String(error.details.sent);
      case 'FLOWPOOL_BLOCKED_DESTINATION':
        expectTypeOf(error.details.reason).toEqualTypeOf<string>();
        return error.details.reason;
      case 'FLOWPOOL_INVALID_JOB':
      case 'FLOWPOOL_INVALID_OPTIONS':
        expectTypeOf(error.details.field).toEqualTypeOf<string>();
        return error.details.field;
      case 'FLOWPOOL_CIRCUIT_OPEN':
        expectTypeOf(error.details.retryInMs).toEqualTypeOf<number>();
        return String(error.details.retryInMs);
      default:
        // Another code's own fields read as undefined; the common ones are there for every code.
        expectTypeOf(error.details.phase).toEqualTypeOf<undefined>();
        expectTypeOf(error.details.attempts).toEqualTypeOf<number | undefined>();
        expectTypeOf(error.details.causeCode).toEqualTypeOf<string | undefined>();
        return error.code;
    }
  }

  it('narrows details when code is checked', () => {
    expect(describeError(new FlowpoolError('FLOWPOOL_TIMEOUT', 'late', { phase: 'headers' }))).toBe('headers');
    expect(describeError(new FlowpoolError('FLOWPOOL_ABORTED', 'stop', { sent: false }))).toBe('false');
    expect(describeError(new FlowpoolError('FLOWPOOL_CIRCUIT_OPEN', 'open', { retryInMs: 250 }))).toBe('250');
    expect(describeError(new FlowpoolError('FLOWPOOL_CLOSED', 'closed'))).toBe('FLOWPOOL_CLOSED');
  });

  it('narrows through isFlowpoolError(value, code) and instanceof', () => {
    const caught: unknown = new FlowpoolError('FLOWPOOL_BLOCKED_DESTINATION', 'no', { reason: 'loopback address' });
    if (isFlowpoolError(caught, 'FLOWPOOL_BLOCKED_DESTINATION')) {
      expectTypeOf(caught.details.reason).toEqualTypeOf<string>();
      expect(caught.details.reason).toBe('loopback address');
    } else expect.unreachable();
    const unknownError: unknown = new FlowpoolError('FLOWPOOL_CLOSED', 'closed');
    if (unknownError instanceof FlowpoolError) {
      expectTypeOf(unknownError.code).toEqualTypeOf<FlowpoolErrorCode>();
      expect(unknownError.code).toBe('FLOWPOOL_CLOSED');
    } else expect.unreachable();
  });
});

describe('no URL credentials in messages and details', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['https://user:pass@host.example/p?q=1', 'https://***:***@host.example/p?q=1'],
    ['ftp://user:hunter2@example.com/', 'ftp://***:***@example.com/'],
    ['http://user:p@ss@host/', 'http://***:***@host/'],
    ['http://token@host/', 'http://***:***@host/'],
    ['see //user:pw@host/x', 'see //***:***@host/x'],
    ['http://host/path?mail=a@b.example', 'http://host/path?mail=a@b.example'],
    ['mailto:someone@example.com', 'mailto:someone@example.com'],
    ['no url here', 'no url here'],
  ];
  for (const [input, expected] of cases) {
    it(`redacts ${JSON.stringify(input)}`, () => {
      expect(redactUrlCredentials(input)).toBe(expected);
    });
  }

  it('redacts whatever a call site put in a message or a reason', () => {
    const error = new FlowpoolError('FLOWPOOL_BLOCKED_DESTINATION', 'blocked http://u:hunter2@h/', {
      reason: 'redirect to https://u:hunter2@h/',
    });
    expect(error.message).toBe('blocked http://***:***@h/');
    expect(error.details.reason).toBe('redirect to https://***:***@h/');
  });

  it('describeReceived redacts before it shortens, and inside objects', () => {
    const long = `https://${'u'.repeat(60)}:hunter2@example.com/`;
    expect(describeReceived(long)).not.toContain('hunter2');
    expect(describeReceived({ url: 'http://a:hunter2@b/' })).toBe('{"url":"http://***:***@b/"}');
    expect(describeReceived(new URL('http://a:hunter2@b/'))).toBe('"http://***:***@b/"');
  });
});
