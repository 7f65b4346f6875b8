/**
 * Issue 21, item 2: data from an upstream node or `{{ input }}` can never change a request's scheme, host or
 * port. An upstream node fetches `{"next": ":<trap port>/stolen"}`; workflows that would write that value
 * (or `{{ input }}`) into the URL's origin are FLOWPOOL_INVALID_WORKFLOW at validation, naming the node and
 * field, and the trap listening on the other port sees 0 connections. The control case puts the same value
 * in the path after a `{{ const.base }}` origin: it reaches the intended server, encoded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { createExecutor, WorkflowValidationError } from '../../dist/src/engine/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

let server: CountingServer;
let trap: CountingServer;
let runtime: Runtime;
const paths: string[] = [];

beforeAll(async () => {
  trap = await startCountingServer();
  server = await startCountingServer((req, res) => {
    paths.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ next: `:${trap.port}/stolen`, host: '.evil.test/', url: `${trap.origin}/stolen` }));
  });
  runtime = createRuntime({ workers: 1, policy: { allow: ['127.0.0.0/8'] } });
});

afterAll(async () => {
  await runtime.close();
  await Promise.all([server.close(), trap.close()]);
});

const fetchNode = () => ({ id: 'f', data: { url: `${server.origin}/next`, responseType: 'json' } });
const base = () => ({
  id: 'base',
  type: 'context_constant',
  data: { context_name: 'base', context_value: server.origin },
});

async function refusal(url: string): Promise<WorkflowValidationError> {
  const run = createExecutor(runtime).run({
    nodes: [fetchNode(), base(), { id: 'use', data: { url } }],
    edges: [{ source: 'f', target: 'use' }],
  });
  const error: unknown = await run.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(WorkflowValidationError);
  return error as WorkflowValidationError;
}

describe('security: templates never write the origin from data', () => {
  it.each([
    ['a node output right after the host', 'http://127.0.0.1{{ nodes.f.output.next }}'],
    ['{{ input }} right after the host', 'http://127.0.0.1{{ input.next }}'],
    ['a value extending the host name', 'http://api{{ nodes.f.output.host }}x'],
    ['a whole URL from data', '{{ nodes.f.output.url }}'],
    ['data right after a const base', '{{ const.base }}{{ nodes.f.output.next }}'],
  ])('%s is FLOWPOOL_INVALID_WORKFLOW at validation naming node and field; nothing is sent', async (_name, url) => {
    paths.length = 0;
    const error = await refusal(url);
    expect(error.code).toBe('FLOWPOOL_INVALID_WORKFLOW');
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ nodeId: 'use', path: 'nodes[2].data.url' });
    expect(error.message).toContain('node "use": data.url: template');
    expect(paths).toEqual([]);
    expect(trap.connections).toBe(0);
  });

  it('control: the same value after a {{ const.base }} origin reaches the intended server, encoded in the path', async () => {
    paths.length = 0;
    const result = await createExecutor(runtime).run({
      nodes: [fetchNode(), base(), { id: 'use', data: { url: '{{ const.base }}/items/{{ nodes.f.output.next }}' } }],
      edges: [{ source: 'f', target: 'use' }],
    });
    expect(result.status).toBe('success');
    expect(paths).toEqual(['/next', `/items/%3A${trap.port}%2Fstolen`]);
    expect(trap.connections).toBe(0);
  });
});
