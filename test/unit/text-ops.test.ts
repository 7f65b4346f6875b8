/**
 * The text operations, defined by tables. Case mapping is locale-independent. Words are found as the Go
 * engine finds them: Unicode word boundaries for titlecase (Go's cases.Title), whitespace for camelcase
 * (Go's strings.Fields); a word's first character is title-cased (ß -> Ss), not upper-cased.
 */
import { describe, expect, it } from 'vitest';
import {
  camelcase,
  concat,
  inversecase,
  lowercase,
  MAX_TEXT_LENGTH,
  repeat,
  titlecase,
  uppercase,
} from '../../dist/src/engine/text-ops.js';

type Row = readonly [input: string, expected: string];

const tables: Record<string, { readonly fn: (text: string) => string; readonly rows: readonly Row[] }> = {
  uppercase: {
    fn: uppercase,
    rows: [
      ['hello wORLD', 'HELLO WORLD'],
      ['', ''],
      ['123 abc!', '123 ABC!'],
      ['élan', 'ÉLAN'],
      ['straße', 'STRASSE'],
    ],
  },
  lowercase: {
    fn: lowercase,
    rows: [
      ['Hello WORLD', 'hello world'],
      ['', ''],
      ['ÉLAN 42', 'élan 42'],
    ],
  },
  titlecase: {
    fn: titlecase,
    rows: [
      ['hello wORLD', 'Hello World'],
      ['HELLO WORLD', 'Hello World'],
      ['  two   spaces ', '  Two   Spaces '],
      ['tab\tand\nnewline', 'Tab\tAnd\nNewline'],
      ["o'neil", "O'neil"],
      ['well-known fact', 'Well-Known Fact'],
      ['123abc def', '123abc Def'],
      ['élan vital', 'Élan Vital'],
      ['ßa', 'Ssa'],
      ['ǆemal', 'ǅemal'],
      ['ﬁne', 'Fine'],
      ['hello/world.txt', 'Hello/World.txt'],
      ['', ''],
    ],
  },
  camelcase: {
    fn: camelcase,
    rows: [
      ['hello world', 'helloWorld'],
      ['Hello World', 'helloWorld'],
      ['hello wORLD', 'helloWorld'],
      ['hello world from go', 'helloWorldFromGo'],
      ['hello_world-foo bar', 'hello_world-fooBar'],
      ['fooBar baz', 'foobarBaz'],
      ['XMLHttpRequest', 'xmlhttprequest'],
      ['HTTP request 2', 'httpRequest2'],
      ['  --leading and trailing--  ', '--leadingAndTrailing--'],
      ['tab\tand\nnewline\u00a0nbsp', 'tabAndNewlineNbsp'],
      ['hello élan', 'helloÉlan'],
      ['hello ßa', 'helloSsa'],
      ['élan vital', 'élanVital'],
      ['', ''],
      ['   ', '   '],
      ['!!!', '!!!'],
    ],
  },
  inversecase: {
    fn: inversecase,
    rows: [
      ['Hello World', 'hELLO wORLD'],
      ['hello wORLD', 'HELLO World'],
      ['123 !?', '123 !?'],
      ['Élan', 'éLAN'],
      ['', ''],
    ],
  },
};

describe('text operations', () => {
  for (const [name, { fn, rows }] of Object.entries(tables)) {
    describe(name, () => {
      it.each(rows)('%j -> %j', (input, expected) => {
        expect(fn(input)).toBe(expected);
      });
    });
  }

  describe('concat', () => {
    it.each([
      [['a', 'b', 'c'], undefined, 'abc'],
      [['a', 'b', 'c'], ' | ', 'a | b | c'],
      [['only'], ', ', 'only'],
      [[], ', ', ''],
      [['', ''], '-', '-'],
    ] as const)('%j with separator %j -> %j', (parts, separator, expected) => {
      expect(concat(parts, separator)).toBe(expected);
    });
  });

  describe('repeat', () => {
    it.each([
      ['ab', 3, 'ababab'],
      ['Ha', 2, 'HaHa'],
      ['ab', 1, 'ab'],
      ['ab', 0, ''],
      ['', 5, ''],
    ] as const)('%j x %i -> %j', (text, times, expected) => {
      expect(repeat(text, times)).toBe(expected);
    });

    it('refuses a negative or fractional count', () => {
      expect(() => repeat('a', -1)).toThrow(RangeError);
      expect(() => repeat('a', 1.5)).toThrow(RangeError);
    });

    it('refuses a result over MAX_TEXT_LENGTH before building it', () => {
      expect(() => repeat('x'.repeat(1024), MAX_TEXT_LENGTH)).toThrow(/more than the limit/);
      expect(repeat('x', MAX_TEXT_LENGTH)).toHaveLength(MAX_TEXT_LENGTH);
    });
  });
});
