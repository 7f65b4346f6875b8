/**
 * The Go engine's connection-pool tests (backend/pkg/executor/http_pool_test.go), ported: the node each
 * test executes (test/fixtures/go/http_pool_test.json) run as a workflow through one executor and
 * runtime, sequentially or concurrently. Go asserts outputs and request counts; flowpool also counts
 * the connections the servers saw (reuse is what PERF-003 was about). And 20 HTTP nodes in one workflow
 * at once print no MaxListenersExceededWarning (issue 15 item 6).
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { createExecutor, type ThaiyyalResult } from '../../dist/src/engine/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly delayMs?: number;
}
interface PoolCase {
  readonly test: string;
  readonly node: unknown;
  readonly server: Answer;
  readonly runs: number;
  readonly concurrent: boolean;
  readonly expect: { readonly output: string; readonly requests: number };
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/go/http_pool_test.json', import.meta.url), 'utf8')) as {
  readonly cases: readonly PoolCase[];
  readonly multipleHosts: {
    readonly test: string;
    readonly nodes: readonly unknown[];
    readonly servers: readonly Answer[];
    readonly expect: Record<string, string>;
  };
};

const track = closeAfterEach();

function answering(answer: Answer): Promise<CountingServer> {
  return startCountingServer((_req, res) => {
    const send = (): void => {
      res.statusCode = answer.status;
      res.end(answer.body);
    };
    // The Go test's handler sleeps 10 ms to keep requests overlapping; the server does the same.
    if (answer.delayMs === undefined) send();
    else setTimeout(send, answer.delayMs);
  });
}

const withUrls = (value: unknown, urls: Record<string, string>): unknown =>
  JSON.parse(
    Object.entries(urls).reduce((text, [placeholder, url]) => text.replaceAll(placeholder, url), JSON.stringify(value)),
  );

describe("the Go engine's http_pool_test.go", () => {
  it.each(fixture.cases)('$test', async (poolCase) => {
    const server = track(await answering(poolCase.server));
    const runtime = track(createRuntime({ workers: 1, connectionsPerHost: 4, policy: { allow: ['127.0.0.0/8'] } }));
    const executor = createExecutor(runtime, { format: 'thaiyyal' });
    const workflow = executor.validate({ nodes: [withUrls(poolCase.node, { $SERVER_URL: server.origin })] });
    const results: ThaiyyalResult[] = [];
    if (poolCase.concurrent) {
      results.push(...(await Promise.all(Array.from({ length: poolCase.runs }, () => executor.run(workflow)))));
    } else {
      for (let i = 0; i < poolCase.runs; i++) results.push(await executor.run(workflow));
    }
    for (const result of results) {
      expect(result.errors).toEqual([]);
      expect(result.node_results['1']).toBe(poolCase.expect.output);
    }
    expect(server.requests).toBe(poolCase.expect.requests);
    // Pooling, seen from the server: sequential runs share one connection; concurrent ones stay
    // within the per-host cap (4 here).
    if (poolCase.concurrent) expect(server.connections).toBeLessThanOrEqual(4);
    else expect(server.connections).toBe(1);
  });

  it(fixture.multipleHosts.test, async () => {
    const [first, second] = fixture.multipleHosts.servers;
    if (first === undefined || second === undefined) throw new Error('fixture needs two servers');
    const server1 = track(await answering(first));
    const server2 = track(await answering(second));
    const runtime = track(createRuntime({ workers: 1, policy: { allow: ['127.0.0.0/8'] } }));
    const result = await createExecutor(runtime, { format: 'thaiyyal' }).run({
      nodes: withUrls(fixture.multipleHosts.nodes, { $SERVER1_URL: server1.origin, $SERVER2_URL: server2.origin }),
    });
    expect(result.errors).toEqual([]);
    expect(result.node_results).toEqual(fixture.multipleHosts.expect);
    expect([server1.requests, server2.requests]).toEqual([1, 1]);
  });

  it('20 HTTP nodes of one workflow in flight at once: all succeed, no MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      // Answers nothing until all 20 requests are in, so they are in flight together whatever the load.
      const waiting: ServerResponse[] = [];
      const server = track(
        await startCountingServer((_req, res) => {
          waiting.push(res);
          if (waiting.length === 20) for (const held of waiting.splice(0)) held.end('OK');
        }),
      );
      const runtime = track(createRuntime({ workers: 2, policy: { allow: ['127.0.0.0/8'] } }));
      const nodes = Array.from({ length: 20 }, (_, i) => ({ id: `n${i}`, data: { url: `${server.origin}/${i}` } }));
      const result = await createExecutor(runtime).run({ nodes });
      expect(result.status).toBe('success');
      expect(server.requests).toBe(20);
      expect(server.peakActive).toBe(20);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
