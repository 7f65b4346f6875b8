/**
 * Issue 21, item 6, through a real runtime and a loopback server that counts requests: `query` and `form`
 * records with a `__proto__` key are refused by name (0 requests; a normal record goes through); `runMany`
 * over an input whose `next()` throws rejects with a FlowpoolError keeping the caller's error as `cause`
 * (the jobs read before it ran); 1,500 distinct tenants leave at most 1,000 records in `stats().tenants`,
 * a listed tenant kept, and no job uncounted.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, FlowpoolError, type HttpJob, type RunManyResult } from '../../dist/src/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { settle } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('security: smaller surfaces', () => {
  const track = closeAfterEach();
  let server: CountingServer;
  const urls: string[] = [];
  beforeEach(async () => {
    urls.length = 0;
    server = track(
      await startCountingServer((req, res) => {
        urls.push(req.url ?? '');
        req.resume();
        req.on('end', () => res.end('ok'));
      }),
    );
  });

  it.each([
    ['query', { query: JSON.parse('{"__proto__": {"admin": "1"}}') as Record<string, string> }],
    ['form', { method: 'POST', form: JSON.parse('{"a": "1", "__proto__": {"admin": "1"}}') as Record<string, string> }],
  ])('refuses a %s record with a __proto__ key by name; nothing is sent', async (field, extra) => {
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    const outcome = await settle(runtime.run({ url: `${server.origin}/p`, ...extra } as HttpJob));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('FLOWPOOL_INVALID_JOB');
    expect(outcome.error.details).toMatchObject({ field: `job.${field}.__proto__` });
    expect(server.requests).toBe(0);
    // Control: the same record without the key goes through.
    const ok = await runtime.run({
      url: `${server.origin}/p`,
      ...(field === 'query' ? { query: { admin: '1' } } : { method: 'POST', form: { a: '1' } }),
    });
    expect(ok.status).toBe(200);
    expect(urls).toEqual([field === 'query' ? '/p?admin=1' : '/p']);
  });

  it('runMany over an input whose next() throws rejects with a FlowpoolError keeping the cause', async () => {
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    const broken = new Error('the engine lost its cursor');
    let read = 0;
    const jobs: Iterable<HttpJob> = {
      [Symbol.iterator]: () => ({
        next: (): IteratorResult<HttpJob> => {
          if (read === 2) throw broken;
          return { done: false, value: { url: `${server.origin}/m/${read++}` } };
        },
      }),
    };
    const results: RunManyResult[] = [];
    let thrown: unknown;
    try {
      for await (const result of runtime.runMany(jobs, { concurrency: 2 })) results.push(result);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FlowpoolError);
    const error = thrown as FlowpoolError;
    expect(error.code).toBe('FLOWPOOL_INVALID_JOB');
    expect(error.details).toMatchObject({ field: 'jobs' });
    expect(error.cause).toBe(broken);
    expect(error.message).not.toContain('cursor');
    // Control: the jobs read before the failure ran.
    expect(results.length).toBeGreaterThanOrEqual(1);
    for (const result of results) expect(result.ok).toBe(true);
    expect(server.requests).toBeGreaterThanOrEqual(1);
  });

  it('1,500 distinct tenants leave at most 1,000 records once idle; a listed tenant keeps its own; all counted', async () => {
    const runtime = track(createRuntime({ workers: 2, policy: LOOPBACK, tenants: { vip: { weight: 2 } } }));
    await runtime.run({ url: `${server.origin}/vip`, tenant: 'vip' });
    const jobs = Array.from({ length: 1_500 }, (_, i): HttpJob => ({
      url: `${server.origin}/t`,
      tenant: `tenant-${i}`,
    }));
    let ok = 0;
    for await (const result of runtime.runMany(jobs, { concurrency: 64 })) if (result.ok) ok++;
    expect(ok).toBe(1_500);
    expect(server.requests).toBe(1_501);
    const { tenants } = await runtime.stats();
    expect(tenants.length).toBeLessThanOrEqual(1_000 + 1);
    expect(tenants.find((t) => t.tenant === 'vip')).toMatchObject({ submitted: 1, succeeded: 1 });
    expect(tenants.reduce((sum, t) => sum + t.submitted, 0)).toBe(1_501);
    expect(tenants.find((t) => t.tenant === '')?.submitted).toBeGreaterThan(0);
  });
});
