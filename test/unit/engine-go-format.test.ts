/**
 * The Go workflow format accepted as is: a node without `type` gets the one Go infers from its data (in
 * Go's order), edge `id` and `label` and a top-level `workflow_id` are accepted, leftover keys Go carries
 * in node data are accepted, and any other unknown key is still refused, naming the node and field.
 */
import { describe, expect, it } from 'vitest';
import {
  createRegistry,
  inferNodeType,
  validateWorkflow,
  WorkflowValidationError,
  type ValidatedWorkflow,
} from '../../dist/src/engine/index.js';

const validate = (input: unknown): ValidatedWorkflow => validateWorkflow(input, createRegistry());

function refusal(input: unknown): string {
  try {
    validate(input);
  } catch (error) {
    if (error instanceof WorkflowValidationError) return error.message;
    throw error;
  }
  throw new Error('expected the workflow to be refused');
}

describe('type inference (Go inferNodeTypeFromData)', () => {
  it.each([
    [{ value: 10 }, 'number'],
    [{ value: 0 }, 'number'],
    [{ text: 'Hello' }, 'text_input'],
    [{ text: 'Hello', text_op: 'uppercase' }, 'text_input'],
    [{ text_op: 'uppercase' }, 'text_operation'],
    [{ url: 'http://x' }, 'http'],
    [{ text_op: 'uppercase', url: 'http://x' }, 'text_operation'],
    [{ value: 1, url: 'http://x' }, 'number'],
    [{ op: 'add', label: 'Node 3 (op)' }, 'operation'],
    [{ mode: 'text' }, 'visualization'],
    [{ context_name: 'n', context_value: 1 }, 'context_variable'],
    [{ var_name: 'x', var_op: 'get' }, 'variable'],
    [{ fields: ['a'] }, 'extract'],
    [{ fields: [] }, undefined],
    [{ value: null, text: 'x' }, 'text_input'],
    [{ label: 'only a label' }, undefined],
    [{}, undefined],
    [undefined, undefined],
    [[1], undefined],
  ])('%j -> %s', (data, type) => {
    expect(inferNodeType(data)).toBe(type);
  });

  it('gives a typeless node the inferred type', () => {
    const workflow = validate({
      nodes: [
        { id: '1', data: { text: 'hi' } },
        { id: '2', data: { text_op: 'uppercase' } },
        { id: '3', data: { url: 'https://api.example.com/x' } },
        { id: '4', data: { value: 3 } },
      ],
      edges: [{ id: 'e1', source: '1', target: '2' }],
    });
    expect(workflow.nodes.map((node) => node.type)).toEqual(['text_input', 'text_operation', 'http', 'number']);
  });

  it('names the node when no type can be inferred, and the inferred type when flowpool lacks it', () => {
    expect(refusal({ nodes: [{ id: 'n', data: { label: 'x' } }] })).toContain(
      'node "n": type: missing, and none can be inferred from data (value -> number, text -> text_input',
    );
    expect(refusal({ nodes: [{ id: '3', data: { op: 'add' } }] })).toContain(
      'node "3": type: unknown node type "operation", inferred from data by the Go engine\'s rules',
    );
  });
});

describe('keys the Go format carries', () => {
  it('accepts workflow_id, edge id and label, and label / leftover text-op keys in node data', () => {
    const workflow = validate({
      workflow_id: 'wf-42',
      nodes: [
        { id: '1', data: { text: 'Ha', label: 'Input' } },
        { id: '2', data: { text_op: 'repeat', repeat_n: 2, separator: ' ', label: 'Twice' } },
        { id: '3', type: 'http', data: { url: 'https://api.example.com/x', label: 'Fetch' } },
      ],
      edges: [{ id: 'e1-2', label: 'to repeat', source: '1', target: '2' }],
    });
    expect(workflow.workflowId).toBe('wf-42');
    expect(workflow.edges).toHaveLength(1);
  });

  it.each([
    [{ nodes: [{ id: '1', data: { text: 'x' } }], version: 2 }, 'workflow: unknown key "version"'],
    [
      { nodes: [{ id: '1', data: { text: 'x' } }], edges: [{ source: '1', target: '1', animated: true }] },
      'workflow.edges[0]: unknown key "animated"',
    ],
    [{ nodes: [{ id: 'a', data: { text: 'x', colour: 'red' } }] }, 'node "a": data: unknown key "colour"'],
    [{ nodes: [{ id: 'b', data: { text_op: 'uppercase', retries: 3 } }] }, 'node "b": data: unknown key "retries"'],
    [{ nodes: [{ id: 'c', data: { url: 'https://x.example/', client: 1 } }] }, 'node "c": data: unknown key "client"'],
  ])('still refuses other unknown keys: %j', (input, message) => {
    expect(refusal(input)).toContain(message);
  });
});

describe('input and context nodes', () => {
  it('validates text_input, number and context node data', () => {
    expect(refusal({ nodes: [{ id: 't', type: 'text_input', data: {} }] })).toContain(
      'node "t": data.text: expected string, received undefined',
    );
    expect(refusal({ nodes: [{ id: 'n', type: 'number', data: { value: '3' } }] })).toContain(
      'node "n": data.value: expected number, received "3"',
    );
    expect(refusal({ nodes: [{ id: 'c', type: 'context_constant', data: { context_name: 'x' } }] })).toContain(
      'node "c": data.context_value: expected a value',
    );
    expect(
      refusal({
        nodes: [
          { id: 'c', type: 'context_variable', data: { context_values: [{ name: 'x', value: 1, type: 'date' }] } },
        ],
      }),
    ).toContain('node "c": data.context_values[0].type');
  });
});
