/**
 * The caller's hooks (issue #23): beforeRequest, afterResponse and beforeRetry against a real loopback
 * server, counting what the server saw. Also what the issue left open and docs/hooks.md decides: attempt
 * numbering, hooks on flowpool's own retries, the bound on retries asked, invalid jobs from a hook, the
 * deadline and the caller's abort while a hook runs, streamed results, and the breaker left alone.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRuntime, FlowpoolError, type HttpJob, type RuntimeOptions } from '../../dist/src/index.js';
import { startEchoServer } from '../fixtures/echo-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { settle, waitUntil } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const SECRET = 'token-that-must-not-leak-7f3a';

/** A server that answers 401 unless the request carries `authorization: Bearer <current>`. */
async function tokenServer(current: () => string) {
  return startEchoServer((req, res) => {
    const ok = req.headers.authorization === `Bearer ${current()}`;
    res.statusCode = ok ? 200 : 401;
    res.setHeader('content-type', 'text/plain');
    res.end(ok ? 'welcome' : 'stale token');
  });
}

describe('hooks', () => {
  const track = closeAfterEach();
  const runtimeWith = (hooks: RuntimeOptions['hooks'], extra: RuntimeOptions = {}) =>
    track(createRuntime({ workers: 1, policy: LOOPBACK, ...extra, hooks }));

  it('beforeRequest adds a header the server sees; the job passed to run() is left as it was', async () => {
    const server = track(await startEchoServer());
    const seen: number[] = [];
    const runtime = runtimeWith({
      beforeRequest: async (job, { attempt }) => {
        seen.push(attempt);
        await Promise.resolve();
        return { ...job, headers: { ...job.headers, authorization: `Bearer ${SECRET}` } };
      },
    });
    const job: HttpJob = { url: `${server.origin}/me`, headers: { 'x-trace': 'a' } };
    const result = await runtime.run(job);
    expect(result.status).toBe(200);
    expect(server.requests).toBe(1);
    expect(server.seen[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(server.seen[0]?.headers['x-trace']).toBe('a');
    expect(seen).toEqual([1]);
    expect(job.headers).toEqual({ 'x-trace': 'a' });
  });

  it('afterResponse turns a 401 for a stale token into a 200: a refresh, then exactly two requests at the server', async () => {
    let token = 'stale';
    const server = track(await tokenServer(() => 'fresh'));
    const attempts: number[] = [];
    const runtime = runtimeWith({
      beforeRequest: (job) => ({ ...job, headers: { ...job.headers, authorization: `Bearer ${token}` } }),
      afterResponse: async (result, { job, attempt }) => {
        attempts.push(attempt);
        if (result.status !== 401) return result;
        expect(job.headers.authorization).toBe('Bearer stale');
        token = await Promise.resolve('fresh');
        return { retry: { headers: { authorization: `Bearer ${token}` } } };
      },
    });
    const result = await runtime.run({ url: `${server.origin}/account` });
    expect(result.status).toBe(200);
    expect(result.body).toBe('welcome');
    expect(result.attempts).toBe(2);
    expect(server.requests).toBe(2);
    expect(server.seen.map((r) => r.headers.authorization)).toEqual(['Bearer stale', 'Bearer fresh']);
    expect(attempts).toEqual([1, 2]);
  });

  it('a retry asked by afterResponse sends a POST again (outside the repeatable rule), its headers merged by name', async () => {
    const server = track(await tokenServer(() => 'fresh'));
    const runtime = runtimeWith({
      afterResponse: (result) =>
        result.status === 401 ? { retry: { headers: { Authorization: 'Bearer fresh' } } } : result,
    });
    const result = await runtime.run({
      url: `${server.origin}/orders`,
      method: 'POST',
      json: { item: 1 },
      headers: { authorization: 'Bearer stale', 'x-keep': 'yes' },
    });
    expect(result.status).toBe(200);
    expect(server.seen.map((r) => r.method)).toEqual(['POST', 'POST']);
    expect(server.seen[1]?.headers.authorization).toBe('Bearer fresh');
    expect(server.seen[1]?.headers['x-keep']).toBe('yes');
    expect(server.seen[1]?.body.toString()).toBe('{"item":1}');
  });

  it("flowpool's own retries run beforeRequest again (a fresh HMAC each attempt) and tell beforeRetry", async () => {
    let calls = 0;
    const server = track(
      await startEchoServer((_req, res) => {
        calls++;
        res.statusCode = calls === 1 ? 503 : 200;
        res.end('ok');
      }),
    );
    const retries: { error: unknown; attempt: number; status: number | undefined; signed: unknown }[] = [];
    const runtime = runtimeWith(
      {
        beforeRequest: (job, { attempt }) => {
          const body = typeof job.body === 'string' ? job.body : '';
          const signature = createHmac('sha256', 'key').update(`${attempt}:${body}`).digest('hex');
          return { ...job, headers: { ...job.headers, 'x-attempt': attempt, 'x-signature': signature } };
        },
        beforeRetry: (error, { job, attempt, status }) => {
          retries.push({ error, attempt, status, signed: job.headers['x-attempt'] });
        },
      },
      { retry: { attempts: 3, minDelayMs: 5, maxDelayMs: 5 } },
    );
    const result = await runtime.run({ url: `${server.origin}/pay`, method: 'PUT', body: 'amount=5' });
    expect(result.status).toBe(200);
    expect(result.attempts).toBe(2);
    expect(server.requests).toBe(2);
    expect(server.seen.map((r) => r.headers['x-attempt'])).toEqual(['1', '2']);
    const expected = [1, 2].map((n) => createHmac('sha256', 'key').update(`${n}:amount=5`).digest('hex'));
    expect(server.seen.map((r) => r.headers['x-signature'])).toEqual(expected);
    expect(retries).toEqual([{ error: undefined, attempt: 1, status: 503, signed: 1 }]);
  });

  it('afterResponse may ask 3 retries per job: a 4th ask fails the job with FLOWPOOL_HOOK_FAILED; the server saw 4 requests', async () => {
    const server = track(await startEchoServer());
    const runtime = runtimeWith({ afterResponse: () => ({ retry: {} }) });
    const outcome = await settle(runtime.run({ url: `${server.origin}/loop`, id: 'job-7' }));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('FLOWPOOL_HOOK_FAILED');
    expect(outcome.error.details).toMatchObject({ hook: 'afterResponse', jobId: 'job-7', attempts: 4 });
    expect(server.requests).toBe(4);
  });

  it('a hook that throws fails its job with FLOWPOOL_HOOK_FAILED (cause kept, no header value quoted); the runtime goes on', async () => {
    const server = track(await startEchoServer());
    const thrown = new Error(`refresh failed for ${SECRET}`);
    let fail = true;
    const runtime = runtimeWith({
      beforeRequest: (job) => {
        if (fail) throw thrown;
        return { ...job, headers: { ...job.headers, authorization: `Bearer ${SECRET}` } };
      },
    });
    const error = await runtime
      .run({ url: `${server.origin}/a`, headers: { 'x-api-key': SECRET } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlowpoolError);
    const failure = error as FlowpoolError;
    expect(failure.code).toBe('FLOWPOOL_HOOK_FAILED');
    expect(failure.details).toMatchObject({ hook: 'beforeRequest', attempts: 1 });
    expect(failure.cause).toBe(thrown);
    expect(failure.message).not.toContain(SECRET);
    expect(JSON.stringify(failure.details)).not.toContain(SECRET);
    expect(server.requests).toBe(0);
    fail = false;
    expect((await runtime.run({ url: `${server.origin}/b` })).status).toBe(200);
    expect(server.requests).toBe(1);
    const stats = await runtime.stats();
    expect(stats.totals.failedByCode).toMatchObject({ FLOWPOOL_HOOK_FAILED: 1 });
    expect(JSON.stringify(stats)).not.toContain(SECRET);
  });

  it('a hook failure is not a host failure: with a breaker at threshold 1, the circuit stays closed', async () => {
    const server = track(await startEchoServer());
    const runtime = runtimeWith(
      {
        afterResponse: () => {
          throw new TypeError('engine bug');
        },
      },
      { circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000, failOn5xx: true } },
    );
    for (let i = 0; i < 3; i++) {
      const outcome = await settle(runtime.run({ url: `${server.origin}/n${i}` }));
      expect(outcome.ok ? 'ok' : outcome.error.code).toBe('FLOWPOOL_HOOK_FAILED');
    }
    expect(server.requests).toBe(3);
    const host = (await runtime.stats()).hosts.find((h) => h.origin === server.origin);
    expect(host?.circuit).toBe('closed');
  });

  it('beforeRequest returning an invalid job fails with FLOWPOOL_INVALID_JOB naming the field, never quoting the value', async () => {
    const server = track(await startEchoServer());
    const runtime = runtimeWith({
      beforeRequest: (job) => ({ ...job, headers: { ...job.headers, authorization: `Bearer ${SECRET}\r\nx: y` } }),
    });
    const outcome = await settle(runtime.run({ url: `${server.origin}/x` }));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('FLOWPOOL_INVALID_JOB');
    expect(outcome.error.details?.field).toBe('job.headers.authorization');
    expect(outcome.error.message).toMatch(/^beforeRequest made the job invalid/);
    expect(outcome.error.message).not.toContain(SECRET);
    expect(server.requests).toBe(0);
  });

  it('the destination policy judges the job beforeRequest returns: a hook cannot send a job to a blocked address', async () => {
    const server = track(await startEchoServer());
    const runtime = runtimeWith({
      beforeRequest: (job) => ({ ...job, url: 'http://169.254.169.254/latest/meta-data/' }),
    });
    const outcome = await settle(runtime.run({ url: `${server.origin}/allowed` }));
    expect(outcome.ok ? undefined : outcome.error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    expect(server.requests).toBe(0);
  });

  it('beforeRequest may not change the tenant or the deadline; nor may it return nothing', async () => {
    const server = track(await startEchoServer());
    const tenants = runtimeWith({ beforeRequest: (job) => ({ ...job, tenant: 'other' }) });
    const moved = await settle(tenants.run({ url: `${server.origin}/t` }));
    expect(moved.ok ? undefined : [moved.error.code, moved.error.details?.field]).toEqual([
      'FLOWPOOL_INVALID_JOB',
      'tenant',
    ]);
    const empty = runtimeWith({ beforeRequest: () => undefined as unknown as HttpJob });
    const nothing = await settle(empty.run({ url: `${server.origin}/t` }));
    expect(nothing.ok ? undefined : nothing.error.code).toBe('FLOWPOOL_INVALID_JOB');
    expect(server.requests).toBe(0);
  });

  it("a hanging async hook ends at the job's deadline (timeoutMs covers hook time): FLOWPOOL_TIMEOUT, phase hook", async () => {
    const server = track(await startEchoServer());
    const runtime = runtimeWith({ beforeRequest: () => new Promise<HttpJob>(() => undefined) });
    await runtime.ready();
    const outcome = await settle(runtime.run({ url: `${server.origin}/slow`, timeoutMs: 150 }));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('FLOWPOOL_TIMEOUT');
    expect(outcome.error.details).toMatchObject({ phase: 'hook', hook: 'beforeRequest' });
    expect(server.requests).toBe(0);
  });

  it('a hook hanging while the workers start ends at timeoutMs from their start, not at the startup bound', async () => {
    const server = track(await startEchoServer());
    const runtime = runtimeWith(
      { beforeRequest: () => new Promise<HttpJob>(() => undefined) },
      // Far past the test's own timeout: a job held to the startup bound would fail the test by never ending.
      { startupTimeoutMs: 3_600_000 },
    );
    // Submitted before ready(): its deadline is the startup bound's until a worker can take jobs.
    const outcome = await settle(runtime.run({ url: `${server.origin}/early`, timeoutMs: 200 }));
    expect(outcome.ok ? undefined : outcome.error.details).toMatchObject({ phase: 'hook', hook: 'beforeRequest' });
    expect(outcome.ok ? undefined : outcome.error.message).toContain('timeoutMs (200 ms)');
    expect(server.requests).toBe(0);
  });

  it("the caller's abort ends a job whose hook still runs: FLOWPOOL_ABORTED, sent false; what the hook returns later is dropped", async () => {
    const server = track(await startEchoServer());
    let release: ((job: HttpJob) => void) | undefined;
    const runtime = runtimeWith({
      beforeRequest: (job) =>
        job.url.endsWith('/c')
          ? new Promise<HttpJob>((resolve) => {
              release = () => resolve(job);
            })
          : job,
    });
    const controller = new AbortController();
    const pending = settle(runtime.run({ url: `${server.origin}/c` }, { signal: controller.signal }));
    await waitUntil(() => release !== undefined, 'the hook to start');
    controller.abort();
    const outcome = await pending;
    expect(outcome.ok ? undefined : [outcome.error.code, outcome.error.details?.sent]).toEqual([
      'FLOWPOOL_ABORTED',
      false,
    ]);
    release?.({ url: `${server.origin}/c` });
    // A later job still runs, and the dropped one never reached the server.
    expect((await runtime.run({ url: `${server.origin}/after` })).status).toBe(200);
    expect(server.seen.map((r) => r.url)).toEqual(['/after']);
  });

  it('a streamed result reaches afterResponse with its stream; a retry of it frees its slot (one connection per host)', async () => {
    const server = track(await tokenServer(() => 'fresh'));
    const bodies: string[] = [];
    const runtime = runtimeWith(
      {
        afterResponse: (result, { job }) => {
          if (job.responseType === 'stream') expect(result.body).toBeInstanceOf(ReadableStream);
          return result.status === 401 ? { retry: { headers: { authorization: 'Bearer fresh' } } } : result;
        },
      },
      { connectionsPerHost: 1 },
    );
    const result = await runtime.run({ url: `${server.origin}/file`, responseType: 'stream', timeoutMs: 5_000 });
    expect(result.status).toBe(200);
    bodies.push(await new Response(result.body).text());
    expect(bodies).toEqual(['welcome']);
    expect(server.requests).toBe(2);
    // The slot of each stream was given back: another job to the host runs.
    expect(
      (await runtime.run({ url: `${server.origin}/next`, headers: { authorization: 'Bearer fresh' } })).status,
    ).toBe(200);
  });

  it('hooks options are checked at createRuntime: unknown names (with a suggestion) and non-functions', () => {
    const attempt = (hooks: unknown) => {
      try {
        createRuntime({ workers: 1, hooks } as RuntimeOptions);
        return undefined;
      } catch (error) {
        return error as FlowpoolError;
      }
    };
    const typo = attempt({ beforeRequst: () => undefined });
    expect(typo?.code).toBe('FLOWPOOL_INVALID_OPTIONS');
    expect(typo?.details).toMatchObject({ field: 'hooks.beforeRequst', suggestion: 'beforeRequest' });
    expect(attempt({ afterResponse: 5 })?.details).toMatchObject({ field: 'hooks.afterResponse' });
    expect(attempt('hooks')?.details).toMatchObject({ field: 'hooks' });
  });
});
