/**
 * Workflow validation happens before anything runs, reports every problem at once, and names the node
 * and the field of each: duplicate ids, dangling edges, cycles, unknown types, bad node data, bad shape.
 */
import { describe, expect, it } from 'vitest';
import {
  createRegistry,
  findCycle,
  isValidatedWorkflow,
  validateWorkflow,
  WorkflowValidationError,
  type WorkflowIssue,
} from '../../dist/src/engine/index.js';

const registry = createRegistry();
const URL_OK = 'https://api.example.com/items';
const http = (id: string, data: unknown = { url: URL_OK }) => ({ id, type: 'http', data });
const upper = (id: string) => ({ id, type: 'text_operation', data: { text_op: 'uppercase' } });

function rejection(input: unknown): WorkflowValidationError {
  try {
    validateWorkflow(input, registry);
  } catch (error) {
    if (error instanceof WorkflowValidationError) return error;
    throw error;
  }
  throw new Error('expected the workflow to be rejected');
}

function issue(input: unknown): WorkflowIssue {
  const error = rejection(input);
  expect(error.code).toBe('FLOWPOOL_INVALID_WORKFLOW');
  expect(error.issues).toHaveLength(1);
  const [first] = error.issues;
  if (first === undefined) throw new Error('no issue');
  expect(error.message).toBe(`invalid workflow: ${first.message}`);
  return first;
}

describe('workflow validation', () => {
  it('accepts a valid workflow, with data parsed and edges defaulting to the success port', () => {
    const workflow = validateWorkflow(
      { nodes: [http('fetch'), upper('shout')], edges: [{ source: 'fetch', target: 'shout' }] },
      registry,
    );
    expect(isValidatedWorkflow(workflow)).toBe(true);
    expect(workflow.edges).toEqual([{ index: 0, source: 'fetch', target: 'shout', port: 'success' }]);
    expect(workflow.nodes.map((node) => [node.id, node.incoming.length, node.outgoing.length])).toEqual([
      ['fetch', 0, 1],
      ['shout', 1, 0],
    ]);
    expect(isValidatedWorkflow({ ...workflow })).toBe(false);
  });

  it('accepts a workflow without edges', () => {
    expect(validateWorkflow({ nodes: [http('only')] }, registry).nodes).toHaveLength(1);
  });

  it('rejects a duplicate id, naming both positions', () => {
    expect(issue({ nodes: [http('a'), upper('a')] })).toEqual({
      path: 'nodes[1].id',
      nodeId: 'a',
      message: 'nodes[1].id: duplicate node id "a" (also nodes[0])',
    });
  });

  it('rejects a dangling edge, naming the end and the edge', () => {
    expect(issue({ nodes: [http('a')], edges: [{ source: 'a', target: 'ghost' }] })).toEqual({
      path: 'edges[0].target',
      message: 'edges[0].target: no node with id "ghost" (dangling edge "a" -> "ghost")',
    });
  });

  it('rejects a cycle, naming the nodes on it in order', () => {
    const found = issue({
      nodes: [http('start'), upper('a'), upper('b'), upper('c')],
      edges: [
        { source: 'start', target: 'a' },
        { source: 'a', target: 'b' },
        { source: 'b', target: 'c' },
        { source: 'c', target: 'a', port: 'error' },
      ],
    });
    expect(found.message).toBe('cycle: "a" -> "b" -> "c" -> "a"');
    expect(found.nodeId).toBe('a');
  });

  it('rejects a self-loop as a cycle', () => {
    expect(issue({ nodes: [upper('x')], edges: [{ source: 'x', target: 'x' }] }).message).toBe('cycle: "x" -> "x"');
  });

  it('rejects an unknown node type, listing the known ones', () => {
    expect(issue({ nodes: [{ id: 'n', type: 'ftp', data: {} }] })).toEqual({
      path: 'nodes[0].type',
      nodeId: 'n',
      message:
        'node "n": type: unknown node type "ftp" (known: http, text_operation, text_input, number, context_variable, context_constant)',
    });
  });

  it.each([
    [
      { url: 'not a url' },
      'data.url',
      'node "fetch": data.url: expected an absolute http or https URL, received "not a url"',
    ],
    [
      { url: 'ftp://files.example.com/x' },
      'data.url',
      'node "fetch": data.url: expected an http: or https: URL, received "ftp://files.example.com/x"',
    ],
    [{ url: 42 }, 'data.url', 'node "fetch": data.url: expected string, received 42'],
    [{}, 'data.url', 'node "fetch": data.url: expected string, received undefined'],
    [
      { url: URL_OK, method: 'CONNECT' },
      'data.method',
      'node "fetch": data.method: expected a method other than CONNECT, TRACE, TRACK, received "CONNECT"',
    ],
    [
      { url: URL_OK, responseType: 'bytes' },
      'data.responseType',
      'node "fetch": data.responseType: expected one of "text"|"json", received "bytes"',
    ],
    [
      { url: URL_OK, timeoutMs: 0 },
      'data.timeoutMs',
      'node "fetch": data.timeoutMs: expected number to be >=1, received 0',
    ],
    [{ url: URL_OK, body: 'x' }, 'data.body', 'node "fetch": data.body: expected no body with GET, received "x"'],
    [
      { url: URL_OK, method: 'POST', body: 'x', json: {} },
      'data.json',
      'data.json: expected either body or json, not both',
    ],
    [
      { url: URL_OK, headers: { Host: 'evil' } },
      'data.headers.Host',
      'data.headers.Host: expected a header flowpool does not set itself',
    ],
    [{ url: URL_OK, retries: 3 }, 'data', 'node "fetch": data: unknown key "retries"'],
  ])('rejects bad http data %j, naming the node and field', (data, field, message) => {
    const found = issue({ nodes: [http('fetch', data)] });
    expect(found.nodeId).toBe('fetch');
    expect(found.path).toBe(`nodes[0].${field}`);
    expect(found.message).toContain(message);
  });

  it.each([
    [
      { text_op: 'shout' },
      'data.text_op',
      'node "t": data.text_op: expected one of "uppercase"|"lowercase"|"titlecase"|"camelcase"|"inversecase"|"concat"|"repeat", received "shout"',
    ],
    [
      { text_op: 'repeat' },
      'data.repeat_n',
      'node "t": data.repeat_n: expected an integer >= 0 (repeat needs repeat_n), received undefined',
    ],
    [
      { text_op: 'repeat', repeat_n: -2 },
      'data.repeat_n',
      'node "t": data.repeat_n: expected number to be >=0, received -2',
    ],
    [undefined, 'data.text_op', 'node "t": data.text_op:'],
  ])('rejects bad text_operation data %j, naming the node and field', (data, field, message) => {
    const found = issue({ nodes: [{ id: 't', type: 'text_operation', data }] });
    expect(found.path).toBe(`nodes[0].${field}`);
    expect(found.message).toContain(message);
  });

  it.each([
    [{}, 'workflow.nodes: expected array, received undefined'],
    [{ nodes: [http('a')], extra: true }, 'workflow: unknown key "extra"'],
    [{ nodes: [{ id: 'a', type: 'http', data: {}, x: 1 }] }, 'workflow.nodes[0]: unknown key "x" (node "a")'],
    [{ nodes: [{ id: 7, type: 'http' }] }, 'workflow.nodes[0].id: expected string, received 7'],
    [
      { nodes: [http('a')], edges: [{ source: 'a', target: 'a', port: 'always' }] },
      'workflow.edges[0].port: expected one of "success"|"error", received "always"',
    ],
    ['nope', 'workflow: expected object, received "nope"'],
  ])('rejects a bad shape %j', (input, message) => {
    expect(rejection(input).message).toContain(message);
  });

  it('reports every problem at once', () => {
    const error = rejection({
      nodes: [http('a', { url: 'nope' }), { id: 'a', type: 'mystery' }, upper('b')],
      edges: [{ source: 'b', target: 'missing' }],
    });
    expect(error.issues.map((found) => found.path)).toEqual([
      'nodes[1].id',
      'edges[0].target',
      'nodes[0].data.url',
      'nodes[1].type',
    ]);
    expect(error.message.split('; ')).toHaveLength(4);
  });

  it('finds no cycle in a DAG with shared descendants, and copes with a long chain', () => {
    expect(
      findCycle(
        ['a', 'b', 'c', 'd'],
        [
          { source: 'a', target: 'b' },
          { source: 'a', target: 'c' },
          { source: 'b', target: 'd' },
          { source: 'c', target: 'd' },
        ],
      ),
    ).toBeUndefined();
    const ids = Array.from({ length: 50_000 }, (_, i) => `n${i}`);
    const chain = ids.slice(1).map((id, i) => ({ source: `n${i}`, target: id }));
    expect(findCycle(ids, chain)).toBeUndefined();
    expect(findCycle(ids, [...chain, { source: 'n49999', target: 'n0' }])).toHaveLength(50_001);
  });
});
