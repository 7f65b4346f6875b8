/**
 * The two halves every raw `net` HTTP/1.1 server here needs, whatever it does with a request: reading
 * requests off a socket, and counting the sockets a client holds open. Shared by the stress harness's
 * servers (servers.ts) and the tests' raw server (test/fixtures/raw-server.ts), which both answer byte
 * by byte so that they can misbehave exactly.
 */
import type { Socket } from 'node:net';

export interface FramedRequest {
  readonly method: string;
  /** Request target as sent (path and query). */
  readonly path: string;
  /** Header names lower-cased; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** A view of the socket's bytes: copy it to keep it past the callback. */
  readonly body: Buffer;
}

/** A request head longer than this (no blank line yet) is not HTTP this server answers: the socket goes. */
const MAX_HEAD_BYTES = 64 * 1024;

/**
 * Calls `onRequest` for each complete request on `socket`, in order: request line, headers and a
 * Content-Length body (what undici sends for string and byte bodies). A head over 64 KiB, a chunked
 * request body (no caller sends one; refused rather than guessed) or a Content-Length that is not one
 * decimal number destroys the socket. A callback that
 * destroys the socket stops the reading.
 */
export function readRequests(socket: Socket, onRequest: (request: FramedRequest) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > MAX_HEAD_BYTES) socket.destroy();
        return;
      }
      const lines = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const [method = '', path = ''] = (lines[0] ?? '').split(' ');
      const headers: Record<string, string> = {};
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i] ?? '';
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      // A repeated or signed Content-Length would frame nothing sensible (NaN or a negative length
      // rewinds the buffer and loops): refused, like a chunked body.
      const declared = headers['content-length'] ?? '0';
      if (headers['transfer-encoding'] !== undefined || !/^\d+$/.test(declared)) {
        socket.destroy();
        return;
      }
      const length = Number(declared);
      if (buffered.length < end + 4 + length) return;
      const body = buffered.subarray(end + 4, end + 4 + length);
      buffered = buffered.subarray(end + 4 + length);
      onRequest({ method, path, headers, body });
      if (socket.destroyed) return;
    }
  });
}

/**
 * Connections accepted, open now, and the most open at once. A socket stops counting as open at the
 * client's FIN, at its close, or when the server itself destroys it (see {@link closing}), whichever comes
 * first; the peak is sampled after each poll phase,
 * because a client's FIN and its next SYN can be reported in the same phase in either order, and a
 * socket the client already closed must not count against its cap.
 */
export class SocketTally {
  #accepted = 0;
  #open = 0;
  #peakOpen = 0;
  #sampleScheduled = false;
  readonly #gone = new WeakMap<Socket, () => void>();

  get accepted(): number {
    return this.#accepted;
  }

  get open(): number {
    return this.#open;
  }

  get peakOpen(): number {
    return this.#peakOpen;
  }

  /** Counts a socket just accepted; returns its 0-based index in accept order. */
  track(socket: Socket): number {
    const index = this.#accepted++;
    this.#open++;
    this.#sample();
    let counted = true;
    const gone = (): void => {
      if (!counted) return;
      counted = false;
      this.#open--;
    };
    socket.once('end', gone);
    socket.once('close', gone);
    this.#gone.set(socket, gone);
    return index;
  }

  /**
   * The server is about to destroy `socket`: it is closed from this moment. Its 'close' event comes a turn
   * later, and the client, which sees the close first, may dial its next socket in between: counting the
   * closed one until then would show one socket more than were open.
   */
  closing(socket: Socket): void {
    this.#gone.get(socket)?.();
  }

  #sample(): void {
    if (this.#sampleScheduled) return;
    this.#sampleScheduled = true;
    setImmediate(() => {
      this.#sampleScheduled = false;
      this.#peakOpen = Math.max(this.#peakOpen, this.#open);
    });
  }
}
