/**
 * HTTP nodes through a real runtime against a real loopback server (the seed's executor tests, plus
 * concurrency observed at the server): success, error statuses, invalid URL, HTTP -> text operation,
 * HTTP error -> text operation, chains, 2xx/3xx/4xx/5xx, blocked destinations, timeouts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import {
  createExecutor,
  runWorkflow,
  WorkflowValidationError,
  type WorkflowExecutor,
  type WorkflowResult,
} from '../../dist/src/engine/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

let server: CountingServer;
let runtime: Runtime;
let executor: WorkflowExecutor;

beforeAll(async () => {
  server = await startCountingServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const status = /^\/status\/(\d{3})$/.exec(url.pathname)?.[1];
    if (status !== undefined) {
      const code = Number(status);
      if (code >= 300 && code < 400) res.setHeader('location', '/text');
      res.statusCode = code;
      res.end(code === 204 || code === 304 ? undefined : `body of ${code}`);
    } else if (url.pathname === '/text') {
      res.end('hello wORLD');
    } else if (url.pathname === '/json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ greeting: 'hi', n: 1 }));
    } else if (url.pathname === '/bad-json') {
      res.setHeader('content-type', 'application/json');
      res.end('{"truncated":');
    } else if (url.pathname === '/echo') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () =>
        res.end(
          `${req.method} ${req.headers['content-type'] ?? '-'} ${String(req.headers['x-tenant'] ?? '-')} ${Buffer.concat(chunks).toString()}`,
        ),
      );
    } else if (url.pathname === '/slow') {
      setTimeout(() => res.end(`slow ${url.searchParams.get('n') ?? ''}`), 100);
    } else {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  runtime = createRuntime({ workers: 2, policy: { allow: ['127.0.0.0/8'] } });
  executor = createExecutor(runtime);
});

afterAll(async () => {
  await runtime.close();
  await server.close();
});

const http = (id: string, path: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'http',
  data: { url: `${server.origin}${path}`, ...extra },
});
const text = (id: string, op: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'text_operation',
  data: { text_op: op, ...extra },
});
const node = (result: WorkflowResult, id: string) => result.nodes.find((entry) => entry.id === id);

describe('http node', () => {
  it('outputs the response body as text', async () => {
    const result = await executor.run({ nodes: [http('fetch', '/text')] });
    expect(result).toMatchObject({
      status: 'success',
      nodes: [{ id: 'fetch', type: 'http', status: 'success', output: 'hello wORLD' }],
    });
  });

  it('outputs parsed JSON with responseType json', async () => {
    const result = await executor.run({ nodes: [http('fetch', '/json', { responseType: 'json' })] });
    expect(node(result, 'fetch')?.output).toEqual({ greeting: 'hi', n: 1 });
  });

  it('with responseType json, still reports the status of a non-JSON error page, and refuses a 2xx that is not JSON', async () => {
    const failed = await executor.run({ nodes: [http('fetch', '/status/500', { responseType: 'json' })] });
    expect(node(failed, 'fetch')?.error).toMatchObject({ code: 'HTTP_STATUS', status: 500 });
    const empty = await executor.run({ nodes: [http('fetch', '/status/204', { responseType: 'json' })] });
    expect(node(empty, 'fetch')).toMatchObject({ status: 'success', output: null });
    const broken = await executor.run({ nodes: [http('fetch', '/bad-json', { responseType: 'json' })] });
    expect(node(broken, 'fetch')?.error).toMatchObject({
      code: 'FLOWPOOL_INVALID_RESPONSE',
      message: expect.stringContaining('not valid JSON') as unknown,
    });
  });

  it('sends method, headers and a JSON body', async () => {
    const result = await executor.run({
      nodes: [http('post', '/echo', { method: 'POST', headers: { 'x-tenant': 't1' }, json: { a: 1 } })],
    });
    expect(node(result, 'post')?.output).toBe('POST application/json t1 {"a":1}');
  });

  it.each([404, 500])('fails the node with HTTP_STATUS on %i, and the workflow names it', async (status) => {
    const result = await executor.run({
      nodes: [http('fetch', `/status/${status}`), text('after', 'uppercase')],
      edges: [{ source: 'fetch', target: 'after' }],
    });
    expect(result.status).toBe('error');
    expect(result.failedNode).toBe('fetch');
    expect(result.error).toEqual({
      code: 'HTTP_STATUS',
      status,
      message: expect.stringContaining(`answered ${status}`) as unknown,
    });
    expect(node(result, 'after')?.status).toBe('skipped');
  });

  it('rejects an invalid URL at validation, before any request', async () => {
    const before = server.requests;
    const bad = { nodes: [http('ok', '/text'), { id: 'broken', type: 'http', data: { url: 'http//missing-colon' } }] };
    await expect(executor.run(bad)).rejects.toBeInstanceOf(WorkflowValidationError);
    await expect(executor.run(bad)).rejects.toThrow(
      'node "broken": data.url: expected an absolute http or https URL, received "http//missing-colon"',
    );
    expect(server.requests).toBe(before);
  });

  it('feeds a text operation', async () => {
    const result = await executor.run({
      nodes: [http('fetch', '/text'), text('title', 'titlecase')],
      edges: [{ source: 'fetch', target: 'title' }],
    });
    expect(node(result, 'title')?.output).toBe('Hello World');
  });

  it('sends its error to a text operation along an error edge', async () => {
    const result = await executor.run({
      nodes: [http('fetch', '/status/404'), text('shout', 'uppercase'), text('unused', 'lowercase')],
      edges: [
        { source: 'fetch', target: 'shout', port: 'error' },
        { source: 'fetch', target: 'unused' },
      ],
    });
    expect(result.status).toBe('success');
    expect(node(result, 'fetch')).toMatchObject({ status: 'error', error: { code: 'HTTP_STATUS', status: 404 } });
    expect(node(result, 'shout')?.output).toBe(`GET ${server.origin.toUpperCase()}/STATUS/404 ANSWERED 404 NOT FOUND`);
    expect(node(result, 'unused')?.status).toBe('skipped');
  });

  it('chains text operations (repeat ignores a leftover separator, as in Go)', async () => {
    const result = await executor.run({
      nodes: [
        http('fetch', '/text'),
        text('title', 'titlecase'),
        text('invert', 'inversecase'),
        text('twice', 'repeat', { repeat_n: 2, separator: ' + ' }),
      ],
      edges: [
        { source: 'fetch', target: 'title' },
        { source: 'title', target: 'invert' },
        { source: 'invert', target: 'twice' },
      ],
    });
    expect(result.nodes.map((entry) => entry.output)).toEqual([
      'hello wORLD',
      'Hello World',
      'hELLO wORLD',
      'hELLO wORLDhELLO wORLD',
    ]);
  });

  it('fails a text operation given parsed JSON (non-text input)', async () => {
    const result = await executor.run({
      nodes: [http('fetch', '/json', { responseType: 'json' }), text('upper', 'uppercase')],
      edges: [{ source: 'fetch', target: 'upper' }],
    });
    expect(result).toMatchObject({ status: 'error', failedNode: 'upper', error: { code: 'TEXT_OP_INVALID_INPUT' } });
  });

  describe('status codes', () => {
    it.each([
      [200, 'success', 'body of 200'],
      [201, 'success', 'body of 201'],
      [204, 'success', ''],
      [299, 'success', 'body of 299'],
      [301, 'success', 'hello wORLD'],
      [302, 'success', 'hello wORLD'],
      [307, 'success', 'hello wORLD'],
      [400, 'error', undefined],
      [404, 'error', undefined],
      [429, 'error', undefined],
      [500, 'error', undefined],
      [503, 'error', undefined],
    ] as const)('%i -> %s', async (status, outcome, output) => {
      const result = await executor.run({ nodes: [http('fetch', `/status/${status}`)] });
      const fetched = node(result, 'fetch');
      expect(fetched?.status).toBe(outcome);
      if (outcome === 'success') expect(fetched?.output).toBe(output);
      else expect(fetched?.error).toMatchObject({ code: 'HTTP_STATUS', status });
    });

    it('treats a redirect not followed (followRedirects false) as a node error', async () => {
      const result = await executor.run({ nodes: [http('fetch', '/status/302', { followRedirects: false })] });
      expect(node(result, 'fetch')?.error).toMatchObject({ code: 'HTTP_STATUS', status: 302 });
    });
  });

  it('runs independent HTTP nodes concurrently (seen at the server)', async () => {
    server.reset();
    const result = await executor.run({
      nodes: [...[1, 2, 3, 4].map((n) => http(`slow${n}`, `/slow?n=${n}`)), text('join', 'concat', { separator: ',' })],
      edges: [1, 2, 3, 4].map((n) => ({ source: `slow${n}`, target: 'join' })),
    });
    expect(node(result, 'join')?.output).toBe('slow 1,slow 2,slow 3,slow 4');
    expect(server.peakActive).toBeGreaterThanOrEqual(2);
  });

  it('runs many workflows at once on one runtime', async () => {
    server.reset();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        executor.run({
          nodes: [http('fetch', `/slow?n=${i}`), text('upper', 'uppercase')],
          edges: [{ source: 'fetch', target: 'upper' }],
        }),
      ),
    );
    expect(results.map((result) => node(result, 'upper')?.output)).toEqual(
      Array.from({ length: 10 }, (_, i) => `SLOW ${i}`),
    );
    expect(server.peakActive).toBeGreaterThanOrEqual(2);
  });

  it('fails with FLOWPOOL_TIMEOUT past the node timeoutMs', async () => {
    const result = await executor.run({ nodes: [http('late', '/slow', { timeoutMs: 30 })] });
    expect(result).toMatchObject({ status: 'error', failedNode: 'late', error: { code: 'FLOWPOOL_TIMEOUT' } });
  });

  it('fails with FLOWPOOL_BLOCKED_DESTINATION under the default policy, and nothing reaches the server', async () => {
    const strict = createRuntime({ workers: 1 });
    try {
      server.reset();
      const result = await runWorkflow(strict, { nodes: [http('fetch', '/text')] });
      expect(result).toMatchObject({
        status: 'error',
        failedNode: 'fetch',
        error: { code: 'FLOWPOOL_BLOCKED_DESTINATION', message: expect.stringContaining('loopback') as unknown },
      });
      expect(server.connections).toBe(0);
    } finally {
      await strict.close();
    }
  });
});
