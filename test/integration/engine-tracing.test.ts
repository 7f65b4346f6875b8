/**
 * OpenTelemetry spans of a workflow run, recorded by the SDK's in-memory exporter: one span per run, a
 * child per node, and under an http node the runtime's own CLIENT span per attempt (method, URL without
 * query values, status), all in one trace; the request span's W3C `traceparent` crosses to the worker
 * thread with the job and the loopback server sees it. With the executor's tracing off: no workflow spans,
 * and the runtime's request span (it follows the registered provider) is a root.
 */
import { trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { createExecutor } from '../../dist/src/engine/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let server: CountingServer;
let runtime: Runtime;
const traceparents: (string | undefined)[] = [];

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  server = await startCountingServer((req, res) => {
    const header = req.headers.traceparent;
    traceparents.push(Array.isArray(header) ? header.join(',') : header);
    res.statusCode = req.url?.startsWith('/missing') === true ? 404 : 200;
    res.end('hello world');
  });
  runtime = createRuntime({ workers: 2, policy: { allow: ['127.0.0.0/8'] } });
});

beforeEach(() => {
  exporter.reset();
  traceparents.length = 0;
});

afterAll(async () => {
  await runtime.close();
  await server.close();
  await provider.shutdown();
  trace.disable();
});

describe('tracing', () => {
  it('records run > node > request spans, and the server sees the request span as parent', async () => {
    const result = await createExecutor(runtime).run({
      workflow_id: 'traced',
      nodes: [
        { id: 'fetch', data: { url: `${server.origin}/trace?token=secret&page=2` } },
        { id: 'shout', data: { text_op: 'uppercase' } },
      ],
      edges: [{ source: 'fetch', target: 'shout' }],
    });
    expect(result.status).toBe('success');
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name).sort()).toEqual([
      'GET',
      'workflow.node fetch',
      'workflow.node shout',
      'workflow.run',
    ]);
    const byName = (name: string) => spans.find((span) => span.name === name);
    const root = byName('workflow.run');
    const fetch = byName('workflow.node fetch');
    const shout = byName('workflow.node shout');
    const job = byName('GET');
    if (root === undefined || fetch === undefined || shout === undefined || job === undefined)
      throw new Error('missing span');
    const traceId = root.spanContext().traceId;
    for (const span of spans) expect(span.spanContext().traceId).toBe(traceId);
    expect(root.parentSpanContext).toBeUndefined();
    expect(fetch.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(shout.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(job.parentSpanContext?.spanId).toBe(fetch.spanContext().spanId);
    expect(root.attributes).toMatchObject({
      'flowpool.workflow.id': 'traced',
      'flowpool.execution.id': result.executionId,
      'flowpool.workflow.status': 'success',
    });
    expect(fetch.attributes).toMatchObject({
      'flowpool.node.id': 'fetch',
      'flowpool.node.type': 'http',
      'http.response.status_code': 200,
      'flowpool.attempts': 1,
    });
    expect(typeof fetch.attributes['flowpool.worker']).toBe('number');
    expect(job.kind).toBe(SpanKind.CLIENT);
    expect(job.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.full': `${server.origin}/trace?token=REDACTED&page=REDACTED`,
      'http.response.status_code': 200,
      'http.request.resend_count': 0,
    });
    expect(traceparents).toEqual([`00-${traceId}-${job.spanContext().spanId}-01`]);
  });

  it('marks a failed node and the run as errors', async () => {
    const result = await createExecutor(runtime).run({
      nodes: [{ id: 'gone', data: { url: `${server.origin}/missing` } }],
    });
    expect(result.status).toBe('error');
    const spans = exporter.getFinishedSpans();
    for (const name of ['workflow.run', 'workflow.node gone', 'GET']) {
      const span = spans.find((candidate) => candidate.name === name);
      expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    }
    expect(spans.find((span) => span.name === 'workflow.node gone')?.attributes['error.type']).toBe('HTTP_STATUS');
    expect(spans.find((span) => span.name === 'GET')?.attributes['error.type']).toBe('404');
    expect(traceparents).toHaveLength(1);
  });

  it("tracing: false records no workflow span; the runtime's request span is a root", async () => {
    const result = await createExecutor(runtime, { tracing: false }).run({
      nodes: [{ id: 'fetch', data: { url: `${server.origin}/plain` } }],
    });
    expect(result.status).toBe('success');
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(['GET']);
    const [job] = spans;
    expect(job?.parentSpanContext).toBeUndefined();
    expect(traceparents).toEqual([`00-${job?.spanContext().traceId}-${job?.spanContext().spanId}-01`]);
  });
});
