/**
 * The text_operation node around the pure operations, reading inputs as the Go engine does: the first
 * input (concat: all, in edge order), data.text and a leftover separator ignored, no input an error,
 * Go's messages; errors arriving on an error edge count as text (their message).
 */
import { describe, expect, it } from 'vitest';
import {
  NO_SPAN,
  NodeError,
  textOperationNode,
  textOperationSchema,
  type NodeContext,
  type NodeInput,
  type TextOperationData,
} from '../../dist/src/engine/index.js';

const context: NodeContext = {
  runtime: {
    run: () => {
      throw new Error('text nodes never touch the runtime');
    },
  },
  signal: new AbortController().signal,
  nodeId: 'under-test',
  workflowId: undefined,
  executionId: '0000000000000000',
  render: (text) => text,
  renderValue: (value) => value,
  setContextValue: () => undefined,
  span: NO_SPAN,
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
  it('applies the operation to its first input and ignores the others, as Go does', () => {
    expect(run({ text_op: 'titlecase' }, [from('a', 'hello wORLD')])).toBe('Hello World');
    expect(run({ text_op: 'uppercase' }, [from('a', 'first'), from('b', 'second')])).toBe('FIRST');
    expect(run({ text_op: 'repeat', repeat_n: 2 }, [from('a', 'ab'), from('b', 'zz')])).toBe('abab');
  });

  it('repeat ignores a leftover separator ("Ha" x 2 is "HaHa", as in Go)', () => {
    expect(run({ text_op: 'repeat', repeat_n: 2, separator: ' ' }, [from('a', 'Ha')])).toBe('HaHa');
  });

  it('data.text is not an input (Go ignores it on a text_operation node)', () => {
    expect(run({ text_op: 'uppercase', text: 'literal' }, [from('a', 'edge')])).toBe('EDGE');
    expect(run({ text_op: 'concat', text: '>', separator: ' ' }, [from('a', 'one'), from('b', 'two')])).toBe('one two');
  });

  it('concatenates inputs in the order given (edge order), with the separator', () => {
    expect(run({ text_op: 'concat', separator: ', ' }, [from('b', 'second'), from('a', 'first')])).toBe(
      'second, first',
    );
  });

  it.each(['concat', 'uppercase', 'camelcase'])('%s with no input fails with Go message', (op) => {
    const error = failure({ text_op: op }, []);
    expect(error.code).toBe('TEXT_OP_INVALID_INPUT');
    expect(error.message).toBe('text operation needs at least 1 input');
  });

  it("takes an error input's message as its text", () => {
    const error = { code: 'HTTP_STATUS', message: 'GET http://x/ answered 404 Not Found', status: 404 };
    expect(run({ text_op: 'uppercase' }, [from('fetch', error, 'error')])).toBe('GET HTTP://X/ ANSWERED 404 NOT FOUND');
  });

  it.each([{ a: 1 }, [1, 2], 42, null, true])('fails with TEXT_OP_INVALID_INPUT on non-text input %j', (value) => {
    const error = failure({ text_op: 'lowercase' }, [from('fetch', value)]);
    expect(error.code).toBe('TEXT_OP_INVALID_INPUT');
    expect(error.message).toBe('text operation input must be text/string');
    expect(failure({ text_op: 'repeat', repeat_n: 1 }, [from('fetch', value)]).message).toBe(
      'repeat operation input must be text/string',
    );
    expect(failure({ text_op: 'concat' }, [from('a', 'ok'), from('fetch', value)]).message).toBe(
      'concat operation input 1 must be text/string',
    );
  });

  it('fails with TEXT_OP_TOO_LARGE instead of building a huge text', () => {
    const error = failure({ text_op: 'repeat', repeat_n: 1_000_000 }, [from('a', 'x'.repeat(100))]);
    expect(error.code).toBe('TEXT_OP_TOO_LARGE');
  });

  it('validates data: the operation, repeat_n for repeat; accepts the keys Go carries', () => {
    expect(textOperationSchema.safeParse({ text_op: 'repeat' }).success).toBe(false);
    expect(textOperationSchema.safeParse({ text_op: 'repeat', repeat_n: -1 }).success).toBe(false);
    expect(textOperationSchema.safeParse({ text_op: 'repeat', repeat_n: 1.5 }).success).toBe(false);
    expect(textOperationSchema.safeParse({ text_op: 'repeat', repeat_n: 0 }).success).toBe(true);
    expect(textOperationSchema.safeParse({ text_op: 'shout' }).success).toBe(false);
    expect(
      textOperationSchema.safeParse({ text_op: 'uppercase', separator: ' ', label: 'Node 2', text: 'x' }).success,
    ).toBe(true);
    expect(textOperationSchema.safeParse({ text_op: 'uppercase', retries: 2 }).success).toBe(false);
  });
});
