/**
 * The Go engine's HTTP limits and body reading, through a real runtime and a loopback server that counts
 * what it saw (reference: yesoreyeram/thaiyyal 488dcb5):
 * - the per-run HTTP call cap (backend/pkg/engine/engine.go@488dcb5 IncrementHTTPCall, DefaultConfig
 *   MaxHTTPCallsPerExec 100 in backend/pkg/types/helpers.go@488dcb5), with Go's own test tables from
 *   backend/pkg/engine/protection_test.go@488dcb5 and its createHTTPWorkflow payload: the call past the
 *   cap is never sent;
 * - Go's redirect limit (backend/pkg/executor/http.go@488dcb5 CheckRedirect: `len(via) >= 10` fails):
 *   9 redirects are followed, the 10th is not;
 * - `bodyDecoding: 'go'`: the body's raw bytes (http.go@488dcb5 `return string(body), nil`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { createExecutor, toThaiyyalResult, WORKFLOW_HTTP_CALL_LIMIT } from '../../dist/src/engine/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

let server: CountingServer;
let runtime: Runtime;
const paths: string[] = [];

function answer(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '';
  paths.push(url);
  const hop = /^\/hop\/(\d+)$/.exec(url);
  if (hop !== null) {
    const left = Number(hop[1]);
    if (left === 0) res.end('landed');
    else {
      res.writeHead(302, { location: `/hop/${String(left - 1)}` });
      res.end();
    }
  } else if (url === '/latin1') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=iso-8859-1' });
    res.end(Buffer.from([0x63, 0x61, 0x66, 0xe9])); // "café" in Latin-1
  } else if (url === '/bom') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('hello world')]));
  } else if (url === '/bom-json') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]));
  } else res.end('OK');
}

beforeAll(async () => {
  server = await startCountingServer(answer);
  runtime = createRuntime({ workers: 1, policy: { allow: ['127.0.0.0/8'] } });
});

afterAll(async () => {
  await runtime.close();
  await server.close();
});

function reset(): void {
  server.reset();
  paths.length = 0;
}

/** protection_test.go@488dcb5 createHTTPWorkflow: a chain of http nodes http0 -> http1 -> ... */
function createHTTPWorkflow(url: string, httpNodeCount: number): unknown {
  const nodes: unknown[] = [];
  const edges: unknown[] = [];
  for (let i = 0; i < httpNodeCount; i++) {
    nodes.push({ id: `http${String(i)}`, type: 'http', data: { url } });
    if (i > 0) edges.push({ id: `e${String(i)}`, source: `http${String(i - 1)}`, target: `http${String(i)}` });
  }
  return JSON.parse(JSON.stringify({ nodes, edges })) as unknown;
}

describe('HTTP calls per run (protection_test.go@488dcb5)', () => {
  // TestMaxHTTPCallsPerExecution's table, verbatim.
  it.each([
    { name: 'under limit', maxHTTPCalls: 10, httpNodeCount: 5, shouldFail: false },
    { name: 'at limit', maxHTTPCalls: 5, httpNodeCount: 5, shouldFail: false },
    { name: 'exceed limit', maxHTTPCalls: 3, httpNodeCount: 5, shouldFail: true },
    { name: 'unlimited', maxHTTPCalls: 0, httpNodeCount: 10, shouldFail: false },
  ])('TestMaxHTTPCallsPerExecution: $name', async ({ maxHTTPCalls, httpNodeCount, shouldFail }) => {
    reset();
    const executor = createExecutor(runtime, { maxHttpCallsPerRun: maxHTTPCalls });
    const workflow = executor.validate(createHTTPWorkflow(`${server.origin}/ok`, httpNodeCount));
    const result = await executor.run(workflow);
    if (shouldFail) {
      // Go: GetHTTPCallCount() == maxHTTPCalls + 1, the last one refused before it was sent.
      expect(server.requests).toBe(maxHTTPCalls);
      expect(result.failedNode).toBe(`http${String(maxHTTPCalls)}`);
      expect(result.error?.code).toBe(WORKFLOW_HTTP_CALL_LIMIT);
      const goShaped = toThaiyyalResult(result, workflow);
      expect(goShaped.errors[0]).toContain('maximum HTTP calls per execution exceeded');
      expect(goShaped.final_output).toBeNull();
    } else {
      expect(result.status).toBe('success');
      expect(server.requests).toBe(httpNodeCount);
    }
  });

  // TestHTTPCallsInChain's table, verbatim: expectedCalls is Go's count, which includes the refused call.
  it.each([
    { name: 'HTTP chain under limit', maxHTTPCalls: 10, httpCallCount: 3, shouldFail: false, expectedCalls: 3 },
    { name: 'HTTP chain exceed limit', maxHTTPCalls: 5, httpCallCount: 10, shouldFail: true, expectedCalls: 6 },
    { name: 'HTTP chain unlimited', maxHTTPCalls: 0, httpCallCount: 20, shouldFail: false, expectedCalls: 20 },
  ])('TestHTTPCallsInChain: $name', async ({ maxHTTPCalls, httpCallCount, shouldFail, expectedCalls }) => {
    reset();
    const executor = createExecutor(runtime, { format: 'thaiyyal', maxHttpCallsPerRun: maxHTTPCalls });
    const result = await executor.run(createHTTPWorkflow(`${server.origin}/ok`, httpCallCount));
    if (shouldFail) {
      expect(result.errors).toEqual([
        `error executing node http${String(expectedCalls - 1)}: maximum HTTP calls per execution exceeded: ${String(expectedCalls)} (limit: ${String(maxHTTPCalls)}, the executor's maxHttpCallsPerRun)`,
      ]);
      expect(server.requests).toBe(expectedCalls - 1);
    } else {
      expect(result.errors).toEqual([]);
      expect(server.requests).toBe(expectedCalls);
    }
  });

  it('the default is 100 (DefaultConfig MaxHTTPCallsPerExec): the 101st call is never sent', async () => {
    const executor = createExecutor(runtime);
    reset();
    const hundred = await executor.run(createHTTPWorkflow(`${server.origin}/ok`, 100));
    expect(hundred.status).toBe('success');
    expect(server.requests).toBe(100);

    reset();
    const more = await executor.run(createHTTPWorkflow(`${server.origin}/ok`, 101));
    expect(server.requests).toBe(100);
    expect(more.failedNode).toBe('http100');
    expect(more.error).toEqual({
      code: WORKFLOW_HTTP_CALL_LIMIT,
      message: "maximum HTTP calls per execution exceeded: 101 (limit: 100, the executor's maxHttpCallsPerRun)",
    });
  });

  it('counts per run: the same executor runs the same workflow again from zero', async () => {
    const executor = createExecutor(runtime, { maxHttpCallsPerRun: 3 });
    const workflow = executor.validate(createHTTPWorkflow(`${server.origin}/ok`, 3));
    reset();
    const [first, second] = await Promise.all([executor.run(workflow), executor.run(workflow)]);
    expect([first.status, second.status]).toEqual(['success', 'success']);
    expect(server.requests).toBe(6);
  });
});

describe("redirects: Go's client follows 9 and fails at the 10th (http.go@488dcb5 CheckRedirect)", () => {
  const node = (path: string): unknown => ({ nodes: [{ id: 'get', data: { url: `${server.origin}${path}` } }] });

  it('9 redirects are followed: 10 requests, the last one answered', async () => {
    reset();
    const result = await createExecutor(runtime, { format: 'thaiyyal' }).run(node('/hop/9'));
    expect(result.final_output).toBe('landed');
    expect(server.requests).toBe(10);
  });

  it('the 10th redirect fails the node and is not followed', async () => {
    reset();
    const result = await createExecutor(runtime).run(node('/hop/10'));
    expect(result.error?.code).toBe('FLOWPOOL_TOO_MANY_REDIRECTS');
    expect(server.requests).toBe(10);
    expect(paths).not.toContain('/hop/0');
  });

  it("the executor's maxRedirects sets another limit", async () => {
    reset();
    const result = await createExecutor(runtime, { maxRedirects: 2 }).run(node('/hop/3'));
    expect(result.error?.code).toBe('FLOWPOOL_TOO_MANY_REDIRECTS');
    expect(paths).toEqual(['/hop/3', '/hop/2', '/hop/1']);
  });

  it("a job outside workflows keeps the runtime's own default (5)", async () => {
    reset();
    await expect(runtime.run({ url: `${server.origin}/hop/9` })).rejects.toMatchObject({
      code: 'FLOWPOOL_TOO_MANY_REDIRECTS',
    });
    expect(server.requests).toBe(6);
  });
});

describe("body decoding: 'go' keeps Go's raw bytes, 'charset' (the default) decodes by charset", () => {
  const upper = (path: string, op = 'uppercase'): unknown => ({
    nodes: [
      { id: '1', data: { url: `${server.origin}${path}` } },
      { id: '2', data: { text_op: op } },
    ],
    edges: [{ id: 'e1', source: '1', target: '2' }],
  });

  it.each([
    ['go', '/latin1', 'uppercase', 'caf\uFFFD', 'CAF\uFFFD'],
    ['charset', '/latin1', 'uppercase', 'café', 'CAFÉ'],
    ['go', '/bom', 'titlecase', '\uFEFFhello world', '\uFEFFHello World'],
    ['charset', '/bom', 'titlecase', 'hello world', 'Hello World'],
  ] as const)('%s: %s then %s', async (bodyDecoding, path, op, body, output) => {
    reset();
    const result = await createExecutor(runtime, { format: 'thaiyyal', bodyDecoding }).run(upper(path, op));
    expect(result.node_results).toEqual({ '1': body, '2': output });
    expect(server.requests).toBe(1);
  });

  it("the default is 'charset'", async () => {
    const result = await createExecutor(runtime, { format: 'thaiyyal' }).run(upper('/latin1'));
    expect(result.final_output).toBe('CAFÉ');
  });

  it.each(['go', 'charset'] as const)(
    '%s: a JSON body after a byte order mark parses (responseType json)',
    async (bodyDecoding) => {
      const result = await createExecutor(runtime, { format: 'thaiyyal', bodyDecoding }).run({
        nodes: [{ id: 'j', data: { url: `${server.origin}/bom-json`, responseType: 'json' } }],
      });
      expect(result.final_output).toEqual({ a: 1 });
    },
  );
});
