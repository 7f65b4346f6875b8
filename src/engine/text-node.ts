/**
 * The `text_operation` node: one of the pure operations in text-ops.ts, selected by `data.text_op`.
 *
 * Inputs, in order: `data.text` when given (a literal), then the values of the incoming edges in the
 * order of the workflow's `edges`. Single-text operations need exactly one input; `concat` joins all of
 * them; `repeat` needs one. An input is text when it is a string, or when it came along an `error` edge
 * (its `message` is the text). Anything else (a parsed JSON body, a number) fails the node with
 * `TEXT_OP_INVALID_INPUT`.
 */
import { z } from 'zod';
import { NodeError, type NodeErrorInfo } from './errors.js';
import { defineNodeType, type NodeInput } from './registry.js';
import { camelcase, concat, inversecase, lowercase, repeat, titlecase, uppercase, type TextOp } from './text-ops.js';

/** A text input is not text, or there are too few or too many inputs. */
export const TEXT_OP_INVALID_INPUT = 'TEXT_OP_INVALID_INPUT';
/** The result would exceed `MAX_TEXT_LENGTH`. */
export const TEXT_OP_TOO_LARGE = 'TEXT_OP_TOO_LARGE';

const text = z.string().max(1_000_000).optional().describe('A literal input, placed before the inputs from edges.');
const separator = z.string().max(10_000).optional().describe('Put between parts (default: nothing).');

const single = (op: Exclude<TextOp, 'concat' | 'repeat'>, description: string) =>
  z.strictObject({ text_op: z.literal(op), text }).describe(description);

export const textOperationSchema = z.discriminatedUnion('text_op', [
  single('uppercase', 'UPPER CASE the input'),
  single('lowercase', 'lower case the input'),
  single('titlecase', 'Capitalise Each Word, lower-case the rest'),
  single('camelcase', 'camelCase the words of the input'),
  single('inversecase', 'sWAP tHE cASE of every character'),
  z.strictObject({ text_op: z.literal('concat'), text, separator }).describe('Join all inputs in edge order'),
  z
    .strictObject({
      text_op: z.literal('repeat'),
      text,
      repeat_n: z.int().min(0).max(1_000_000).describe('How many copies (0 gives an empty text).'),
      separator,
    })
    .describe('Repeat the input repeat_n times'),
]);

export type TextOperationData = z.output<typeof textOperationSchema>;

export const textOperationNode = defineNodeType({
  type: 'text_operation',
  description: 'A text operation: uppercase, lowercase, titlecase, camelcase, inversecase, concat, repeat.',
  schema: textOperationSchema,
  execute(inputs, data) {
    const texts = data.text === undefined ? [] : [data.text];
    for (const input of inputs) texts.push(textOf(input, data.text_op));
    try {
      switch (data.text_op) {
        case 'concat':
          return concat(texts, data.separator);
        case 'repeat':
          return repeat(only(texts, data.text_op), data.repeat_n, data.separator);
        case 'uppercase':
          return uppercase(only(texts, data.text_op));
        case 'lowercase':
          return lowercase(only(texts, data.text_op));
        case 'titlecase':
          return titlecase(only(texts, data.text_op));
        case 'camelcase':
          return camelcase(only(texts, data.text_op));
        case 'inversecase':
          return inversecase(only(texts, data.text_op));
      }
    } catch (error) {
      if (error instanceof RangeError) throw new NodeError(TEXT_OP_TOO_LARGE, `${data.text_op}: ${error.message}`);
      throw error;
    }
  },
});

function textOf(input: NodeInput, op: TextOp): string {
  if (typeof input.value === 'string') return input.value;
  if (input.port === 'error') return (input.value as NodeErrorInfo).message;
  throw new NodeError(
    TEXT_OP_INVALID_INPUT,
    `${op}: expected text input, received ${describeKind(input.value)} from node "${input.source}"` +
      (typeof input.value === 'object' && input.value !== null
        ? ' (an http node gives text unless responseType is "json")'
        : ''),
  );
}

function only(texts: readonly string[], op: TextOp): string {
  const [first] = texts;
  if (texts.length === 1 && first !== undefined) return first;
  throw new NodeError(
    TEXT_OP_INVALID_INPUT,
    texts.length === 0
      ? `${op}: expected one input (an edge into the node, or data.text), received none`
      : `${op}: expected one input, received ${texts.length} (use text_op "concat" to join several)`,
  );
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'bytes';
  const kind = typeof value;
  return kind === 'object' ? 'an object' : `a ${kind}`;
}
