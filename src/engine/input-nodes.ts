/**
 * The Go engine's input nodes: `text_input` outputs `data.text` (its `{{ variable.x }}` and
 * `{{ const.x }}` templates filled, as Go fills them), `number` outputs `data.value`. Inputs are ignored.
 * A text input may carry a text operation's keys (`text_op`, `separator`, `repeat_n`): Go infers
 * `text_input` for a typeless node with `text` and `text_op` (`text` is checked first) and outputs the
 * text, ignoring them; so does flowpool.
 */
import { z } from 'zod';
import { defineNodeType } from './registry.js';

const label = z.string().optional().describe('A name for people; ignored.');

export const textInputSchema = z.strictObject({
  text: z.string().max(1_000_000).describe('The text to output (templates filled).'),
  text_op: z.string().optional().describe('Accepted and ignored, as in Go (a text_operation node has the operation).'),
  separator: z.string().optional().describe('Accepted and ignored, as in Go.'),
  repeat_n: z.number().optional().describe('Accepted and ignored, as in Go.'),
  label,
});

export const textInputNode = defineNodeType({
  type: 'text_input',
  description: 'Outputs a text.',
  schema: textInputSchema,
  execute: (_inputs, data, context) => context.render(data.text),
});

export const numberSchema = z.strictObject({
  value: z.number().describe('The number to output.'),
  label,
});

export const numberNode = defineNodeType({
  type: 'number',
  description: 'Outputs a number.',
  schema: numberSchema,
  execute: (_inputs, data) => data.value,
});
