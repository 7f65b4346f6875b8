/**
 * A response body as the Go engine sees it (`bodyDecoding: 'go'`): Go keeps the raw bytes as its string
 * (`string(body)`, no charset decoding, a byte order mark kept), and every byte that is not part of
 * valid UTF-8 turns into U+FFFD on its own when the text is case-mapped or written as JSON
 * (`utf8.DecodeRune` reports an invalid byte with size 1). So Latin-1 `caf\xe9` reads `caf\uFFFD` and
 * upper-cases to `CAF\uFFFD`. Valid UTF-8 (the common case) is decoded in one call; only a body with
 * invalid bytes is walked. Pure.
 */

/**
 * How an http node turns a response body into text: `charset` decodes it by its declared charset and
 * drops a byte order mark (the runtime's own decoding); `go` reads it as the Go engine does: the raw
 * bytes as UTF-8, a byte order mark kept, U+FFFD for each byte that is not UTF-8.
 */
export type BodyDecoding = 'charset' | 'go';

const STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** `bytes` as Go's string of them reads once written out: valid UTF-8 as is, U+FFFD per invalid byte. */
export function decodeGoBody(bytes: Uint8Array): string {
  try {
    return STRICT.decode(bytes);
  } catch {
    return decodeByteByByte(bytes);
  }
}

function decodeByteByByte(bytes: Uint8Array): string {
  let out = '';
  let runStart = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    out += `${STRICT.decode(bytes.subarray(runStart, i))}\uFFFD`;
    i += 1;
    runStart = i;
  }
  return out + STRICT.decode(bytes.subarray(runStart));
}

const isContinuation = (byte: number | undefined): boolean => byte !== undefined && byte >= 0x80 && byte <= 0xbf;

/**
 * Length of the valid UTF-8 sequence at `i`, or 0 when the byte there does not start one (Go's
 * `acceptRanges`: no overlong forms, no surrogates, nothing past U+10FFFF).
 */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const first = bytes[i] ?? 0;
  if (first < 0x80) return 1;
  const second = bytes[i + 1];
  if (second === undefined) return 0;
  let low = 0x80;
  let high = 0xbf;
  let length: number;
  if (first >= 0xc2 && first <= 0xdf) length = 2;
  else if (first >= 0xe0 && first <= 0xef) {
    length = 3;
    if (first === 0xe0) low = 0xa0;
    if (first === 0xed) high = 0x9f;
  } else if (first >= 0xf0 && first <= 0xf4) {
    length = 4;
    if (first === 0xf0) low = 0x90;
    if (first === 0xf4) high = 0x8f;
  } else return 0;
  if (second < low || second > high) return 0;
  for (let k = 2; k < length; k++) if (!isContinuation(bytes[i + k])) return 0;
  return length;
}
