/**
 * When a response may be paused for a slow consumer (a file, a stream read slowly). Pausing is how the
 * socket stops being read, so memory stays bounded; but undici 7 asserts that its HTTP/1 parser is not
 * paused when a socket it may not keep alive ends (nodejs/undici#5360, fixed in undici 8 only), and that
 * assertion is thrown from a socket event: it would kill the worker and every job on it. The parser is
 * paused only in the middle of a chunk it has read from the socket, and a socket read holds at most its
 * buffer (tens of KiB), so a pause is safe when either
 * - the response is chunked on a kept-alive connection (a FIN there is an error undici reports, not an
 *   assertion), or
 * - its declared length is more than {@link SAFE_REMAINING_BYTES} away: the FIN cannot be in this read.
 * Otherwise the rest of the body is taken without pausing, which costs at most that many bytes of memory
 * for length-delimited bodies; a close-delimited or `Connection: close` chunked body is never paused
 * (that memory is then bounded only by maxResponseBytes).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Far more than one socket read can hold. */
export const SAFE_REMAINING_BYTES = 1024 * 1024;

export function pauseIsSafe(headers: IncomingHttpHeaders, wireBytesReceived: number): boolean {
  const connection = (headers.connection ?? '').toLowerCase();
  const keptAlive = !connection.split(',').some((token) => token.trim() === 'close');
  const declared = Number(headers['content-length']);
  if (headers['content-length'] !== undefined && Number.isFinite(declared)) {
    return declared - wireBytesReceived > SAFE_REMAINING_BYTES;
  }
  const chunked = (headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked');
  return chunked && keptAlive;
}
