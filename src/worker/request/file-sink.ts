/**
 * `saveTo`: the body written to a file by the worker, so the main thread never holds it. Bytes go to a
 * temporary file beside the target (same directory, so the final rename is atomic on one file system)
 * and the target appears, complete, only once the whole body has been written and flushed. On any
 * failure the temporary file is removed and an existing file at the target is left as it was.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { FlowpoolError } from '../../errors/flowpool-error.js';
import type { BodySink } from './body-sink.js';

/** Bytes the write stream buffers before the response is paused. */
const WRITE_BUFFER_BYTES = 1024 * 1024;

export interface SavedFile {
  readonly path: string;
  readonly bytes: number;
}

export class FileSink implements BodySink {
  readonly #target: string;
  readonly #temporary: string;
  readonly #stream: WriteStream;
  #bytes = 0;
  #error: Error | undefined;
  #discarded: Promise<void> | undefined;

  /** Opens the temporary file; `onError` is called once if writing fails (disk full, no permission, ...). */
  constructor(target: string, onError: (error: FlowpoolError) => void) {
    this.#target = target;
    this.#temporary = `${target}.${randomBytes(6).toString('hex')}.flowpool-part`;
    this.#stream = createWriteStream(this.#temporary, { flags: 'wx', highWaterMark: WRITE_BUFFER_BYTES });
    this.#stream.once('error', (error: NodeJS.ErrnoException) => {
      const failure = saveFailed(error, target);
      this.#error = failure;
      onError(failure);
    });
  }

  write(chunk: Buffer): boolean {
    this.#bytes += chunk.length;
    return this.#stream.write(chunk);
  }

  onDrain(resume: () => void): void {
    this.#stream.once('drain', resume);
  }

  /** Flushes and closes the file, then moves it to the target. */
  async finish(): Promise<SavedFile> {
    await new Promise<void>((resolve, reject) => {
      if (this.#error !== undefined) {
        reject(this.#error);
        return;
      }
      this.#stream.once('error', reject);
      this.#stream.end(() => resolve());
    });
    try {
      await rename(this.#temporary, this.#target);
    } catch (error) {
      await unlink(this.#temporary).catch(() => undefined);
      throw saveFailed(error as NodeJS.ErrnoException, this.#target);
    }
    return { path: this.#target, bytes: this.#bytes };
  }

  discard(): Promise<void> {
    this.#discarded ??= new Promise<void>((resolve) => {
      // A stream that failed is closed already and emits no second 'close'.
      if (this.#stream.closed) {
        resolve();
        return;
      }
      this.#stream.once('close', resolve);
      this.#stream.destroy();
    }).then(() => unlink(this.#temporary).catch(() => undefined));
    return this.#discarded;
  }
}

function saveFailed(error: NodeJS.ErrnoException, path: string): FlowpoolError {
  // The path is the caller's own (job.saveTo): with the errno code it says which file and why.
  return new FlowpoolError(
    'FLOWPOOL_SAVE_FAILED',
    `the body could not be saved to ${path}: ${error.code ?? error.message}`,
    {
      path,
      ...(error.code === undefined ? {} : { causeCode: error.code }),
    },
  );
}
