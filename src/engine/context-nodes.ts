/**
 * The Go engine's context nodes: `context_variable` and `context_constant` set values that later nodes'
 * `{{ variable.name }}` / `{{ const.name }}` templates read. Two forms, as in Go: `context_name` +
 * `context_value` (taken as is), or `context_values: [{ name, value, type }]` with the value converted
 * to `type` (`string`, `number`, `boolean`, `time_string`, `epoch_second`, `epoch_ms`, `null`). They run
 * before every other node that is ready with them; their output is Go's
 * (`{ type: 'variable', name, value }` or `{ type: 'variable', variables: { ... } }`; `const` alike).
 */
import { z } from 'zod';
import { NodeError } from './errors.js';
import { formatGoFloat } from './go-format-float.js';
import { parseGoFloat } from './go-parse-float.js';
import { shown } from './json-text.js';
import { defineNodeType, type NodeType } from './registry.js';

/** A `context_values` entry whose value cannot be converted to its type. */
export const CONTEXT_VALUE_INVALID = 'CONTEXT_VALUE_INVALID';

export const CONTEXT_VALUE_TYPES = [
  'string',
  'number',
  'boolean',
  'time_string',
  'epoch_second',
  'epoch_ms',
  'null',
] as const;

export const contextNodeSchema = z
  .strictObject({
    context_name: z.string().min(1).max(256).optional().describe('The name (single-value form).'),
    context_value: z.unknown().optional().describe('The value (single-value form).'),
    context_values: z
      .array(
        z.strictObject({
          name: z.string().min(1).max(256),
          value: z.unknown(),
          type: z.enum(CONTEXT_VALUE_TYPES),
        }),
      )
      .max(1_000)
      .optional()
      .describe('Several typed values.'),
    label: z.string().optional().describe('A name for people; ignored.'),
  })
  .check((ctx) => {
    const { context_name: name, context_value: value, context_values: values } = ctx.value;
    if (values !== undefined && values.length > 0) return;
    if (name === undefined)
      ctx.issues.push({
        code: 'custom',
        message: 'expected context_name and context_value, or a non-empty context_values',
        path: ['context_name'],
        input: name,
      });
    else if (value === undefined || value === null)
      ctx.issues.push({ code: 'custom', message: 'expected a value', path: ['context_value'], input: value });
  });

function contextNode(type: string, kind: 'variable' | 'const'): NodeType<typeof contextNodeSchema> {
  const plural = kind === 'variable' ? 'variables' : 'constants';
  return defineNodeType({
    type,
    description: `Sets ${plural} for {{ ${kind}.name }} templates.`,
    schema: contextNodeSchema,
    runsFirst: true,
    execute(_inputs, data, context) {
      if (data.context_values !== undefined && data.context_values.length > 0) {
        const set: Record<string, unknown> = {};
        for (const entry of data.context_values) {
          const value = convert(
            entry.value,
            entry.type,
            `${type} node: error converting ${entry.name} (${entry.type})`,
          );
          context.setContextValue(kind, entry.name, value);
          set[entry.name] = value;
        }
        return { type: kind, [plural]: set };
      }
      const name = data.context_name ?? '';
      context.setContextValue(kind, name, data.context_value);
      return { type: kind, name, value: data.context_value };
    },
  });
}

export const contextVariableNode = contextNode('context_variable', 'variable');
export const contextConstantNode = contextNode('context_constant', 'const');

/**
 * Go's typed conversion (`convertTypedValue`): `number` reads a string by Go's `strconv.ParseFloat`
 * (go-parse-float.ts), `string` writes a number as Go's `%v` does (`1e+06`); times come out as ISO 8601
 * UTC strings (Go's marshalled time.Time is RFC 3339). Messages are Go's.
 */
export function convert(value: unknown, type: (typeof CONTEXT_VALUE_TYPES)[number], where: string): unknown {
  const fail = (why: string): never => {
    throw new NodeError(CONTEXT_VALUE_INVALID, `${where}: ${why}`);
  };
  switch (type) {
    case 'string':
      if (typeof value === 'number') return formatGoFloat(value);
      return typeof value === 'string' ? value : shown(value);
    case 'number': {
      if (typeof value === 'number') return value;
      if (typeof value !== 'string') return fail(`cannot convert type ${goTypeName(value)} to number`);
      const parsed = parseGoFloat(value);
      if (parsed.ok) return parsed.value;
      return fail(
        `cannot convert ${JSON.stringify(value)} to number: strconv.ParseFloat: parsing ${JSON.stringify(value)}: ${parsed.reason}`,
      );
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'number') return value !== 0;
      if (typeof value === 'string' && /^(1|t|T|TRUE|true|True)$/.test(value)) return true;
      if (typeof value === 'string' && /^(0|f|F|FALSE|false|False)$/.test(value)) return false;
      return fail(`cannot convert ${shown(value)} to boolean`);
    case 'time_string': {
      const text = typeof value === 'string' ? value : String(value);
      const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
      if (!rfc3339.test(text) || Number.isNaN(Date.parse(text)))
        return fail(`invalid time string ${JSON.stringify(text)}`);
      return text;
    }
    case 'epoch_second':
    case 'epoch_ms': {
      // Go's strconv.ParseInt(s, 10, 64): an optional sign and decimal digits, nothing else.
      const number = typeof value === 'string' && /^[+-]?\d+$/.test(value) ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isFinite(number))
        return fail(`cannot convert ${shown(value)} to ${type}`);
      const ms = type === 'epoch_second' ? Math.trunc(number) * 1000 : Math.trunc(number);
      const date = new Date(ms);
      return Number.isNaN(date.getTime()) ? fail(`${String(number)} is out of range`) : date.toISOString();
    }
    case 'null':
      return null;
  }
}

/** Go's `%T` of a value decoded from JSON, for messages. */
function goTypeName(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return '[]interface {}';
  if (typeof value === 'object') return 'map[string]interface {}';
  return typeof value;
}
