/**
 * `flowpool run`, spawned for real (`node dist/src/cli/main.js`): exit 0 with every node's output as
 * JSON, 1 when a node fails (named on stderr), 2 for invalid input (file, JSON, workflow, options).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, ROOT } from '../fixtures/cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

let server: CountingServer;
let dir: string;

beforeAll(async () => {
  server = await startCountingServer((req, res) => {
    if (req.url === '/greeting') res.end('hello wORLD from flowpool');
    else if (req.url === '/name') res.end('workflow engine runtime');
    else {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  dir = await mkdtemp(join(tmpdir(), 'flowpool-cli-run-'));
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function workflowFile(name: string, workflow: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, typeof workflow === 'string' ? workflow : JSON.stringify(workflow));
  return file;
}

const ALLOW = ['--allow', '127.0.0.0/8'];

describe('flowpool run', () => {
  it("exits 0 and prints every node's output as JSON", async () => {
    const file = await workflowFile('ok.json', {
      nodes: [
        { id: 'fetch', type: 'http', data: { url: `${server.origin}/greeting` } },
        { id: 'title', type: 'text_operation', data: { text_op: 'titlecase' } },
      ],
      edges: [{ source: 'fetch', target: 'title' }],
    });
    const { code, stdout, stderr } = await cli(['run', file, ...ALLOW]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { status: string; nodes: { id: string; status: string; output?: unknown }[] };
    expect(result.status).toBe('success');
    expect(result.nodes.map(({ id, status, output }) => ({ id, status, output }))).toEqual([
      { id: 'fetch', status: 'success', output: 'hello wORLD from flowpool' },
      { id: 'title', status: 'success', output: 'Hello World From Flowpool' },
    ]);
  });

  it('exits 1 when a node fails, naming it, and still prints the results', async () => {
    const file = await workflowFile('fails.json', {
      nodes: [{ id: 'missing', type: 'http', data: { url: `${server.origin}/nope` } }],
    });
    const { code, stdout, stderr } = await cli(['run', file, ...ALLOW]);
    expect(code).toBe(1);
    expect(stderr).toContain('workflow failed at node "missing": HTTP_STATUS');
    expect(JSON.parse(stdout)).toMatchObject({
      status: 'error',
      failedNode: 'missing',
      nodes: [{ id: 'missing', status: 'error', error: { code: 'HTTP_STATUS', status: 404 } }],
    });
  });

  it('exits 1 with a blocked destination when loopback is not allowed, and the server sees nothing', async () => {
    const file = await workflowFile('blocked.json', {
      nodes: [{ id: 'fetch', type: 'http', data: { url: `${server.origin}/greeting` } }],
    });
    server.reset();
    const { code, stderr } = await cli(['run', file]);
    expect(code).toBe(1);
    expect(stderr).toContain('workflow failed at node "fetch": FLOWPOOL_BLOCKED_DESTINATION');
    expect(server.connections).toBe(0);
  });

  it.each([
    [
      'a cycle',
      {
        nodes: [{ id: 'a', type: 'text_operation', data: { text_op: 'uppercase' } }],
        edges: [{ source: 'a', target: 'a' }],
      },
      'cycle: "a" -> "a"',
    ],
    [
      'bad node data',
      { nodes: [{ id: 'shout', type: 'text_operation', data: { text_op: 'repeat' } }] },
      'node "shout": data.repeat_n: expected an integer >= 0 (repeat needs repeat_n), received undefined',
    ],
    ['an unknown type', { nodes: [{ id: 'x', type: 'smtp' }] }, 'node "x": type: unknown node type "smtp"'],
    [
      'a dangling edge',
      {
        nodes: [{ id: 'x', type: 'text_operation', data: { text_op: 'uppercase', text: 'a' } }],
        edges: [{ source: 'x', target: 'y' }],
      },
      'no node with id "y"',
    ],
    ['invalid JSON', '{ "nodes": [', 'is not valid JSON'],
  ])('exits 2 for %s with a clear message', async (_name, workflow, message) => {
    const file = await workflowFile('invalid.json', workflow);
    const { code, stdout, stderr } = await cli(['run', file, ...ALLOW]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
  });

  it('exits 2 for a missing file and for invalid runtime options', async () => {
    const missing = await cli(['run', join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read workflow');
    const file = await workflowFile('opts.json', {
      nodes: [{ id: 'a', type: 'text_operation', data: { text_op: 'uppercase', text: 'x' } }],
    });
    const options = await cli(['run', file, '--workers', '0']);
    expect(options.code).toBe(2);
    expect(options.stderr).toContain('invalid options: --workers: ');
    const unknownFlag = await cli(['run', file, '--wrkers', '2']);
    expect(unknownFlag.code).toBe(2);
  });

  it('reads the workflow from stdin with -, and prints a table with --format table', async () => {
    // The bundled example, pointed at this test's server instead of the example server's fixed port.
    const example = (await readFile(join(ROOT, 'examples/workflow.json'), 'utf8'))
      .replaceAll('http://127.0.0.1:8787', server.origin)
      .replace('/status/404', '/nope');
    const { code, stdout, stderr } = await cli(['run', '-', '--format', 'table', ...ALLOW], { input: example });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^NODE +TYPE +STATUS +MS +OUTPUT \/ ERROR$/m);
    expect(stdout).toMatch(/^shout +text_operation +success .*"HELLO WORLD FROM FLOWPOOL \| WORKFLOWENGINERUNTIME"$/m);
    expect(stdout).toMatch(/^missing_body +text_operation +skipped/m);
    expect(stdout).toContain('workflow: success; 9 succeeded, 1 failed, 1 skipped');
  });

  it('takes runtime options from --config, flags overriding it', async () => {
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ workers: 1, policy: { allow: ['127.0.0.1'] } }));
    const file = await workflowFile('config.json.wf', {
      nodes: [{ id: 'fetch', type: 'http', data: { url: `${server.origin}/name` } }],
    });
    const viaConfig = await cli(['run', file, '--config', config]);
    expect(viaConfig.code).toBe(0);
    expect(JSON.parse(viaConfig.stdout)).toMatchObject({ nodes: [{ output: 'workflow engine runtime' }] });
    const overridden = await cli(['run', file, '--config', config, '--deny', '127.0.0.1']);
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toContain('FLOWPOOL_BLOCKED_DESTINATION');
  });
});
