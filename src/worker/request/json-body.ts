/**
 * `responseType: 'json'`: the body parsed, or FLOWPOOL_INVALID_RESPONSE carrying what the caller needs
 * to see what came instead (status, headers, the first bytes), whatever the status. A 404 HTML page is
 * not JSON either: resolving it as a string would hand a JSON consumer a value of the wrong type.
 */
import { FlowpoolError } from '../../errors/flowpool-error.js';

/** Bytes of a non-JSON body quoted in the error's details. */
const PREVIEW_BYTES = 1024;

export function parseJsonBody(
  text: string,
  bytes: Uint8Array,
  status: number,
  /** Asked only when the body is not JSON: building the object costs, and the plain path never needs it. */
  headersOf: () => Record<string, string | string[]>,
): unknown {
  // An empty body (204, or a 200 with nothing) is "no value", not a broken document.
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const preview = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, PREVIEW_BYTES));
    // The message names the status only: header values stay in details, out of logs that print messages.
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_RESPONSE',
      `response is not valid JSON (status ${status}): ${(error as Error).message}`,
      { status, headers: withoutSetCookie(headersOf()), bodyPreview: preview.toString('utf8') },
    );
  }
}

/** A session cookie is a secret: errors end up in logs, so it stays out of them. */
function withoutSetCookie(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  if (headers['set-cookie'] === undefined) return headers;
  const { 'set-cookie': _dropped, ...rest } = headers;
  return rest;
}
