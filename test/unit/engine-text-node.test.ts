/**
 * The text_operation node around the pure operations: which inputs it takes (data.text first, then
 * edges in order), what counts as text (strings, and errors arriving on an error edge), and its errors.
 */
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/index.js';
import {
  NodeError,
  textOperationNode,
  textOperationSchema,
  type NodeContext,
  type NodeInput,
  type TextOperationData,
} from '../../src/engine/index.js';

const context: NodeContext = {
  runtime: new Proxy(
    {},
    {
      get: () => {
        throw new Error('text nodes never touch the runtime');
      },
    },
  ) as Runtime,
  signal: new AbortController().signal,
  nodeId: 'under-test',
  workflowId: undefined,
};

const from = (source: string, value: unknown, port: 'success' | 'error' = 'success'): NodeInput => ({
  source,
  port,
  value,
});

function run(data: unknown, inputs: readonly NodeInput[]): unknown {
  const parsed: TextOperationData = textOperationSchema.parse(data);
  return textOperationNode.execute(inputs, parsed, context);
}

function failure(data: unknown, inputs: readonly NodeInput[]): NodeError {
  try {
    run(data, inputs);
  } catch (error) {
    if (error instanceof NodeError) return error;
    throw error;
  }
  throw new Error('expected the node to fail');
}

describe('text_operation node', () => {
  it('applies the operation to its one input', () => {
    expect(run({ text_op: 'titlecase' }, [from('a', 'hello wORLD')])).toBe('Hello World');
    expect(run({ text_op: 'repeat', repeat_n: 2, separator: '-' }, [from('a', 'ab')])).toBe('ab-ab');
  });

  it('uses data.text as the input when there is no edge, and puts it first for concat', () => {
    expect(run({ text_op: 'uppercase', text: 'literal' }, [])).toBe('LITERAL');
    expect(run({ text_op: 'concat', text: '>', separator: ' ' }, [from('a', 'one'), from('b', 'two')])).toBe(
      '> one two',
    );
  });

  it('concatenates inputs in the order given (edge order), with the separator', () => {
    expect(run({ text_op: 'concat', separator: ', ' }, [from('b', 'second'), from('a', 'first')])).toBe(
      'second, first',
    );
    expect(run({ text_op: 'concat' }, [])).toBe('');
  });

  it("takes an error input's message as its text", () => {
    const error = { code: 'HTTP_STATUS', message: 'GET http://x/ answered 404 Not Found', status: 404 };
    expect(run({ text_op: 'uppercase' }, [from('fetch', error, 'error')])).toBe('GET HTTP://X/ ANSWERED 404 NOT FOUND');
  });

  it.each([
    [{ a: 1 }, 'an object'],
    [[1, 2], 'an array'],
    [42, 'a number'],
    [null, 'null'],
    [true, 'a boolean'],
  ])('fails with TEXT_OP_INVALID_INPUT on non-text input %j', (value, kind) => {
    const error = failure({ text_op: 'lowercase' }, [from('fetch', value)]);
    expect(error.code).toBe('TEXT_OP_INVALID_INPUT');
    expect(error.message).toContain(`received ${kind} from node "fetch"`);
  });

  it('fails when a single-text operation gets no input or several', () => {
    expect(failure({ text_op: 'camelcase' }, []).message).toMatch(/expected one input .* received none/);
    const several = failure({ text_op: 'camelcase' }, [from('a', 'x'), from('b', 'y')]);
    expect(several.code).toBe('TEXT_OP_INVALID_INPUT');
    expect(several.message).toContain('received 2 (use text_op "concat"');
  });

  it('fails with TEXT_OP_TOO_LARGE instead of building a huge text', () => {
    const error = failure({ text_op: 'repeat', repeat_n: 1_000_000 }, [from('a', 'x'.repeat(100))]);
    expect(error.code).toBe('TEXT_OP_TOO_LARGE');
  });

  it('validates data per operation', () => {
    expect(textOperationSchema.safeParse({ text_op: 'repeat' }).success).toBe(false);
    expect(textOperationSchema.safeParse({ text_op: 'repeat', repeat_n: -1 }).success).toBe(false);
    expect(textOperationSchema.safeParse({ text_op: 'repeat', repeat_n: 1.5 }).success).toBe(false);
    expect(textOperationSchema.safeParse({ text_op: 'repeat', repeat_n: 0 }).success).toBe(true);
    expect(textOperationSchema.safeParse({ text_op: 'uppercase', separator: ' ' }).success).toBe(false);
    expect(textOperationSchema.safeParse({ text_op: 'shout' }).success).toBe(false);
  });
});
