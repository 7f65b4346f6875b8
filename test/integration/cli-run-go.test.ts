/**
 * `flowpool run` with the Go format: the bundled Go-format example (examples/go-workflow.json: no node
 * types, edge ids, labels, a context constant feeding {{ const.api }} into the URLs) runs unchanged,
 * only its constant pointed at this test's server, and `--format thaiyyal` prints Go's result shape;
 * `--workflow-timeout` stops a run whose request never answers (exit 1, WORKFLOW_TIMEOUT).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT } from '../fixtures/cli.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

let server: CountingServer;
const held: ServerResponse[] = [];

beforeAll(async () => {
  server = await startCountingServer((req, res) => {
    if (req.url === '/greeting') res.end('hello wORLD from flowpool');
    else if (req.url === '/name') res.end('workflow engine runtime');
    else held.push(res); // never answered: only the workflow deadline ends the run
  });
});

afterAll(async () => {
  for (const res of held) res.destroy();
  await server.close();
});

const ALLOW = ['--allow', '127.0.0.0/8'];

describe('flowpool run, Go format', () => {
  it('runs examples/go-workflow.json unchanged and prints the Go result shape', async () => {
    const example = (await readFile(join(ROOT, 'examples/go-workflow.json'), 'utf8')).replace(
      '"context_value": "http://127.0.0.1:8787"',
      `"context_value": "${server.origin}"`,
    );
    expect(example).toContain(server.origin);
    server.reset();
    const { code, stdout, stderr } = await cli(['run', '-', '--format', 'thaiyyal', ...ALLOW], { input: example });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toEqual({
      execution_id: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown,
      workflow_id: 'greeting-demo',
      node_results: {
        api: { type: 'const', name: 'api', value: server.origin },
        greeting: 'hello wORLD from flowpool',
        name: 'workflow engine runtime',
        title: 'Hello World From Flowpool',
        camel: 'workflowEngineRuntime',
        joined: 'Hello World From Flowpool | workflowEngineRuntime',
        shout: 'HELLO WORLD FROM FLOWPOOL | WORKFLOWENGINERUNTIME',
      },
      final_output: 'HELLO WORLD FROM FLOWPOOL | WORKFLOWENGINERUNTIME',
      errors: [],
    });
    expect(server.requests).toBe(2);
  });

  it('--workflow-timeout stops a run whose request never answers: exit 1, WORKFLOW_TIMEOUT in errors', async () => {
    const workflow = JSON.stringify({ nodes: [{ id: 'stuck', data: { url: `${server.origin}/hold` } }] });
    const { code, stdout, stderr } = await cli(
      ['run', '-', '--format', 'thaiyyal', '--workflow-timeout', '1000', ...ALLOW],
      {
        input: workflow,
      },
    );
    expect(code).toBe(1);
    expect(stderr).toContain('workflow stopped: WORKFLOW_TIMEOUT: workflow execution timeout: exceeded 1000 ms');
    expect(JSON.parse(stdout)).toMatchObject({
      errors: ['workflow execution timeout: exceeded 1000 ms'],
      node_results: {},
    });
    // Whether the request reached the server before the deadline depends on how fast the worker started
    // (a loaded machine): the run's outcome does not, so that is what is asserted.
  });

  it('refuses a bad --workflow-timeout with exit 2, naming the flag', async () => {
    const { code, stderr } = await cli(['run', '-', '--workflow-timeout', 'soon'], { input: '{"nodes":[]}' });
    expect(code).toBe(2);
    expect(stderr).toContain('--workflow-timeout: expected an integer from 1 to 2147483647 (ms), received "soon"');
  });
});
