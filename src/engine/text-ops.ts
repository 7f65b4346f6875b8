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
 * Go's titlecase (`cases.Title` of golang.org/x/text over the lower-cased text): words are found at
 * Unicode word boundaries (UAX #29, through `Intl.Segmenter`), and each word's first character is
 * title-cased, the rest lower-cased. Whitespace and punctuation stay as they are. `"hello wORLD"` ->
 * `"Hello World"`, `"well-known"` -> `"Well-Known"`, `"o'neil"` -> `"O'neil"`, `"ßa"` -> `"Ssa"`.
 */
export function titlecase(text: string): string {
  let out = '';
  for (const { segment, isWordLike } of WORDS.segment(text.toLowerCase())) {
    out += isWordLike === true ? capitalise(segment) : segment;
  }
  return out;
}

/**
 * Go's camelcase: words are the runs between whitespace (Go's `strings.Fields`); the first is
 * lower-cased, each following one gets its first character title-cased and the rest lower-cased, and
 * the whitespace goes. Text without a word comes back unchanged. Unlike Go, which upper-cases the first
 * byte of a word (and garbles a word that starts with a non-ASCII letter), the first character is a
 * whole code point: `"hello élan"` -> `"helloÉlan"`. `"hello wORLD"` -> `"helloWorld"`,
 * `"well-known fact"` -> `"well-knownFact"`.
 */
export function camelcase(text: string): string {
  const words = text.split(GO_SPACE).filter((word) => word !== '');
  if (words.length === 0) return text;
  return words.map((word, index) => (index === 0 ? word.toLowerCase() : capitalise(word.toLowerCase()))).join('');
}

// Go's unicode.IsSpace: JavaScript's \s differs (it has U+FEFF, lacks U+0085).
const GO_SPACE = /[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+/u;
const WORDS = new Intl.Segmenter('en', { granularity: 'word' });

/**
 * Swaps the case of every upper-case (Lu) and lower-case (Ll) letter: `"Hello World"` -> `"hELLO wORLD"`.
 * Everything else stays, as in Go (`unicode.IsUpper` / `IsLower` test those categories): a title-case
 * digraph (`ǅ`, Lt) and a mark with a case mapping (U+0345) are left as they are.
 */
export function inversecase(text: string): string {
  let out = '';
  for (const char of text) {
    if (UPPER.test(char)) out += char.toLowerCase();
    else if (LOWER.test(char)) out += char.toUpperCase();
    else out += char;
  }
  return out;
}

const UPPER = /^\p{Lu}$/u;
const LOWER = /^\p{Ll}$/u;

/** Joins the parts in order with `separator` between them; no parts gives `""` (the node refuses none). */
export function concat(parts: readonly string[], separator = ''): string {
  const length = parts.reduce((sum, part) => sum + part.length, 0) + separator.length * Math.max(0, parts.length - 1);
  checkLength(length);
  return parts.join(separator);
}

/** `text` `times` times, joined without anything between (Go's `strings.Repeat`); 0 times gives `""`. */
export function repeat(text: string, times: number): string {
  if (!Number.isInteger(times) || times < 0)
    throw new RangeError(`repeat count must be an integer >= 0, received ${String(times)}`);
  checkLength(text.length * times);
  return text.repeat(times);
}

/** The word's first character title-cased (not upper-cased: `"ß"` -> `"Ss"`, `"ǆ"` -> `"ǅ"`), the rest as given. */
function capitalise(word: string): string {
  const first = word.codePointAt(0);
  if (first === undefined) return word;
  const head = String.fromCodePoint(first);
  return titleOf(head) + word.slice(head.length);
}

/**
 * Title case of one character. JavaScript has only upper case; the two differ for the Latin digraphs
 * (listed) and for characters whose upper case is several letters (`"ß"` -> `"SS"`, `"ﬁ"` -> `"FI"`),
 * whose title case is the first letter upper and the rest lower.
 */
function titleOf(char: string): string {
  const listed = TITLE_CASE.get(char);
  if (listed !== undefined) return listed;
  const upper = char.toUpperCase();
  const first = upper.codePointAt(0);
  if (first === undefined || upper.length === String.fromCodePoint(first).length) return upper;
  const head = String.fromCodePoint(first);
  return head + upper.slice(head.length).toLowerCase();
}

const TITLE_CASE = new Map<string, string>([
  ['\u01C4', '\u01C5'],
  ['\u01C5', '\u01C5'],
  ['\u01C6', '\u01C5'],
  ['\u01C7', '\u01C8'],
  ['\u01C8', '\u01C8'],
  ['\u01C9', '\u01C8'],
  ['\u01CA', '\u01CB'],
  ['\u01CB', '\u01CB'],
  ['\u01CC', '\u01CB'],
  ['\u01F1', '\u01F2'],
  ['\u01F2', '\u01F2'],
  ['\u01F3', '\u01F2'],
  ['\u0149', '\u02BCN'],
]);

function checkLength(length: number): void {
  if (length > MAX_TEXT_LENGTH) {
    throw new RangeError(`the result would be ${length} characters long, more than the limit of ${MAX_TEXT_LENGTH}`);
  }
}
