/**
 * A job's cancel switch. Lighter than an AbortController, which costs an EventTarget and an
 * AbortSignal per job on the worker's hot path: a job has exactly one listener at a time (the HTTP
 * exchange in progress), so a field does.
 */

/** Why a job was stopped early. */
export type AbortCause =
  { readonly kind: 'cancel' } | { readonly kind: 'timeout'; readonly which: 'total' | 'headers' };

export class JobCancellation {
  #cause: AbortCause | undefined;
  #listener: ((cause: AbortCause) => void) | undefined;

  /** The first abort's cause; undefined while the job may run on. */
  get cause(): AbortCause | undefined {
    return this.#cause;
  }

  /** Stops the job (the first call wins; later ones do nothing). */
  abort(cause: AbortCause): void {
    if (this.#cause !== undefined) return;
    this.#cause = cause;
    this.#listener?.(cause);
  }

  /** Sets the one listener, called by the first abort from now on (check `cause` for an earlier one). */
  listen(listener: (cause: AbortCause) => void): void {
    this.#listener = listener;
  }
}
