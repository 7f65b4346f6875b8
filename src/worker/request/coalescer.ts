/**
 * Gathers small buffers into blocks. undici hands body bytes over as the server framed them, and a
 * hostile server can frame one byte per chunk: kept as they come, a Buffer per byte costs a hundred
 * bytes of heap or more (a 10 MB body held over a gigabyte), and a zlib write per byte costs a
 * thread-pool round trip each (a 2 MB gzip body took minutes).
 *
 * A chunk of at least half a block passes through as it is (after the bytes before it). A lone small
 * chunk is kept as it is too, so the usual small body in one piece costs no copy; from the second
 * small chunk on, bytes are copied into blocks of `blockBytes`.
 */
export class Coalescer {
  readonly #blockBytes: number;
  readonly #emit: (chunk: Buffer) => void;
  /** A first small chunk, not copied yet. */
  #single: Buffer | undefined;
  #block: Buffer | undefined;
  #used = 0;

  constructor(blockBytes: number, emit: (chunk: Buffer) => void) {
    this.#blockBytes = blockBytes;
    this.#emit = emit;
  }

  push(chunk: Buffer): void {
    if (chunk.length >= this.#blockBytes / 2) {
      this.flush();
      this.#emit(chunk);
      return;
    }
    if (this.#single === undefined && this.#block === undefined) {
      this.#single = chunk;
      return;
    }
    if (this.#single !== undefined) {
      const first = this.#single;
      this.#single = undefined;
      this.#append(first);
    }
    this.#append(chunk);
  }

  /** Emits the bytes gathered so far, if any. */
  flush(): void {
    if (this.#single !== undefined) {
      const single = this.#single;
      this.#single = undefined;
      this.#emit(single);
      return;
    }
    if (this.#block === undefined || this.#used === 0) return;
    const block = this.#block;
    const used = this.#used;
    this.#block = undefined;
    this.#used = 0;
    if (used === this.#blockBytes) this.#emit(block);
    // A short tail is copied out rather than keeping the whole block alive behind it.
    else this.#emit(used > this.#blockBytes / 2 ? block.subarray(0, used) : Buffer.from(block.subarray(0, used)));
  }

  #append(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      this.#block ??= Buffer.allocUnsafe(this.#blockBytes);
      const copied = chunk.copy(this.#block, this.#used, offset);
      this.#used += copied;
      offset += copied;
      if (this.#used === this.#blockBytes) this.flush();
    }
  }
}
