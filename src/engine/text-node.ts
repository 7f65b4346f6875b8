/**
 * The `text_operation` node: one of the pure operations in text-ops.ts, selected by `data.text_op`,
 * reading its inputs as the Go engine does. Inputs are the values of the incoming edges in the order of
 * the workflow's `edges`; a node with none fails. `concat` joins all of them with `separator`; every
 * other operation uses the first and ignores the rest. `data.text`, `separator` (except for `concat`),
 * `repeat_n` (except for `repeat`) and `label` are accepted and ignored, as Go ignores them. An input is
 * text when it is a string, or when it came along an `error` edge (its `message` is the text); anything
 * else fails the node with `TEXT_OP_INVALID_INPUT` and Go's message.
 */
import { z } from 'zod';
import { NodeError, type NodeErrorInfo } from './errors.js';
import { defineNodeType, type NodeInput } from './registry.js';
import {
  camelcase,
  concat,
  inversecase,
  lowercase,
  repeat,
  TEXT_OPS,
  titlecase,
  uppercase,
  type TextOp,
} from './text-ops.js';

/** No input, or an input that is not text. The messages are the Go engine's. */
export const TEXT_OP_INVALID_INPUT = 'TEXT_OP_INVALID_INPUT';
/** The result would exceed `MAX_TEXT_LENGTH`. */
export const TEXT_OP_TOO_LARGE = 'TEXT_OP_TOO_LARGE';

export const textOperationSchema = z
  .strictObject({
    text_op: z.enum(TEXT_OPS).describe('The operation.'),
    separator: z.string().max(10_000).optional().describe('concat: put between parts (default: nothing).'),
    repeat_n: z.int().min(0).max(1_000_000).optional().describe('repeat: how many copies (required for repeat).'),
    text: z.string().optional().describe('Accepted and ignored, as in Go (a text_input node gives text).'),
    label: z.string().optional().describe('A name for people; ignored.'),
  })
  .check((ctx) => {
    if (ctx.value.text_op === 'repeat' && ctx.value.repeat_n === undefined) {
      ctx.issues.push({
        code: 'custom',
        message: 'expected an integer >= 0 (repeat needs repeat_n)',
        path: ['repeat_n'],
        input: undefined,
      });
    }
  });

export type TextOperationData = z.output<typeof textOperationSchema>;

export const textOperationNode = defineNodeType({
  type: 'text_operation',
  description: 'A text operation: uppercase, lowercase, titlecase, camelcase, inversecase, concat, repeat.',
  schema: textOperationSchema,
  execute(inputs, data) {
    const [first] = inputs;
    if (first === undefined) throw new NodeError(TEXT_OP_INVALID_INPUT, 'text operation needs at least 1 input');
    try {
      if (data.text_op === 'concat') {
        const texts = inputs.map((input, index) => textOf(input, `concat operation input ${index}`));
        return concat(texts, data.separator);
      }
      if (data.text_op === 'repeat') return repeat(textOf(first, 'repeat operation input'), data.repeat_n ?? 0);
      return single(data.text_op, textOf(first, 'text operation input'));
    } catch (error) {
      if (error instanceof RangeError) throw new NodeError(TEXT_OP_TOO_LARGE, `${data.text_op}: ${error.message}`);
      throw error;
    }
  },
});

function single(op: Exclude<TextOp, 'concat' | 'repeat'>, text: string): string {
  switch (op) {
    case 'uppercase':
      return uppercase(text);
    case 'lowercase':
      return lowercase(text);
    case 'titlecase':
      return titlecase(text);
    case 'camelcase':
      return camelcase(text);
    case 'inversecase':
      return inversecase(text);
  }
}

function textOf(input: NodeInput, what: string): string {
  if (typeof input.value === 'string') return input.value;
  if (input.port === 'error') return (input.value as NodeErrorInfo).message;
  throw new NodeError(TEXT_OP_INVALID_INPUT, `${what} must be text/string`);
}
