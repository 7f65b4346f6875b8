/**
 * Hooks and flowpool's own rules (docs/hooks.md): retries asked by afterResponse do not use up
 * `retry.attempts`; beforeRetry gets the attempt's FlowpoolError for an error retry; afterResponse that
 * returns nothing usable fails the job; a streamed result held by a hanging afterResponse ends at the deadline
 * and gives its slot back; runMany runs hooks too. Counts are the server's.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, type HttpResult, type RuntimeOptions } from '../../dist/src/index.js';
import { startEchoServer } from '../fixtures/echo-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { closedPort, startScriptedServer } from '../fixtures/traffic-server.js';
import { settle } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

describe('hooks with retries, limits and streams', () => {
  const track = closeAfterEach();
  const runtimeWith = (hooks: RuntimeOptions['hooks'], extra: RuntimeOptions = {}) =>
    track(createRuntime({ workers: 1, policy: LOOPBACK, ...extra, hooks }));

  it('a retry asked by afterResponse does not use up retry.attempts: 401 (hook retry), 503 (flowpool retry), 200', async () => {
    const statuses = [401, 503, 200];
    const server = track(await startScriptedServer((n) => ({ status: statuses[n - 1] ?? 500 })));
    const seen: { hook: string; attempt: number; status?: number }[] = [];
    const runtime = runtimeWith(
      {
        afterResponse: (result, { attempt }) => {
          seen.push({ hook: 'afterResponse', attempt, status: result.status });
          return result.status === 401 ? { retry: { headers: { authorization: 'Bearer new' } } } : result;
        },
        beforeRetry: (_error, { attempt, status }) => {
          seen.push({ hook: 'beforeRetry', attempt, ...(status === undefined ? {} : { status }) });
        },
      },
      { retry: { attempts: 2, minDelayMs: 5, maxDelayMs: 5 } },
    );
    const result = await runtime.run({ url: `${server.origin}/r` });
    expect(result.status).toBe(200);
    expect(result.attempts).toBe(3);
    expect(server.requests).toBe(3);
    expect(seen).toEqual([
      { hook: 'afterResponse', attempt: 1, status: 401 },
      { hook: 'beforeRetry', attempt: 2, status: 503 },
      { hook: 'afterResponse', attempt: 3, status: 200 },
    ]);
  });

  it('beforeRetry gets the FlowpoolError of an attempt that failed (a refused connection), then the job fails as without hooks', async () => {
    const port = await closedPort();
    const errors: (string | undefined)[] = [];
    const runtime = runtimeWith(
      {
        beforeRetry: (error, { status }) => {
          errors.push(error?.code);
          expect(status).toBeUndefined();
        },
      },
      { retry: { attempts: 3, minDelayMs: 5, maxDelayMs: 5 } },
    );
    const outcome = await settle(runtime.run({ url: `http://127.0.0.1:${String(port)}/down` }));
    expect(outcome.ok ? undefined : outcome.error.code).toBe('FLOWPOOL_CONNECTION_FAILED');
    expect(errors).toEqual(['FLOWPOOL_CONNECTION_FAILED', 'FLOWPOOL_CONNECTION_FAILED']);
  });

  it('afterResponse returning neither a result nor { retry } fails the job with FLOWPOOL_HOOK_FAILED', async () => {
    const server = track(await startEchoServer());
    const runtime = runtimeWith({ afterResponse: () => 'done' as unknown as HttpResult });
    const outcome = await settle(runtime.run({ url: `${server.origin}/x` }));
    expect(outcome.ok ? undefined : [outcome.error.code, outcome.error.details?.hook]).toEqual([
      'FLOWPOOL_HOOK_FAILED',
      'afterResponse',
    ]);
    expect(server.requests).toBe(1);
  });

  it('a streamed result held by a hanging afterResponse ends at the deadline, and its slot is given back', async () => {
    const server = track(await startEchoServer());
    const runtime = runtimeWith(
      {
        afterResponse: (result, { job }) =>
          job.url.endsWith('/hang') ? new Promise<HttpResult>(() => undefined) : result,
      },
      { connectionsPerHost: 1 },
    );
    await runtime.ready();
    const outcome = await settle(runtime.run({ url: `${server.origin}/hang`, responseType: 'stream', timeoutMs: 300 }));
    expect(outcome.ok ? undefined : outcome.error.details).toMatchObject({ phase: 'hook', hook: 'afterResponse' });
    // With one connection per host, this runs only if the held stream's slot was freed.
    const next = await runtime.run({ url: `${server.origin}/next`, timeoutMs: 5_000 });
    expect(next.status).toBe(200);
    expect(server.seen.map((r) => r.url)).toEqual(['/hang', '/next']);
  });

  it('runMany runs the hooks of each job', async () => {
    const server = track(await startEchoServer());
    const runtime = runtimeWith({
      beforeRequest: (job, { attempt }) => ({ ...job, headers: { ...job.headers, 'x-attempt': attempt } }),
    });
    const jobs = Array.from({ length: 20 }, (_, i) => ({ url: `${server.origin}/m${String(i)}` }));
    const codes: (number | string)[] = [];
    for await (const item of runtime.runMany(jobs, { concurrency: 5 })) {
      codes.push(item.ok ? item.value.status : item.error.code);
    }
    expect(codes).toEqual(Array.from({ length: 20 }, () => 200));
    expect(server.requests).toBe(20);
    expect(new Set(server.seen.map((r) => r.headers['x-attempt']))).toEqual(new Set(['1']));
  });
});
