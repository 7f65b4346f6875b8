/**
 * Go's `strconv.ParseFloat(s, 64)`, which the Go engine uses to turn a string into a `number` context
 * value. Its syntax is Go's float literal, not JavaScript's `Number()`: no surrounding whitespace
 * (`" 1"` is refused), no `0x` integer (`"0x10"` is refused: a hex mantissa needs a `p` exponent, as in
 * `"0x1p-2"` = 0.25), no `0b` / `0o`; a sign, `.5`, `5.`, `1e5`, `1E+05` are fine; underscores only
 * between digits (`"1_000"` = 1000, `"1__0"` and `"_1"` refused); `inf`, `infinity` (signed or not) and
 * `nan` in any case. A value too large for a float64 is a range error (Go returns ±Inf with an error);
 * one too small rounds to 0 without error. Rules from strconv/atof.go (`special`, `readFloat`,
 * `atofHex`) and atoi.go (`underscoreOK`). Pure.
 */

export type GoFloatResult =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly reason: 'invalid syntax' | 'value out of range' };

const SPECIAL = /^(?:[+-]?inf(?:inity)?|nan)$/i;

/** `text` read as Go's `strconv.ParseFloat(text, 64)` reads it. */
export function parseGoFloat(text: string): GoFloatResult {
  if (SPECIAL.test(text)) {
    const lower = text.toLowerCase();
    if (lower === 'nan') return { ok: true, value: NaN };
    return { ok: true, value: lower.startsWith('-') ? -Infinity : Infinity };
  }
  const scanned = scan(text);
  if (scanned === undefined) return SYNTAX;
  const value = scanned.hex ? hexValue(scanned) : Number(text.replaceAll('_', ''));
  return Number.isFinite(value) ? { ok: true, value } : RANGE;
}

const SYNTAX = { ok: false, reason: 'invalid syntax' } as const;
const RANGE = { ok: false, reason: 'value out of range' } as const;

interface Scanned {
  readonly hex: boolean;
  readonly negative: boolean;
  /** Mantissa digits without `.` and `_`. */
  readonly digits: string;
  /** Digits after the `.`. */
  readonly fractionDigits: number;
  /** The exponent as written (decimal for `e`, binary for `p`), clamped far beyond any float64. */
  readonly exponent: number;
}

function isDigit(char: string | undefined, hex: boolean): boolean {
  if (char === undefined) return false;
  return (char >= '0' && char <= '9') || (hex && /^[a-fA-F]$/.test(char));
}

/** The parts of a well-formed literal covering all of `text`, or undefined (a syntax error). */
function scan(text: string): Scanned | undefined {
  let i = 0;
  const negative = text[i] === '-';
  if (text[i] === '+' || text[i] === '-') i++;
  // Go's readFloat takes "0x" as a prefix only when something follows it.
  const hex = i + 2 < text.length && text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X');
  if (hex) i += 2;
  let digits = '';
  let fractionDigits = 0;
  let sawDot = false;
  let underscores = false;
  for (; i < text.length; i++) {
    const char = text.charAt(i);
    if (char === '_') underscores = true;
    else if (char === '.' && !sawDot) sawDot = true;
    else if (isDigit(char, hex)) {
      digits += char;
      if (sawDot) fractionDigits++;
    } else break;
  }
  if (digits === '') return undefined;
  let exponent = 0;
  const marker = text[i]?.toLowerCase();
  if (marker === (hex ? 'p' : 'e')) {
    i++;
    const exponentSign = text[i] === '-' ? -1 : 1;
    if (text[i] === '+' || text[i] === '-') i++;
    if (!isDigit(text[i], false)) return undefined;
    let written = '';
    for (; i < text.length && (isDigit(text[i], false) || text[i] === '_'); i++) {
      if (text[i] === '_') underscores = true;
      else written += text.charAt(i);
    }
    exponent = exponentSign * Math.min(Number(written.replace(/^0+(?=.)/, '').slice(0, 8)), 10_000_000);
  } else if (hex) return undefined;
  if (i !== text.length) return undefined;
  if (underscores && !underscoresOk(text)) return undefined;
  return { hex, negative, digits, fractionDigits, exponent };
}

/** Go's rule: an underscore only between two digits, or between a base prefix and a digit. */
function underscoresOk(text: string): boolean {
  let rest = text[0] === '+' || text[0] === '-' ? text.slice(1) : text;
  let previous: 'start' | 'digit' | 'underscore' | 'other' = 'start';
  let hex = false;
  if (/^0[bBoOxX]/.test(rest)) {
    hex = rest[1] === 'x' || rest[1] === 'X';
    rest = rest.slice(2);
    previous = 'digit';
  }
  for (const char of rest) {
    if (isDigit(char, hex)) previous = 'digit';
    else if (char === '_') {
      if (previous !== 'digit') return false;
      previous = 'underscore';
    } else {
      if (previous === 'underscore') return false;
      previous = 'other';
    }
  }
  return previous !== 'underscore';
}

/**
 * A hex literal's value, rounded once to the nearest float64 (ties to even), as atofHex does: the
 * mantissa is exact in a BigInt and only the bits a float64 (or a subnormal) can hold are kept.
 */
function hexValue(scanned: Scanned): number {
  const mantissa = BigInt(`0x${scanned.digits}`);
  const sign = scanned.negative ? -1 : 1;
  if (mantissa === 0n) return sign * 0;
  const exponent = scanned.exponent - 4 * scanned.fractionDigits;
  const bits = mantissa.toString(2).length;
  const top = exponent + bits - 1;
  if (top > 1100) return sign * Infinity;
  // Significant bits a float64 keeps at this magnitude: 53, fewer for subnormals (down to none).
  const precision = top >= -1022 ? 53 : top + 1075;
  const shift = bits - precision;
  let kept = shift > 0 ? mantissa >> BigInt(shift) : mantissa;
  if (shift > 0) {
    const rest = mantissa - (kept << BigInt(shift));
    const half = 1n << BigInt(shift - 1);
    if (rest > half || (rest === half && (kept & 1n) === 1n)) kept += 1n;
  }
  const scale = exponent + Math.max(shift, 0);
  return sign * Number(kept) * 2 ** scale;
}
