/**
 * The sockets one dispatcher holds per origin: each holds a unit of the origin's connection cap from its dial
 * until it closes. The shared counters count every dispatcher of the worker (one per profile) together, so a
 * dispatcher asks here whether an idle socket is its own, and here finds its sockets to close when another
 * profile needs their units.
 */
import type { Socket } from 'node:net';

export class HeldSockets {
  /** Units held per origin: sockets dialling or connected. */
  readonly #units = new Map<string, number>();
  /** Connected sockets per origin. */
  readonly #connected = new Map<string, Set<Socket>>();

  /** A dial took a unit for `origin`. */
  taken(origin: string): void {
    this.#units.set(origin, (this.#units.get(origin) ?? 0) + 1);
  }

  /** A unit taken for `origin` was given back (the dial failed or its socket closed). */
  given(origin: string): void {
    const left = (this.#units.get(origin) ?? 1) - 1;
    if (left > 0) this.#units.set(origin, left);
    else this.#units.delete(origin);
  }

  /** Units this dispatcher holds for `origin`. */
  count(origin: string): number {
    return this.#units.get(origin) ?? 0;
  }

  /** A dial connected: its socket is known until it closes. */
  connected(origin: string, socket: Socket): void {
    let set = this.#connected.get(origin);
    if (set === undefined) this.#connected.set(origin, (set = new Set()));
    set.add(socket);
    socket.once('close', () => {
      set.delete(socket);
      if (set.size === 0 && this.#connected.get(origin) === set) this.#connected.delete(origin);
    });
  }

  /** Closes every connected socket to `origin` (the caller knows none carries a request). */
  destroyAll(origin: string): void {
    for (const socket of this.#connected.get(origin) ?? []) socket.destroy();
  }
}
