/** The collected body as the job asked for it: text (decoded by its charset), parsed JSON or bytes. */
import type { ResponseType } from '../../wire/protocol.js';
import { decodeText } from './charset.js';
import { parseJsonBody } from './json-body.js';
import type { ResponseReader } from './response-reader.js';

export function successBody(reader: ResponseReader, responseType: ResponseType): unknown {
  const { chunks, bytes } = reader;
  const buffer = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, bytes);
  if (responseType === 'bytes') {
    // Exactly its own bytes: a view into a larger ArrayBuffer (Node's shared pool, undici's read buffer) would
    // cross the thread boundary whole, with whatever else that memory holds.
    if (buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength) return new Uint8Array(buffer.buffer);
    return new Uint8Array(buffer);
  }
  const contentType = reader.headers?.get('content-type');
  const text = decodeText(buffer, contentType);
  if (responseType === 'text') return text;
  return parseJsonBody(
    text,
    buffer,
    reader.status,
    () => (reader.headers?.toObject() ?? {}) as Record<string, string | string[]>,
  );
}
