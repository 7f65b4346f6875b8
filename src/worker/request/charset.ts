/**
 * Text decoding by the response's charset, the way browsers decode a document: a byte order mark
 * wins over everything, then the `charset` parameter of `content-type` (any WHATWG Encoding label:
 * `latin1` and `iso-8859-1` are windows-1252, `sjis` is shift_jis, ...), then UTF-8. An unknown label
 * falls back to UTF-8 rather than failing the job: a wrong label is common and the bytes still arrive.
 * Invalid sequences become U+FFFD, never an error.
 */

import { TextDecoder } from 'node:util';

type Bom = { readonly encoding: string; readonly length: number };

/** The encoding a byte order mark at the start of `bytes` names, if there is one. */
function sniffBom(bytes: Uint8Array): Bom | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { encoding: 'utf-8', length: 3 };
  }
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  return undefined;
}

/**
 * The content-type read last and its label: a server answers with the same value response after response, so
 * the split below runs once per distinct value rather than once per response.
 */
let lastContentType = '';
let lastLabel: string | undefined;

/** The `charset` parameter of a content-type value, unquoted and lower-cased; undefined when absent. */
export function charsetLabel(contentType: string | readonly string[] | undefined): string | undefined {
  const value = typeof contentType === 'string' ? contentType : contentType?.[0];
  if (typeof value !== 'string') return undefined;
  if (value === lastContentType) return lastLabel;
  const label = parseCharsetLabel(value);
  lastContentType = value;
  lastLabel = label;
  return label;
}

function parseCharsetLabel(value: string): string | undefined {
  for (const parameter of value.split(';').slice(1)) {
    const equals = parameter.indexOf('=');
    if (equals === -1) continue;
    if (parameter.slice(0, equals).trim().toLowerCase() !== 'charset') continue;
    const label = parameter
      .slice(equals + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    return label === '' ? undefined : label;
  }
  return undefined;
}

/** A decoder for `label`, or undefined when the label names no encoding this Node knows. */
function decoderFor(label: string): TextDecoder | undefined {
  try {
    // The BOM was handled by the caller: keep any later U+FEFF as the text's own.
    return new TextDecoder(label, { ignoreBOM: true });
  } catch {
    return undefined;
  }
}

/** Decodes a whole body as text by BOM, then charset, then UTF-8. */
export function decodeText(bytes: Uint8Array, contentType: string | readonly string[] | undefined): string {
  const bom = sniffBom(bytes);
  if (bom !== undefined) return decode(bytes.subarray(bom.length), bom.encoding);
  return decode(bytes, charsetLabel(contentType) ?? 'utf-8');
}

/**
 * windows-1252's characters at 0x80-0x9F (0 where it keeps the C1 control). Node 20's TextDecoder gives
 * ISO-8859-1 there for every label WHATWG maps to windows-1252 (latin1, iso-8859-1, ascii, ...), so
 * `€` would come back as U+0080: decoded here instead (Node fixed it in 23).
 */
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0, 0,
  0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];

function decodeWindows1252(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return latin1.replace(/[\x80-\x9f]/g, (c) => {
    const mapped = CP1252_HIGH[c.charCodeAt(0) - 0x80] ?? 0;
    return mapped === 0 ? c : String.fromCharCode(mapped);
  });
}

function decode(bytes: Uint8Array, label: string): string {
  const decoder = label === 'utf-8' || label === 'utf8' ? undefined : decoderFor(label);
  if (decoder?.encoding === 'windows-1252') return decodeWindows1252(bytes);
  if (decoder === undefined || decoder.encoding === 'utf-8') {
    // Buffer's UTF-8 decoding is the fast path, and replaces invalid sequences with U+FFFD like TextDecoder.
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }
  return decoder.decode(bytes);
}
