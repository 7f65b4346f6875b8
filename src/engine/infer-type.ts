/**
 * A node without `type` gets one from its data by the Go engine's rules (`inferNodeTypeFromData`), in
 * Go's order: the first rule whose keys are present (not null; lists non-empty) wins. Types flowpool does
 * not have (operation, condition, ...) are still inferred, so validation can say which type the data
 * looked like. Pure.
 */

type Rule = readonly [type: string, test: (data: Readonly<Record<string, unknown>>) => boolean];

const has = (key: string) => (data: Readonly<Record<string, unknown>>) => data[key] !== undefined && data[key] !== null;
const both = (a: string, b: string) => (data: Readonly<Record<string, unknown>>) => has(a)(data) && has(b)(data);
const nonEmpty = (key: string) => (data: Readonly<Record<string, unknown>>) =>
  Array.isArray(data[key]) && data[key].length > 0;

const RULES: readonly Rule[] = [
  ['number', has('value')],
  ['text_input', has('text')],
  ['boolean_input', has('boolean_value')],
  ['date_input', has('date_value')],
  ['datetime_input', has('datetime_value')],
  ['visualization', has('mode')],
  ['operation', has('op')],
  ['text_operation', has('text_op')],
  ['http', has('url')],
  ['condition', has('condition')],
  ['variable', both('var_name', 'var_op')],
  ['extract', (data) => has('field')(data) || nonEmpty('fields')(data)],
  ['transform', has('transform_type')],
  ['accumulator', has('accum_op')],
  ['counter', has('counter_op')],
  ['switch', nonEmpty('cases')],
  ['join', has('join_strategy')],
  ['split', nonEmpty('paths')],
  ['delay', has('duration')],
  ['cache', both('cache_op', 'cache_key')],
  ['context_variable', both('context_name', 'context_value')],
  ['retry', (data) => has('max_attempts')(data) || has('backoff_strategy')(data)],
  ['try_catch', (data) => has('fallback_value')(data) || has('continue_on_error')(data)],
  ['timeout', both('timeout', 'timeout_action')],
];

/** The type Go would infer for `data`, or undefined when no rule matches (Go then fails the node). */
export function inferNodeType(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const record = data as Readonly<Record<string, unknown>>;
  return RULES.find(([, test]) => test(record))?.[0];
}

/** The keys the rules look at, for messages: `value -> number, text -> text_input, ...`. */
export const INFERENCE_HINT = 'value -> number, text -> text_input, text_op -> text_operation, url -> http';
