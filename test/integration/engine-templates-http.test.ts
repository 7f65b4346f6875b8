/**
 * Data flowing into HTTP nodes through a real runtime: an upstream JSON body feeds the URL (encoded in
 * the path and query), a header and a JSON body, as the server received them; a URL taken whole from
 * upstream data is refused at validation (issue 21: data never chooses the origin); a value
 * cannot move the request to another host; a missing reference fails the node before any request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import { createExecutor } from '../../dist/src/engine/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

interface Seen {
  readonly url: string;
  readonly user: string | undefined;
  readonly body: string;
}

let server: CountingServer;
let runtime: Runtime;
const seen: Seen[] = [];

beforeAll(async () => {
  server = await startCountingServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const user = req.headers['x-user'];
      seen.push({
        url: req.url ?? '',
        user: Array.isArray(user) ? user.join(',') : user,
        body: Buffer.concat(chunks).toString(),
      });
      res.setHeader('content-type', 'application/json');
      if (req.url === '/list') {
        res.end(
          JSON.stringify({
            items: [{ id: 'a b/1', owner: 'ada' }],
            next: 'http://169.254.169.254/latest/meta-data/',
            sneaky: '@169.254.169.254/latest',
          }),
        );
      } else res.end(JSON.stringify({ ok: true }));
    });
  });
  runtime = createRuntime({ workers: 1, policy: { allow: ['127.0.0.0/8'] } });
});

afterAll(async () => {
  await runtime.close();
  await server.close();
});

const list = () => ({ id: 'list', data: { url: `${server.origin}/list`, responseType: 'json' } });

describe('templates in http nodes', () => {
  it('fills url, header and JSON body from an upstream JSON body; the server sees them encoded', async () => {
    seen.length = 0;
    const result = await createExecutor(runtime).run({
      nodes: [
        list(),
        {
          id: 'use',
          data: {
            url: `${server.origin}/items/{{ nodes.list.output.items[0].id }}?owner={{ input.items[0].owner }}&x=1`,
            method: 'POST',
            headers: { 'x-user': '{{ nodes.list.output.items[0].owner }}' },
            json: { id: '{{ nodes.list.output.items[0].id }}', count: '{{ const.n }}' },
          },
        },
        { id: 'n', type: 'context_constant', data: { context_name: 'n', context_value: 3 } },
      ],
      edges: [{ source: 'list', target: 'use' }],
    });
    expect(result.status).toBe('success');
    expect(seen[1]).toEqual({ url: '/items/a%20b%2F1?owner=ada&x=1', user: 'ada', body: '{"id":"a b/1","count":3}' });
  });

  it('a URL taken whole from upstream data is refused at validation: nothing is sent', async () => {
    seen.length = 0;
    const run = createExecutor(runtime).run({
      nodes: [list(), { id: 'follow', data: { url: '{{ nodes.list.output.next }}' } }],
      edges: [{ source: 'list', target: 'follow' }],
    });
    await expect(run).rejects.toMatchObject({ code: 'FLOWPOOL_INVALID_WORKFLOW' });
    expect(seen).toEqual([]);
  });

  it('a value in the path cannot move the request to another host', async () => {
    seen.length = 0;
    const result = await createExecutor(runtime).run({
      nodes: [list(), { id: 'hop', data: { url: `${server.origin}/x{{ nodes.list.output.sneaky }}` } }],
      edges: [{ source: 'list', target: 'hop' }],
    });
    expect(result.status).toBe('success');
    expect(seen.map((request) => request.url)).toEqual(['/list', '/x%40169.254.169.254%2Flatest']);
  });

  it('a value with CR/LF cannot inject a header: the job is refused, nothing is sent', async () => {
    seen.length = 0;
    const result = await createExecutor(runtime).run({
      nodes: [
        { id: 'evil', data: { text: 'ada\r\nx-admin: 1' } },
        { id: 'use', data: { url: `${server.origin}/items`, headers: { 'x-user': '{{ input }}' } } },
      ],
      edges: [{ source: 'evil', target: 'use' }],
    });
    expect(result).toMatchObject({ status: 'error', failedNode: 'use', error: { code: 'FLOWPOOL_INVALID_JOB' } });
    expect(result.error?.message).not.toContain('x-admin');
    expect(seen).toEqual([]);
  });

  it('a missing reference fails the node, naming it, before any request', async () => {
    seen.length = 0;
    const result = await createExecutor(runtime).run({
      nodes: [list(), { id: 'use', data: { url: `${server.origin}/items/{{ nodes.list.output.items[5].id }}` } }],
      edges: [{ source: 'list', target: 'use' }],
    });
    expect(result).toMatchObject({
      status: 'error',
      failedNode: 'use',
      error: {
        code: 'TEMPLATE_MISSING_REFERENCE',
        message: 'template {{ nodes.list.output.items[5].id }}: nothing at .items[5] (an array of 1 there)',
      },
    });
    expect(seen.map((request) => request.url)).toEqual(['/list']);
  });
});
