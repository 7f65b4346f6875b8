/**
 * The wire encoding (src/wire/codec.ts, src/wire/headers.ts), without threads: every job and outcome shape
 * survives encode -> structured clone -> decode exactly, cancels stay behind the jobs they follow, and
 * packed headers come back as undici's parseHeaders would build them.
 */
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  decodeJobs,
  decodeOutcomes,
  encodeJobs,
  pushOutcome,
  type OutcomesMessage,
} from '../../dist/src/wire/codec.js';
import { packHeaders, unpackHeaders } from '../../dist/src/wire/headers.js';
import type { JobOutcome, JobRequest, WorkerOutcome } from '../../dist/src/wire/protocol.js';
import { outcomeTransferables } from '../../dist/src/wire/transfer-list.js';

const plain: JobRequest = {
  id: 7,
  origin: 'http://127.0.0.1:8080',
  path: '/a?b=1',
  method: 'GET',
  headers: ['user-agent', 'flowpool/test', 'accept-encoding', 'gzip, deflate, br'],
  body: undefined,
  responseType: 'text',
  timeoutMs: 59_999,
  maxResponseBytes: 10_485_760,
  followRedirects: true,
  maxRedirects: 5,
  jobTimeoutMs: 60_000,
  jobMaxRedirects: 5,
  slot: 3,
  profile: 0,
  repeatable: true,
};

const jobs: JobRequest[] = [
  plain,
  { ...plain, id: 8, method: 'POST', body: '{"a":1}', repeatable: false, followRedirects: false, responseType: 'json' },
  { ...plain, id: 9, body: new Uint8Array([1, 2, 3]), responseType: 'bytes', slot: -1, maxRedirects: 0 },
  { ...plain, id: 10, responseType: 'stream', transform: 'shout' },
  { ...plain, id: 11, payload: { saveTo: '/tmp/x.bin' } },
  { ...plain, id: 12, payload: { cookies: [{ key: 'sid', value: 'abc', domain: '127.0.0.1' }] } },
  { ...plain, id: 13, profile: 5, responseType: 'bytes' },
  { ...plain, id: 14, profile: 1_000_000, responseType: 'stream', followRedirects: false, repeatable: false },
];

function roundTrip<T>(value: T): T {
  return structuredClone(value);
}

describe('wire: jobs', () => {
  it('round-trips every job shape and keeps cancels behind the jobs, in order', () => {
    const message = roundTrip(encodeJobs(jobs, [3, 1]));
    const decoded: JobRequest[] = [];
    const cancels: number[] = [];
    decodeJobs(
      message,
      (job) => decoded.push(job),
      (id) => cancels.push(id),
    );
    expect(decoded).toEqual(jobs);
    expect(cancels).toEqual([3, 1]);
  });

  it('carries cancels alone', () => {
    const decoded: JobRequest[] = [];
    const cancels: number[] = [];
    decodeJobs(
      roundTrip(encodeJobs([], [42])),
      (job) => decoded.push(job),
      (id) => cancels.push(id),
    );
    expect(decoded).toEqual([]);
    expect(cancels).toEqual([42]);
  });
});

const outcomes: [number, WorkerOutcome][] = [
  [1, { ok: true, status: 200, headers: 'content-type:text/plain\nx-a:1\n', body: 'ok', headersMs: 1.5, bytes: 2 }],
  [
    2,
    {
      ok: true,
      status: 201,
      headers: 'set-cookie:a=1\nset-cookie:b=2\n',
      body: { parsed: [1, 2] },
      headersMs: 3,
      bytes: 17,
      redirects: ['http://127.0.0.1:8080/next'],
      setCookies: [['http://127.0.0.1:8080/', 'a=1']],
    },
  ],
  [3, { ok: false, sent: true, error: { code: 'FLOWPOOL_TIMEOUT', name: 'FlowpoolError', message: 'late' } }],
  [4, { ok: false, sent: false, error: { code: 'FLOWPOOL_CONNECTION_FAILED', name: 'FlowpoolError', message: 'x' } }],
  [
    5,
    {
      ok: 'redirect',
      next: { origin: 'http://b.test', path: '/', method: 'GET', headers: [], body: undefined },
      redirects: ['http://b.test/'],
    },
  ],
  [6, { ok: 'no-connection', sent: false }],
  [
    7,
    {
      ok: 'no-connection',
      sent: true,
      next: { origin: 'http://a.test', path: '/2', method: 'GET', headers: ['x', 'y'], body: undefined },
      redirects: ['http://a.test/2'],
      setCookies: [['http://a.test/', 'c=3']],
    },
  ],
];

/** What the main thread should read for a worker's outcome: headers unpacked, nothing else changed. */
function expected(outcome: WorkerOutcome): JobOutcome {
  return outcome.ok === true ? { ...outcome, headers: unpackHeaders(outcome.headers) } : outcome;
}

describe('wire: outcomes', () => {
  it('round-trips every outcome shape: success, failure (sent or not), redirect, no-connection', () => {
    const message: OutcomesMessage = [];
    for (const [id, outcome] of outcomes) pushOutcome(message, id, outcome);
    const decoded: [number, JobOutcome][] = [];
    decodeOutcomes(roundTrip(message), (id, outcome) => decoded.push([id, outcome]));
    expect(decoded).toEqual(outcomes.map(([id, outcome]) => [id, expected(outcome)]));
    const failure = decoded[2]?.[1];
    expect(failure?.ok === false && failure.sent).toBe(true);
    const unsent = decoded[3]?.[1];
    expect(unsent?.ok === false && unsent.sent).toBe(false);
  });

  it("transfers a streamed body's port and nothing else", () => {
    const { port1, port2 } = new MessageChannel();
    const message: OutcomesMessage = [];
    pushOutcome(message, 1, { ok: true, status: 200, headers: '', body: 'text', headersMs: 0, bytes: 4 });
    pushOutcome(message, 2, { ok: true, status: 200, headers: '', body: port1, headersMs: 0, bytes: 0 });
    expect(outcomeTransferables(message)).toEqual([port1]);
    port1.close();
    port2.close();
  });
});

describe('wire: headers', () => {
  it('unpacks as undici parseHeaders does: repeated names become arrays, values keep colons', () => {
    const packed = packHeaders([
      'content-type',
      'text/plain',
      'set-cookie',
      'a=1',
      'set-cookie',
      'b=2',
      'x-time',
      '10:30:00',
    ]);
    expect(unpackHeaders(packed)).toEqual({
      'content-type': 'text/plain',
      'set-cookie': ['a=1', 'b=2'],
      'x-time': '10:30:00',
    });
  });

  it('keeps a header named __proto__ as a header, not a prototype', () => {
    const headers = unpackHeaders(packHeaders(['__proto__', 'x', 'constructor', 'y']));
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.hasOwn(headers, '__proto__')).toBe(true);
    expect(headers.constructor).toBe('y');
  });

  it('reads an empty block as no headers', () => {
    expect(unpackHeaders('')).toEqual({});
  });
});
