/**
 * runtime.metrics() as Prometheus scrapes it (issue 22, item 6): request duration is a histogram
 * (`flowpool_request_duration_seconds`, the first `_seconds` histogram of the output, one observation per
 * request the loopback server answered, no `quantile` gauge any more); the label sets follow the `metrics`
 * option (origin / host / none, tenant or not, values past the cap under `other`); queue depth per origin
 * and per tenant are gauges, read while the server holds the requests it has and the rest wait.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../dist/src/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

const POLICY = { allow: ['127.0.0.0/8'] };

/** The value of the sample `name{labels}` (or `name` without labels), undefined when absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const prefix = labels === '' ? `${name} ` : `${name}{${labels}} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

let a: CountingServer;
let b: CountingServer;
let held: ServerResponse[] = [];
let holding = false;
let onRequest: (() => void) | undefined;
const runtimes: Runtime[] = [];

function open(options: RuntimeOptions): Runtime {
  const runtime = createRuntime({ workers: 1, policy: POLICY, ...options });
  runtimes.push(runtime);
  return runtime;
}

beforeAll(async () => {
  const handler = (_req: unknown, res: ServerResponse): void => {
    if (holding) held.push(res);
    else res.end('ok');
    onRequest?.();
  };
  a = await startCountingServer(handler);
  b = await startCountingServer(handler);
});

afterEach(async () => {
  holding = false;
  for (const res of held) res.end('ok');
  held = [];
  await Promise.all(runtimes.splice(0).map((r) => r.destroy()));
});

afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

describe('metrics: request duration histogram', () => {
  it('observes each answered request once, by origin and tenant; it is the first _seconds histogram', async () => {
    a.reset();
    const runtime = open({});
    const jobs = [
      runtime.run({ url: `${a.origin}/1`, tenant: 'acme' }),
      runtime.run({ url: `${a.origin}/2`, tenant: 'acme' }),
      runtime.run({ url: `${a.origin}/3`, tenant: 'globex' }),
    ];
    await Promise.all(jobs);
    const text = await runtime.metrics();
    expect(a.requests).toBe(3);
    const acme = `origin="${a.origin}",tenant="acme"`;
    const globex = `origin="${a.origin}",tenant="globex"`;
    expect(sample(text, 'flowpool_request_duration_seconds_count', acme)).toBe(2);
    expect(sample(text, 'flowpool_request_duration_seconds_count', globex)).toBe(1);
    expect(sample(text, 'flowpool_request_duration_seconds_bucket', `${acme},le="+Inf"`)).toBe(2);
    expect(sample(text, 'flowpool_request_duration_seconds_bucket', `${acme},le="60"`)).toBe(2);
    expect(sample(text, 'flowpool_request_duration_seconds_sum', acme)).toBeGreaterThan(0);
    const histograms = text.split('\n').filter((l) => /^# TYPE \S+_seconds histogram$/.test(l));
    expect(histograms[0]).toBe('# TYPE flowpool_request_duration_seconds histogram');
    expect(text).not.toContain('quantile=');
    expect(text).not.toContain('flowpool_host_latency_seconds');
  });

  it("metrics: { origin: 'host', tenant: false } folds both servers' ports into one host series", async () => {
    a.reset();
    b.reset();
    const runtime = open({ metrics: { origin: 'host', tenant: false } });
    await Promise.all([runtime.run({ url: `${a.origin}/`, tenant: 'x' }), runtime.run({ url: `${b.origin}/` })]);
    const text = await runtime.metrics();
    expect(a.requests + b.requests).toBe(2);
    expect(sample(text, 'flowpool_request_duration_seconds_count', 'origin="127.0.0.1"')).toBe(2);
    expect(sample(text, 'flowpool_host_requests_total', 'origin="127.0.0.1"')).toBe(2);
    expect(text).not.toContain('tenant=');
  });

  it('maxLabelValues: 1 counts the second origin under other', async () => {
    const runtime = open({ metrics: { maxLabelValues: 1 } });
    await runtime.run({ url: `${a.origin}/` });
    await runtime.run({ url: `${b.origin}/` });
    const text = await runtime.metrics();
    expect(sample(text, 'flowpool_request_duration_seconds_count', `origin="${a.origin}",tenant="default"`)).toBe(1);
    expect(sample(text, 'flowpool_request_duration_seconds_count', 'origin="other",tenant="default"')).toBe(1);
    expect(sample(text, 'flowpool_host_requests_total', 'origin="other"')).toBe(1);
    expect(text).not.toContain(`origin="${b.origin}"`);
  });
});

describe('metrics: queue depth', () => {
  it('exports jobs waiting per origin and per tenant while the server holds the first', async () => {
    a.reset();
    holding = true;
    const runtime = open({ connectionsPerHost: 1 });
    const first = new Promise<void>((resolve) => (onRequest = resolve));
    const jobs = [1, 2, 3].map((i) => runtime.run({ url: `${a.origin}/${i}`, tenant: i === 3 ? 'beta' : 'alpha' }));
    await first;
    onRequest = undefined;
    const text = await runtime.metrics();
    expect(a.requests).toBe(1);
    expect(sample(text, 'flowpool_host_jobs_queued', `origin="${a.origin}"`)).toBe(2);
    const alpha = sample(text, 'flowpool_tenant_jobs_queued', 'tenant="alpha"') ?? 0;
    const beta = sample(text, 'flowpool_tenant_jobs_queued', 'tenant="beta"') ?? 0;
    expect(alpha + beta).toBe(2);
    expect(text).toContain('# TYPE flowpool_host_jobs_queued gauge');
    holding = false;
    for (const res of held.splice(0)) res.end('ok');
    await Promise.all(jobs);
    expect(a.requests).toBe(3);
    expect(sample(await runtime.metrics(), 'flowpool_host_jobs_queued', `origin="${a.origin}"`)).toBe(0);
  });
});
