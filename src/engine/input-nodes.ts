/**
 * The Go engine's input nodes: `text_input` outputs `data.text` (its `{{ variable.x }}` and
 * `{{ const.x }}` templates filled, as Go fills them), `number` outputs `data.value`. Inputs are ignored.
 */
import { z } from 'zod';
import { defineNodeType } from './registry.js';

const label = z.string().optional().describe('A name for people; ignored.');

export const textInputSchema = z.strictObject({
  text: z.string().max(1_000_000).describe('The text to output (templates filled).'),
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
