/**
 * The runtime's own OpenTelemetry spans: one CLIENT span per attempt of run(), recorded by the SDK's
 * in-memory exporter, checked against what the loopback server received (`traceparent`, one per request).
 * The tracer provider is looked up per run: one registered after the runtime was created counts, and
 * without one no span is made and no header is added.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type TextMapPropagator } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { TestContextManager } from '../fixtures/otel-context.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { closedPort, startScriptedServer, type Reply } from '../fixtures/traffic-server.js';
import { startCountingServer } from '../fixtures/counting-server.js';
import { settle, waitUntil } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new TestContextManager();

/** `traceparent` (or another header) as each request arrived at the server, in order. */
const received: (string | undefined)[] = [];
let header = 'traceparent';

function recordingServer(script: (n: number) => Reply = () => ({ status: 200 })) {
  return startScriptedServer((n, req) => {
    const value = req.headers[header];
    received.push(Array.isArray(value) ? value.join(',') : value);
    return script(n);
  });
}

function traceparentOf(span: ReadableSpan): string {
  const { traceId, spanId } = span.spanContext();
  return `00-${traceId}-${spanId}-01`;
}

/** Spans in the order their attempts started. */
function clientSpans(): ReadableSpan[] {
  return exporter
    .getFinishedSpans()
    .filter((span) => span.kind === SpanKind.CLIENT)
    .sort(
      (a, b) => Number(a.attributes['http.request.resend_count']) - Number(b.attributes['http.request.resend_count']),
    );
}

beforeAll(() => {
  context.setGlobalContextManager(contextManager);
});

beforeEach(() => {
  exporter.reset();
  received.length = 0;
  header = 'traceparent';
});

afterEach(() => {
  trace.disable();
  propagation.disable();
});

afterAll(async () => {
  await provider.shutdown();
  context.disable();
});

describe('request spans', () => {
  const track = closeAfterEach();

  it('three run() calls: three CLIENT spans, each the parent the server was told of', async () => {
    const server = track(await recordingServer());
    const runtime = track(createRuntime({ workers: 2, policy: LOOPBACK }));
    // Registered after the runtime was created: looked up per run.
    trace.setGlobalTracerProvider(provider);
    for (let i = 0; i < 3; i++) {
      const result = await runtime.run({ url: `${server.origin}/item/${i}?token=secret&page=2` });
      expect(result.status).toBe(200);
    }
    const spans = clientSpans();
    expect(spans).toHaveLength(3);
    const port = Number(new URL(server.origin).port);
    for (const [i, span] of spans.entries()) {
      expect(span.name).toBe('GET');
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.instrumentationScope.name).toBe('flowpool');
      expect(span.attributes).toEqual({
        'http.request.method': 'GET',
        'url.full': `${server.origin}/item/${i}?token=REDACTED&page=REDACTED`,
        'server.address': '127.0.0.1',
        'server.port': port,
        'http.request.resend_count': 0,
        'http.response.status_code': 200,
      });
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
    }
    // Each request carried its own span's context (spans finish in order: one run at a time).
    expect(received).toEqual(spans.map(traceparentOf));
    expect(new Set(spans.map((span) => span.spanContext().traceId)).size).toBe(3);
  });

  it('no provider registered: no span and no traceparent; one registered later counts at once', async () => {
    const server = track(await recordingServer());
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    await runtime.run({ url: `${server.origin}/before` });
    expect(received).toEqual([undefined]);
    expect(exporter.getFinishedSpans()).toEqual([]);
    trace.setGlobalTracerProvider(provider);
    await runtime.run({ url: `${server.origin}/after` });
    const spans = clientSpans();
    expect(spans).toHaveLength(1);
    expect(received[1]).toBe(traceparentOf(spans[0] as ReadableSpan));
  });

  it('a retried job (503, then 200): two spans, resend_count 0 and 1, each sent to the server', async () => {
    const server = track(await recordingServer((n) => ({ status: n === 1 ? 503 : 200 })));
    const runtime = track(
      createRuntime({ workers: 1, policy: LOOPBACK, retry: { attempts: 2, minDelayMs: 1, maxDelayMs: 2 } }),
    );
    trace.setGlobalTracerProvider(provider);
    // Under the caller's span both attempts are its children (without one, each attempt is a trace's root).
    const parent = trace.getTracer('test').startSpan('caller');
    const result = await context.with(trace.setSpan(context.active(), parent), () =>
      runtime.run({ url: `${server.origin}/flaky` }),
    );
    parent.end();
    expect(result.status).toBe(200);
    expect(result.attempts).toBe(2);
    const [first, second] = clientSpans();
    if (first === undefined || second === undefined) throw new Error('expected two spans');
    expect(clientSpans()).toHaveLength(2);
    expect(first.attributes).toMatchObject({
      'http.request.resend_count': 0,
      'http.response.status_code': 503,
      'error.type': '503',
    });
    expect(first.status.code).toBe(SpanStatusCode.ERROR);
    expect(second.attributes).toMatchObject({ 'http.request.resend_count': 1, 'http.response.status_code': 200 });
    expect(second.attributes['error.type']).toBeUndefined();
    expect(second.status.code).toBe(SpanStatusCode.UNSET);
    expect(received).toEqual([traceparentOf(first), traceparentOf(second)]);
    for (const span of [first, second]) expect(span.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
  });

  it('a redirect to another origin stays within its attempt: one span, each request carrying it', async () => {
    const target = track(await recordingServer());
    const source = track(
      await startScriptedServer((_, req) => {
        const value = req.headers.traceparent;
        received.push(Array.isArray(value) ? value.join(',') : value);
        return { status: 302, headers: { location: `${target.origin}/landed` } };
      }),
    );
    const runtime = track(createRuntime({ workers: 2, policy: LOOPBACK }));
    trace.setGlobalTracerProvider(provider);
    const result = await runtime.run({ url: `${source.origin}/moved` });
    expect(result.status).toBe(200);
    const spans = clientSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]?.attributes).toMatchObject({
      'url.full': `${source.origin}/moved`,
      'http.response.status_code': 200,
    });
    const expected = traceparentOf(spans[0] as ReadableSpan);
    expect(received).toEqual([expected, expected]);
  });

  it('a refused connection: the span ends with error.type, the code', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK, retry: { attempts: 1 } }));
    trace.setGlobalTracerProvider(provider);
    const outcome = await settle(runtime.run({ url: `${down}/x` }));
    expect(outcome.ok ? 'resolved' : outcome.error.code).toBe('FLOWPOOL_CONNECTION_FAILED');
    const spans = clientSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]?.attributes['error.type']).toBe('FLOWPOOL_CONNECTION_FAILED');
    expect(spans[0]?.attributes['http.response.status_code']).toBeUndefined();
    expect(spans[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('a URL with credentials is refused before any span; query values never reach url.full', async () => {
    const server = track(await recordingServer());
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    trace.setGlobalTracerProvider(provider);
    const withUser = server.origin.replace('http://', 'http://user:secret@');
    const refused = await settle(runtime.run({ url: `${withUser}/x` }));
    expect(refused.ok ? 'resolved' : refused.error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    await runtime.run({ url: `${server.origin}/x?api_key=s3cret&sig=abc#frag` });
    const spans = clientSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]?.attributes['url.full']).toBe(`${server.origin}/x?api_key=REDACTED&sig=REDACTED`);
    expect(JSON.stringify(spans[0]?.attributes)).not.toMatch(/secret|s3cret|abc|user/);
  });

  it('a run inside an active span (context.with) is its child, in its trace', async () => {
    const server = track(await recordingServer());
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    trace.setGlobalTracerProvider(provider);
    const parent = trace.getTracer('test').startSpan('caller');
    await context.with(trace.setSpan(context.active(), parent), async () => {
      // An await before run(): the context must follow the caller, not the moment of import.
      await Promise.resolve();
      await runtime.run({ url: `${server.origin}/child` });
    });
    parent.end();
    const [span] = clientSpans();
    expect(span?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(span?.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(received).toEqual([traceparentOf(span as ReadableSpan)]);
  });

  it("a job's own traceparent is the span's parent, and the request carries the span's instead", async () => {
    const server = track(await recordingServer());
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    trace.setGlobalTracerProvider(provider);
    const remote = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
    await runtime.run({ url: `${server.origin}/remote`, headers: { TraceParent: remote } });
    const [span] = clientSpans();
    expect(span?.parentSpanContext).toMatchObject({ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) });
    expect(received).toEqual([traceparentOf(span as ReadableSpan)]);
  });

  it("a job's traceparent is sent untouched when nothing is traced", async () => {
    const server = track(await recordingServer());
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    const remote = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
    await runtime.run({ url: `${server.origin}/remote`, headers: { traceparent: remote } });
    expect(received).toEqual([remote]);
  });

  it('a streamed body: the span ends with the body, not at its headers', async () => {
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const server = track(
      await startCountingServer((req, res) => {
        const value = req.headers.traceparent;
        received.push(Array.isArray(value) ? value.join(',') : value);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first ');
        void finished.then(() => res.end('last'));
      }),
    );
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    trace.setGlobalTracerProvider(provider);
    const result = await runtime.run({ url: `${server.origin}/stream`, responseType: 'stream' });
    // The server holds the body's end: the attempt is not over.
    expect(clientSpans()).toEqual([]);
    finish();
    const text = await new Response(result.body).text();
    expect(text).toBe('first last');
    await waitUntil(() => clientSpans().length === 1, 'the stream span to end');
    const [span] = clientSpans();
    expect(span?.attributes['http.response.status_code']).toBe(200);
    expect(received).toEqual([traceparentOf(span as ReadableSpan)]);
  });

  it("the application's registered propagator writes the headers", async () => {
    header = 'x-test-trace';
    const propagator: TextMapPropagator = {
      inject(ctx, carrier, setter) {
        const spanContext = trace.getSpanContext(ctx);
        if (spanContext !== undefined)
          setter.set(carrier, 'X-Test-Trace', `${spanContext.traceId}/${spanContext.spanId}`);
      },
      extract: (ctx) => ctx,
      fields: () => ['x-test-trace'],
    };
    propagation.setGlobalPropagator(propagator);
    const server = track(
      await startScriptedServer((_, req) => {
        received.push(`${String(req.headers['x-test-trace'])} ${String(req.headers.traceparent)}`);
        return { status: 200 };
      }),
    );
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    trace.setGlobalTracerProvider(provider);
    await runtime.run({ url: `${server.origin}/custom` });
    const [span] = clientSpans();
    const { traceId, spanId } = (span as ReadableSpan).spanContext();
    expect(received).toEqual([`${traceId}/${spanId} undefined`]);
  });
});
