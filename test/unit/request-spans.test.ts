/**
 * The request spans' pure parts, without threads: what `url.full` may carry, which headers an attempt is
 * sent with, and that without a registered provider no trace (no object) is begun for a job.
 */
import { SpanKind, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { urlForSpan } from '../../dist/src/observe/otel.js';
import { RequestSpans } from '../../dist/src/observe/request-spans.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

afterEach(() => {
  trace.disable();
  exporter.reset();
});

describe('url.full', () => {
  it('drops user name, password and fragment, and redacts every query value', () => {
    expect(urlForSpan(new URL('https://user:p%40ss@api.example:8443/v1/items?token=abc&x=1&x=2#frag'))).toBe(
      'https://api.example:8443/v1/items?token=REDACTED&x=REDACTED&x=REDACTED',
    );
    expect(urlForSpan('http://[::1]:80/a?')).toBe('http://[::1]/a');
    expect(urlForSpan('not a url')).toBe('');
  });
});

describe('RequestSpans', () => {
  const job = {
    method: 'GET',
    href: 'https://[::1]/p?q=1',
    headers: ['accept', '*/*', 'traceparent', `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`, 'x-id', '7'],
  };

  it('begins no trace while no provider is registered, and one once it is', () => {
    const spans = new RequestSpans();
    expect(spans.begin(job)).toBeUndefined();
    trace.setGlobalTracerProvider(provider);
    expect(spans.begin(job)).toBeDefined();
    trace.disable();
    expect(spans.begin(job)).toBeUndefined();
  });

  it("sends the span's context in place of the job's traceparent, other headers untouched", () => {
    trace.setGlobalTracerProvider(provider);
    const run = new RequestSpans().begin(job);
    if (run === undefined) throw new Error('expected a trace');
    run.startAttempt(job, 1);
    const headers = run.headers(job.headers);
    run.answered(204);
    const [span] = exporter.getFinishedSpans();
    if (span === undefined) throw new Error('expected a span');
    const { traceId, spanId } = span.spanContext();
    expect(headers).toEqual(['accept', '*/*', 'x-id', '7', 'traceparent', `00-${traceId}-${spanId}-01`]);
    expect(traceId).toBe('ab'.repeat(16));
    expect(span.parentSpanContext?.spanId).toBe('cd'.repeat(8));
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toMatchObject({
      'server.address': '::1',
      'server.port': 443,
      'url.full': 'https://[::1]/p?q=REDACTED',
    });
    // Ended once: a later end is a no-op, and no headers are added for an ended span.
    run.failed('FLOWPOOL_TIMEOUT', 'late');
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(run.headers(job.headers)).toBe(job.headers);
  });

  it('names an unknown method _OTHER and keeps the original', () => {
    trace.setGlobalTracerProvider(provider);
    const custom = { ...job, method: 'PURGE', headers: [] };
    const run = new RequestSpans().begin(custom);
    run?.startAttempt(custom, 2);
    run?.failed('FLOWPOOL_CONNECTION_FAILED', 'refused');
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('HTTP');
    expect(span?.attributes).toMatchObject({
      'http.request.method': '_OTHER',
      'http.request.method_original': 'PURGE',
      'http.request.resend_count': 1,
      'error.type': 'FLOWPOOL_CONNECTION_FAILED',
    });
  });
});
