/**
 * The node-type registry: built-ins, an engine's own types, refusals, and the JSON Schema a UI draws
 * forms from. Registries are separate objects: no global state.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createRegistry,
  defineNodeType,
  NodeRegistry,
  NodeTypeError,
  validateWorkflow,
} from '../../dist/src/engine/index.js';

const echo = defineNodeType({
  type: 'echo',
  description: 'Outputs data.value.',
  schema: z.strictObject({ value: z.string().default('hi') }),
  execute: (_inputs, data) => data.value,
});

describe('node registry', () => {
  it('starts with the built-in types', () => {
    expect(createRegistry().types()).toEqual([
      'http',
      'text_operation',
      'text_input',
      'number',
      'context_variable',
      'context_constant',
    ]);
  });

  it('adds an engine type to one registry only', () => {
    const mine = createRegistry().register(echo);
    expect(mine.types()).toEqual([
      'http',
      'text_operation',
      'text_input',
      'number',
      'context_variable',
      'context_constant',
      'echo',
    ]);
    expect(createRegistry().has('echo')).toBe(false);
    const workflow = validateWorkflow({ nodes: [{ id: 'e', type: 'echo' }] }, mine);
    expect(workflow.nodes[0]?.data).toEqual({ value: 'hi' });
  });

  it('refuses a taken type name unless replacing, and bad definitions', () => {
    const registry = createRegistry();
    expect(() => registry.register({ ...echo, type: 'http' })).toThrow(/"http" is already registered/);
    expect(() => registry.register({ ...echo, type: 'http' }, { replace: true })).not.toThrow();
    expect(registry.get('http')?.description).toBe('Outputs data.value.');
    const bad = (): void => {
      new NodeRegistry().register({ ...echo, type: 'no spaces allowed' });
    };
    expect(bad).toThrow(NodeTypeError);
    try {
      bad();
    } catch (error) {
      expect((error as NodeTypeError).code).toBe('FLOWPOOL_INVALID_NODE_TYPE');
    }
  });

  it('exports each type as JSON Schema (input side: defaulted fields optional)', () => {
    const registry = createRegistry().register(echo);
    expect(registry.toJSONSchema('echo')).toMatchObject({
      type: 'object',
      properties: { value: { type: 'string', default: 'hi' } },
      additionalProperties: false,
      description: 'Outputs data.value.',
    });
    expect(registry.toJSONSchema('echo')).not.toHaveProperty('required');
    const http = registry.toJSONSchema('http');
    expect(http).toMatchObject({
      type: 'object',
      required: ['url'],
      properties: { url: { type: 'string', format: 'uri' } },
    });
    expect(Object.keys(http.properties as object)).toEqual([
      'url',
      'method',
      'headers',
      'body',
      'json',
      'responseType',
      'timeoutMs',
      'followRedirects',
      'label',
    ]);
    const text = registry.toJSONSchema('text_operation') as {
      properties: { text_op: { enum: string[] } };
      required: string[];
    };
    expect(text.properties.text_op.enum).toEqual([
      'uppercase',
      'lowercase',
      'titlecase',
      'camelcase',
      'inversecase',
      'concat',
      'repeat',
    ]);
    expect(text.required).toEqual(['text_op']);
    expect(Object.keys(registry.toJSONSchemas())).toEqual([
      'http',
      'text_operation',
      'text_input',
      'number',
      'context_variable',
      'context_constant',
      'echo',
    ]);
    expect(() => registry.toJSONSchema('nope')).toThrow(/unknown node type "nope"/);
  });
});
