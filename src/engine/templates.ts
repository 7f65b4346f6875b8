/**
 * Templates in node data: `{{ variable.name }}` and `{{ const.name }}` (the Go engine's, read from
 * context nodes), `{{ input }}` (the node's first input) and `{{ nodes.<id>.output }}` (an upstream
 * node's output), both optionally followed by a path into the value: `.items[0].id`, `["a key"]`.
 * Interpolation is lookup only: no code is evaluated, and a path reads own properties only.
 *
 * A missing `variable`/`const` leaves the placeholder as it is (as Go does); a missing `input` or node
 * output (or a path that leads nowhere) fails the node with `TEMPLATE_MISSING_REFERENCE`, naming it.
 * Text that is not one of these forms is left alone. Pure: no state, no I/O.
 */
import { NodeError } from './errors.js';
import { formatGoFloat } from './go-format-float.js';
import { jsonText } from './json-text.js';
import { inOrigin, urlPlacementProblem } from './url-origin.js';

/** A template names an input, node output, or path that has no value. */
export const TEMPLATE_MISSING_REFERENCE = 'TEMPLATE_MISSING_REFERENCE';

/**
 * A template's value cannot be placed where it is: data in a URL's scheme, host or port, or a "." or ".."
 * path segment (see url-origin.ts).
 */
export const TEMPLATE_INVALID_VALUE = 'TEMPLATE_INVALID_VALUE';

export type PathStep = string | number;

export type TemplateReference =
  | { readonly kind: 'input'; readonly path: readonly PathStep[]; readonly text: string }
  | { readonly kind: 'node'; readonly id: string; readonly path: readonly PathStep[]; readonly text: string }
  | { readonly kind: 'variable' | 'const'; readonly name: string; readonly text: string };

/** What templates read from. Variables and constants are those set so far by context nodes. */
export interface TemplateScope {
  /** The node's inputs, in edge order (the first is `input`). */
  readonly inputs: readonly unknown[];
  /** Outputs of the nodes that succeeded so far. */
  readonly outputs: ReadonlyMap<string, unknown>;
  readonly variables: ReadonlyMap<string, unknown>;
  readonly constants: ReadonlyMap<string, unknown>;
}

const TEMPLATE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const CONTEXT = /^(variable|const)\.(\w+)$/;
const INPUT = /^input(?=$|[.[])(.*)$/;
const NODE = /^nodes\.([^.[\]\s{}]+)\.output(?=$|[.[])(.*)$/;
const STEP = /^(?:\.([^.[\]\s]+)|\[(\d{1,9})\]|\["([^"\\]*)"\]|\['([^'\\]*)'\])/;

/**
 * The reference a `{{ ... }}` expression makes; undefined when it is not a template form (left as text);
 * a string (the problem) when it starts like `input` / `nodes.<id>.output` but its path is malformed.
 */
export function parseReference(expression: string, text: string): TemplateReference | string | undefined {
  const context = CONTEXT.exec(expression);
  if (context !== null) return { kind: context[1] as 'variable' | 'const', name: context[2] ?? '', text };
  const input = INPUT.exec(expression);
  const node = input === null ? NODE.exec(expression) : null;
  if (input === null && node === null) return undefined;
  const rest = (input ?? node)?.[input === null ? 2 : 1] ?? '';
  const path = parsePath(rest);
  if (path === undefined) return `${text}: expected a path of .name, [index] or ["key"] steps after the reference`;
  return node === null ? { kind: 'input', path, text } : { kind: 'node', id: node[1] ?? '', path, text };
}

function parsePath(text: string): PathStep[] | undefined {
  const path: PathStep[] = [];
  let rest = text;
  while (rest !== '') {
    const step = STEP.exec(rest);
    if (step === null) return undefined;
    const [whole, name, index, double, single] = step;
    path.push(index === undefined ? (name ?? double ?? single ?? '') : Number(index));
    rest = rest.slice(whole.length);
  }
  return path;
}

/** Every template reference (and malformed one) in the strings of a value, walked deeply. */
export function findReferences(value: unknown): { references: TemplateReference[]; problems: string[] } {
  const references: TemplateReference[] = [];
  const problems: string[] = [];
  const visit = (current: unknown, depth: number): void => {
    if (depth > 64) return;
    if (typeof current === 'string') {
      if (!current.includes('{{')) return;
      for (const match of current.matchAll(TEMPLATE)) {
        const found = parseReference(match[1] ?? '', match[0]);
        if (typeof found === 'string') problems.push(found);
        else if (found !== undefined) references.push(found);
      }
    } else if (Array.isArray(current)) {
      for (const item of current) visit(item, depth + 1);
    } else if (typeof current === 'object' && current !== null) {
      for (const item of Object.values(current)) visit(item, depth + 1);
    }
  };
  visit(value, 0);
  return { references, problems };
}

/** How inserted values are written: as text, or URL-encoded where they land in a URL's path or query. */
export type TemplateMode = 'text' | 'url';

/** `text` with its templates replaced by their values (see the module comment for missing ones). */
export function renderTemplate(text: string, scope: TemplateScope, mode: TemplateMode = 'text'): string {
  if (!text.includes('{{')) return text;
  let out = '';
  let last = 0;
  for (const match of text.matchAll(TEMPLATE)) {
    const at = match.index;
    out += text.slice(last, at);
    last = at + match[0].length;
    const reference = parseReference(match[1] ?? '', match[0]);
    if (reference === undefined || typeof reference === 'string') {
      out += match[0];
      continue;
    }
    const value = lookup(reference, scope);
    if (value === MISSING) {
      out += match[0];
      continue;
    }
    // Go's own templates write a number as Go's %v does (1e+06); flowpool's input / nodes ones as JSON.
    const goTemplate = reference.kind === 'variable' || reference.kind === 'const';
    const written = goTemplate && typeof value === 'number' ? formatGoFloat(value) : stringify(value);
    if (mode === 'url') {
      // Data never writes the scheme, host or port (url-origin.ts); elsewhere values are encoded.
      const problem = urlPlacementProblem(out, written, reference.kind);
      if (problem !== undefined) throw new NodeError(TEMPLATE_INVALID_VALUE, `template ${match[0]}: ${problem}`);
      out += inOrigin(out) ? written : encodeURIComponent(written);
    } else out += written;
  }
  return out + text.slice(last);
}

/**
 * A string that is exactly one template becomes the value itself (a number stays a number, an object
 * an object); strings in arrays and objects are rendered as text. For JSON bodies.
 */
export function renderValue(value: unknown, scope: TemplateScope, depth = 0): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{\s*([^{}]*?)\s*\}\}$/.exec(value);
    const reference = whole === null ? undefined : parseReference(whole[1] ?? '', value);
    if (reference !== undefined && typeof reference !== 'string') {
      const found = lookup(reference, scope);
      return found === MISSING ? value : found;
    }
    return renderTemplate(value, scope);
  }
  if (depth > 64) return value;
  if (Array.isArray(value)) return value.map((item) => renderValue(item, scope, depth + 1));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderValue(item, scope, depth + 1)]));
  }
  return value;
}

const MISSING = Symbol('missing');

/** The value of a reference; MISSING for an absent variable/const (kept as text); throws for the rest. */
function lookup(reference: TemplateReference, scope: TemplateScope): unknown {
  switch (reference.kind) {
    case 'variable':
      return scope.variables.has(reference.name) ? scope.variables.get(reference.name) : MISSING;
    case 'const':
      return scope.constants.has(reference.name) ? scope.constants.get(reference.name) : MISSING;
    case 'input':
      if (scope.inputs.length === 0) throw missing(reference.text, 'the node has no input');
      return follow(scope.inputs[0], reference);
    case 'node':
      if (!scope.outputs.has(reference.id))
        throw missing(reference.text, `node ${JSON.stringify(reference.id)} has no output (it did not succeed)`);
      return follow(scope.outputs.get(reference.id), reference);
  }
}

function follow(start: unknown, reference: TemplateReference & { readonly path: readonly PathStep[] }): unknown {
  let current = start;
  for (const [index, step] of reference.path.entries()) {
    const found =
      typeof step === 'number'
        ? Array.isArray(current) && step < current.length
        : typeof current === 'object' && current !== null && !Array.isArray(current) && Object.hasOwn(current, step);
    if (!found) {
      const at = reference.path.slice(0, index + 1).map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`));
      throw missing(reference.text, `nothing at ${at.join('')} (${describe(current)} there)`);
    }
    current = (current as Record<PropertyKey, unknown>)[step];
  }
  if (current === undefined) throw missing(reference.text, 'the value is undefined');
  return current;
}

function missing(text: string, why: string): NodeError {
  return new NodeError(TEMPLATE_MISSING_REFERENCE, `template ${text}: ${why}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null) return 'null';
  return jsonText(value) ?? '';
}
