/**
 * Text operations of the `text_operation` node, as pure functions (the node wrapper is text-node.ts).
 * Case mapping is locale-independent (`toUpperCase`/`toLowerCase`), so results do not depend on the
 * machine's locale; a mapping may change the length (`"ß"` upper-cases to `"SS"`).
 */

export const TEXT_OPS = [
  'uppercase',
  'lowercase',
  'titlecase',
  'camelcase',
  'inversecase',
  'concat',
  'repeat',
] as const;
export type TextOp = (typeof TEXT_OPS)[number];

/** Largest text `repeat` and `concat` produce, in UTF-16 code units (about 10 MB of ASCII). */
export const MAX_TEXT_LENGTH = 10 * 1024 * 1024;

export function uppercase(text: string): string {
  return text.toUpperCase();
}

export function lowercase(text: string): string {
  return text.toLowerCase();
}

/**
 * Words are runs of non-whitespace; each gets its first character upper-cased and the rest lower-cased.
 * Whitespace is kept as it is. `"hello wORLD"` -> `"Hello World"`, `"o'neil"` -> `"O'neil"`,
 * `"well-known"` -> `"Well-known"`.
 */
export function titlecase(text: string): string {
  return text
    .toLowerCase()
    .replace(/(^|\s)(\S)/gu, (_match, space: string, first: string) => space + first.toUpperCase());
}

/**
 * Words are the runs of letters and digits (apostrophes are dropped first, so `"don't"` is one word); a
 * run is split again before an upper-case letter followed by a lower-case one (`fooBar`, `XMLHttp`), but
 * an upper-case tail stays with its word (`wORLD` is one word). The first word is lower-cased, each
 * following one lower-cased and capitalised. `"hello wORLD"` -> `"helloWorld"`, `"XMLHttpRequest"` ->
 * `"xmlHttpRequest"`, `"HTTP request 2"` -> `"httpRequest2"`.
 */
export function camelcase(text: string): string {
  const words = (text.replace(/['\u2019]/gu, '').match(WORD_RUN) ?? []).flatMap((run) => run.split(CASE_BREAK));
  return words
    .map((word, index) => {
      const lower = word.toLowerCase();
      return index === 0 ? lower : capitalise(lower);
    })
    .join('');
}

const WORD_RUN = /[\p{L}\p{M}\p{N}]+/gu;
const CASE_BREAK = /(?<=[\p{L}\p{M}\p{N}])(?=\p{Lu}\p{Ll})/u;

/** Swaps the case of every character: `"Hello World"` -> `"hELLO wORLD"`; characters without case stay. */
export function inversecase(text: string): string {
  let out = '';
  for (const char of text) {
    const upper = char.toUpperCase();
    out += char === upper ? char.toLowerCase() : upper;
  }
  return out;
}

/** Joins the parts in order with `separator` between them; no parts gives `""`. */
export function concat(parts: readonly string[], separator = ''): string {
  const length = parts.reduce((sum, part) => sum + part.length, 0) + separator.length * Math.max(0, parts.length - 1);
  checkLength(length);
  return parts.join(separator);
}

/** `text` `times` times, with `separator` between copies; 0 times gives `""`. */
export function repeat(text: string, times: number, separator = ''): string {
  if (!Number.isInteger(times) || times < 0)
    throw new RangeError(`repeat count must be an integer >= 0, received ${String(times)}`);
  checkLength(text.length * times + separator.length * Math.max(0, times - 1));
  if (separator === '') return text.repeat(times);
  return Array.from({ length: times }, () => text).join(separator);
}

function capitalise(word: string): string {
  const first = word.codePointAt(0);
  if (first === undefined) return word;
  const head = String.fromCodePoint(first);
  return head.toUpperCase() + word.slice(head.length);
}

function checkLength(length: number): void {
  if (length > MAX_TEXT_LENGTH) {
    throw new RangeError(`the result would be ${length} characters long, more than the limit of ${MAX_TEXT_LENGTH}`);
  }
}
