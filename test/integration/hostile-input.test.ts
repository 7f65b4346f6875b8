/**
 * Every hostile job through a real runtime: each is refused on the main thread with a FlowpoolError naming
 * the field and quoting no secret; the loopback server sees none of them; afterwards the runtime still
 * serves a good job, no worker restarted and the host's circuit breaker (threshold 1, so a single failure
 * counted against the host would open it) did not move. Before the header-value rule, a `\x01` in a value
 * reached the worker, failed there as FLOWPOOL_CONNECTION_FAILED, was retried and opened the circuit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createRuntime, FlowpoolError, type Runtime } from '../../dist/src/index.js';
import { isFlowpoolError as isFlowpoolErrorOfSrc } from '../../dist/src/errors/flowpool-error.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const SECRET = 's3cr3t-hunter2';

interface HostileCase {
  readonly name: string;
  readonly job: (origin: string, path: string) => unknown;
  readonly code: string;
  readonly field?: string;
}

function throwingProxy(target: object): object {
  return new Proxy(target, {
    get: () => {
      throw new Error(SECRET);
    },
  });
}

const CASES: readonly HostileCase[] = [
  {
    name: 'DEL in a header value',
    job: (o, p) => ({ url: o + p, headers: { authorization: `Bearer ${SECRET}\x7f` } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.authorization',
  },
  {
    name: '\\v in a header value',
    job: (o, p) => ({ url: o + p, headers: { 'x-token': `${SECRET}\v` } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.x-token',
  },
  {
    name: '\\x01 in a header value',
    job: (o, p) => ({ url: o + p, headers: { 'x-token': `\x01${SECRET}` } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.x-token',
  },
  {
    name: 'U+0100 in a header value',
    job: (o, p) => ({ url: o + p, headers: { 'x-token': `${SECRET}\u0100` } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.x-token',
  },
  {
    name: 'CRLF in a header array item',
    job: (o, p) => ({ url: o + p, headers: { cookie: ['a=1', `${SECRET}\r\nx: 1`] } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.cookie[1]',
  },
  {
    name: 'a JSON-parsed __proto__ header',
    job: (o, p) => JSON.parse(`{"url":"${o}${p}","headers":{"__proto__":{"x":"${SECRET}"}}}`) as unknown,
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.__proto__',
  },
  {
    name: 'a constructor header',
    job: (o, p) => ({ url: o + p, headers: { constructor: SECRET } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.constructor',
  },
  {
    name: 'a prototype header',
    job: (o, p) => ({ url: o + p, headers: { prototype: SECRET } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers.prototype',
  },
  {
    name: '101 headers',
    job: (o, p) => ({
      url: o + p,
      headers: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`x-h${String(i)}`, SECRET])),
    }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers',
  },
  {
    name: '16 KiB of header lines',
    job: (o, p) => ({ url: o + p, headers: { 'x-a': SECRET + 'v'.repeat(16_400) } }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.headers',
  },
  {
    name: 'a url getter that throws',
    job: () => ({
      get url(): string {
        throw new Error(SECRET);
      },
    }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job',
  },
  {
    name: 'a Proxy whose get trap throws',
    job: (o, p) => throwingProxy({ url: o + p }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job',
  },
  { name: 'null', job: () => null, code: 'FLOWPOOL_INVALID_JOB', field: 'job' },
  { name: 'a number', job: () => 42, code: 'FLOWPOOL_INVALID_JOB', field: 'job' },
  { name: 'an array', job: (o, p) => [{ url: o + p }], code: 'FLOWPOOL_INVALID_JOB', field: 'job' },
  {
    name: 'an ftp: URL with credentials',
    job: () => ({ url: `ftp://user:${SECRET}@example.com/` }),
    code: 'FLOWPOOL_INVALID_JOB',
    field: 'job.url',
  },
  // Valid for the schema; the policy refuses credentials in a URL before anything is dialled.
  {
    name: 'an http URL with credentials to the server',
    job: (o, p) => ({ url: o.replace('http://', `http://user:${SECRET}@`) + p }),
    code: 'FLOWPOOL_BLOCKED_DESTINATION',
  },
];

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the job to be refused, it succeeded');
}

async function hostOf(runtime: Runtime, origin: string) {
  const stats = await runtime.stats();
  return { host: stats.hosts.find((h) => h.origin === origin), restarts: stats.totals.workerRestarts };
}

describe('runtime: hostile input is refused before it reaches a worker', () => {
  const track = closeAfterEach();

  it('refuses every hostile job by code and field, and the runtime, its worker and the breaker are untouched', async () => {
    const paths: string[] = [];
    const server = track(
      await startCountingServer((req: IncomingMessage, res: ServerResponse) => {
        paths.push(req.url ?? '');
        res.end('ok');
      }),
    );
    const runtime = track(
      createRuntime({
        workers: 1,
        policy: LOOPBACK,
        retry: { attempts: 3, minDelayMs: 0, maxDelayMs: 0 },
        circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 },
      }),
    );

    const first = await runtime.run({ url: `${server.origin}/good-before` });
    expect(first.status).toBe(200);
    const before = await hostOf(runtime, server.origin);
    expect(before.host?.circuit).toBe('closed');

    for (const [index, hostile] of CASES.entries()) {
      const error = await rejectionOf(runtime.run(hostile.job(server.origin, `/hostile-${String(index)}`) as never));
      // Only FlowpoolError, and the brand holds across the two copies (dist's runtime, src's check).
      expect(error instanceof FlowpoolError, hostile.name).toBe(true);
      expect(isFlowpoolErrorOfSrc(error), hostile.name).toBe(true);
      if (!(error instanceof FlowpoolError)) continue;
      expect([hostile.name, error.code]).toEqual([hostile.name, hostile.code]);
      if (hostile.field !== undefined)
        expect([hostile.name, error.details.field]).toEqual([hostile.name, hostile.field]);
      expect(error.message, hostile.name).not.toContain(SECRET);
      expect(JSON.stringify(error.details), hostile.name).not.toContain(SECRET);
    }

    const good = await runtime.run({ url: `${server.origin}/good-after` });
    expect(good.status).toBe(200);
    // What the server saw: the two good jobs, nothing else.
    expect(paths).toEqual(['/good-before', '/good-after']);
    expect(server.requests).toBe(2);

    const after = await hostOf(runtime, server.origin);
    expect(after.restarts).toBe(before.restarts);
    expect(after.host?.circuit).toBe('closed');
    expect(after.host?.errorsByCode).toEqual(before.host?.errorsByCode);
    expect(after.host?.retries).toBe(before.host?.retries);
  });

  it('applies maxRequestHeaders and maxRequestHeaderBytes from the runtime options', async () => {
    const server = track(await startCountingServer());
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, maxRequestHeaders: 2, maxRequestHeaderBytes: 256 }),
    );
    const tooMany = await rejectionOf(runtime.run({ url: `${server.origin}/`, headers: { a: '1', b: '2', c: '3' } }));
    const tooBig = await rejectionOf(runtime.run({ url: `${server.origin}/`, headers: { a: 'v'.repeat(260) } }));
    for (const error of [tooMany, tooBig]) {
      expect(error instanceof FlowpoolError && [error.code, error.details.field]).toEqual([
        'FLOWPOOL_INVALID_JOB',
        'job.headers',
      ]);
    }
    expect(server.requests).toBe(0);
    const good = await runtime.run({ url: `${server.origin}/`, headers: { a: '1', b: '2' } });
    expect(good.status).toBe(200);
    expect(server.requests).toBe(1);
  });
});
