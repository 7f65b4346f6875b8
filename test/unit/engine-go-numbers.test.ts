/**
 * Numbers as the Go engine reads and writes them as text (reference: yesoreyeram/thaiyyal 488dcb5):
 * a `number` context value from a string goes through `strconv.ParseFloat(v, 64)` and a number written
 * into text goes through `fmt.Sprintf("%v", v)` (backend/pkg/executor/helpers.go@488dcb5
 * convertTypedValue, backend/pkg/engine/engine.go@488dcb5 interpolateTemplate). The tables are Go's own:
 * strconv's atoftests (every row, test/fixtures/go/strconv_atof_test.json) and the shortest-'g' rows of
 * ftoatests, which is what %v prints for a float64 (fmt/print.go: %v is fmtFloat(v, 64, 'g', -1)).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatGoFloat, parseGoFloat } from '../../dist/src/engine/index.js';

interface AtofCase {
  readonly in: string | readonly (string | { readonly repeat: string; readonly times: number })[];
  readonly out: string;
  readonly err: 'syntax' | 'range' | null;
}

const atof = JSON.parse(readFileSync(new URL('../fixtures/go/strconv_atof_test.json', import.meta.url), 'utf8')) as {
  readonly cases: readonly AtofCase[];
};

/** Go's string: a list stands for a concatenation, `{ repeat, times }` for strings.Repeat. */
function goString(input: AtofCase['in']): string {
  if (typeof input === 'string') return input;
  return input.map((part) => (typeof part === 'string' ? part : part.repeat.repeat(part.times))).join('');
}

describe("strconv.ParseFloat: Go's atoftests (golang/go src/strconv/atof_test.go@1419445926fe)", () => {
  const rows = atof.cases.map((row) => {
    const text = goString(row.in);
    return { ...row, text, name: text.length > 60 ? `${text.slice(0, 40)}... (${String(text.length)} chars)` : text };
  });

  it.each(rows.filter((row) => row.err === null))('$name -> $out', ({ text, out }) => {
    const parsed = parseGoFloat(text);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(formatGoFloat(parsed.value)).toBe(out);
  });

  it.each(rows.filter((row) => row.err === 'syntax'))('$name: invalid syntax', ({ text }) => {
    expect(parseGoFloat(text)).toEqual({ ok: false, reason: 'invalid syntax' });
  });

  it.each(rows.filter((row) => row.err === 'range'))('$name: value out of range', ({ text }) => {
    expect(parseGoFloat(text)).toEqual({ ok: false, reason: 'value out of range' });
  });

  it('covers every row of the table', () => {
    expect(rows).toHaveLength(257);
  });
});

describe('strconv.ParseFloat: what Number() would accept and Go refuses, and the reverse', () => {
  // Rules from golang/go src/strconv/atof.go (special, readFloat) and atoi.go (underscoreOK).
  it.each([
    [' 1', undefined],
    ['1 ', undefined],
    ['0x10', undefined], // a hex mantissa needs a p exponent
    ['0b101', undefined],
    ['0o17', undefined],
    ['', undefined],
    ['-nan', undefined], // only inf takes a sign
    ['infin', undefined],
    ['1e5', 100000],
    ['.5', 0.5],
    ['5.', 5],
    ['+1', 1],
    ['Inf', Infinity],
    ['-infinity', -Infinity],
    ['1_000', 1000], // underscores between digits are Go float-literal syntax
    ['1__000', undefined],
    ['0x1p-2', 0.25],
    ['0X1P+2', 4],
  ])('%j -> %s', (text, value) => {
    const parsed = parseGoFloat(text);
    if (value === undefined) expect(parsed).toEqual({ ok: false, reason: 'invalid syntax' });
    else expect(parsed).toEqual({ ok: true, value });
  });

  it('NaN, case-insensitively', () => {
    for (const text of ['nan', 'NaN', 'NAN']) {
      const parsed = parseGoFloat(text);
      expect(parsed.ok && Number.isNaN(parsed.value)).toBe(true);
    }
  });
});

describe("%v of a float64: Go's ftoatests, shortest 'g' (golang/go src/strconv/ftoa_test.go@165ceb09f95f)", () => {
  it.each([
    [1, '1'],
    [20, '20'],
    [1234567.8, '1.2345678e+06'],
    [200000, '200000'],
    [2000000, '2e+06'],
    [0, '0'],
    [-1, '-1'],
    [12, '12'],
    [123456700, '1.234567e+08'],
    [1e23, '1e+23'],
    // Go's constants below1e23 and above1e23, read as Go reads the untyped constant into a float64.
    [Number('99999999999999974834176'), '9.999999999999997e+22'],
    [Number('100000000000000008388608'), '1.0000000000000001e+23'],
    [5e-304 / 1e20, '5e-324'],
    [-5e-304 / 1e20, '-5e-324'],
    [32, '32'],
    [NaN, 'NaN'],
    [-NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    // Go's literals, which round to a float64 as Number() rounds them.
    [Number('2.2250738585072012e-308'), '2.2250738585072014e-308'],
    [Number('2.2250738585072011e-308'), '2.225073858507201e-308'],
    [383260575764816448, '3.8326057576481645e+17'],
    [-5.8339553793802237e23, '-5.8339553793802237e+23'],
  ])('%d -> %s', (value, text) => {
    expect(formatGoFloat(value)).toBe(text);
  });
});

describe('%v of a float64: where the exponent starts (strconv/ftoa.go formatDigits: eprec = 6 when shortest)', () => {
  it.each([
    [1234567, '1.234567e+06'],
    [1e6, '1e+06'],
    [999999, '999999'],
    [100000, '100000'],
    [123456.7, '123456.7'],
    [0.0001, '0.0001'],
    [0.00012345, '0.00012345'],
    [0.00001, '1e-05'],
    [0.000012345, '1.2345e-05'],
    [1e21, '1e+21'],
    [1e100, '1e+100'],
    [1.5e-300, '1.5e-300'],
    [42, '42'],
    [-0, '-0'],
    [0.1, '0.1'],
    [-123456789, '-1.23456789e+08'],
    [Number.MAX_SAFE_INTEGER, '9.007199254740991e+15'],
    [Number.MAX_VALUE, '1.7976931348623157e+308'],
  ])('%d -> %s', (value, text) => {
    expect(formatGoFloat(value)).toBe(text);
  });
});
