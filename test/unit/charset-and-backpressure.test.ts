/** Pure parts of response handling in the worker: charset decoding and when a response may pause. */
import { describe, expect, it } from 'vitest';
import { charsetLabel, decodeText } from '../../dist/src/worker/request/charset.js';
import { pauseIsSafe, SAFE_REMAINING_BYTES } from '../../dist/src/worker/request/body-backpressure.js';

describe('charset decoding', () => {
  it('reads the charset parameter (quoted, any case, among others)', () => {
    expect(charsetLabel('text/html; charset=UTF-8')).toBe('utf-8');
    expect(charsetLabel('text/html;foo=bar; Charset="Shift_JIS"')).toBe('shift_jis');
    expect(charsetLabel('text/html')).toBeUndefined();
    expect(charsetLabel(undefined)).toBeUndefined();
    expect(charsetLabel(['text/plain; charset=latin1', 'x'])).toBe('latin1');
  });

  it('answers each value by its own label when values alternate and repeat (the last one is remembered)', () => {
    const values = ['text/plain; charset=utf-8', 'text/html; charset=Shift_JIS', 'application/json', ''];
    const labels = ['utf-8', 'shift_jis', undefined, undefined];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < values.length; i++) {
        expect(charsetLabel(values[i])).toBe(labels[i]);
        expect(charsetLabel(values[i])).toBe(labels[i]);
      }
    }
  });

  it('maps every windows-1252 label to windows-1252, C1 holes kept', () => {
    const bytes = Uint8Array.of(0x80, 0x81, 0x9f, 0xe9);
    for (const label of ['latin1', 'iso-8859-1', 'windows-1252', 'us-ascii']) {
      expect(decodeText(bytes, `text/plain; charset=${label}`)).toBe('\u20ac\u0081\u0178é');
    }
  });

  it('honours a BOM over the label and keeps a later U+FEFF', () => {
    expect(decodeText(Uint8Array.of(0xfe, 0xff, 0x00, 0x41), 'text/plain; charset=latin1')).toBe('A');
    expect(decodeText(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41, 0xef, 0xbb, 0xbf), undefined)).toBe('A\ufeff');
  });

  it('replaces invalid UTF-8 with U+FFFD', () => {
    expect(decodeText(Uint8Array.of(0x41, 0xff), undefined)).toBe('A\ufffd');
  });
});

describe('when a response may be paused', () => {
  it('pauses a length-delimited body only while its end is far away', () => {
    const headers = { 'content-length': String(10 * SAFE_REMAINING_BYTES), connection: 'close' };
    expect(pauseIsSafe(headers, 0)).toBe(true);
    expect(pauseIsSafe(headers, 9 * SAFE_REMAINING_BYTES)).toBe(false);
  });

  it('pauses chunked bodies on kept-alive connections only, never close-delimited ones', () => {
    expect(pauseIsSafe({ 'transfer-encoding': 'chunked' }, 0)).toBe(true);
    expect(pauseIsSafe({ 'transfer-encoding': 'chunked', connection: 'close' }, 0)).toBe(false);
    expect(pauseIsSafe({}, 0)).toBe(false);
  });
});
