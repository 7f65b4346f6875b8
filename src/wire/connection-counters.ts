/**
 * Open-connection counters shared by the main thread and every worker through one SharedArrayBuffer.
 *
 * `connectionsPerHost` is a cap on the sockets open to one origin summed over all workers. A worker's
 * connector takes a unit before it dials and gives it back when the socket closes, so the cap holds
 * exactly at the moment of dialling, whatever the coordinator believed. The coordinator reads the same
 * counters (live, no messages) to send each job where an idle socket already waits, so the gate
 * almost never has to make a connector wait.
 *
 * Layout: one row per origin slot, `[total, worker0, worker1, ...]`. Slots are handed out by the
 * coordinator and only reused once every socket of the previous origin has closed.
 */
export class ConnectionCounters {
  readonly #cells: Int32Array;
  readonly #stride: number;
  readonly slots: number;
  readonly workers: number;

  constructor(buffer: SharedArrayBuffer, slots: number, workers: number) {
    this.#cells = new Int32Array(buffer);
    this.#stride = workers + 1;
    this.slots = slots;
    this.workers = workers;
    if (this.#cells.length < slots * this.#stride) throw new RangeError('connection counter buffer too small');
  }

  static allocate(slots: number, workers: number): ConnectionCounters {
    const buffer = new SharedArrayBuffer(slots * (workers + 1) * Int32Array.BYTES_PER_ELEMENT);
    return new ConnectionCounters(buffer, slots, workers);
  }

  get buffer(): SharedArrayBuffer {
    return this.#cells.buffer as SharedArrayBuffer;
  }

  /** Sockets open to the slot's origin, all workers together. */
  total(slot: number): number {
    return Atomics.load(this.#cells, slot * this.#stride);
  }

  /** Sockets one worker holds open to the slot's origin. */
  open(slot: number, worker: number): number {
    return Atomics.load(this.#cells, slot * this.#stride + 1 + worker);
  }

  /**
   * Takes one connection unit if the total is under `cap`. Lock-free: compare-and-swap on the total,
   * so two workers dialling at once can never both take the last unit.
   */
  tryAcquire(slot: number, worker: number, cap: number): boolean {
    const totalIndex = slot * this.#stride;
    for (;;) {
      const current = Atomics.load(this.#cells, totalIndex);
      if (current >= cap) return false;
      if (Atomics.compareExchange(this.#cells, totalIndex, current, current + 1) === current) {
        Atomics.add(this.#cells, totalIndex + 1 + worker, 1);
        return true;
      }
    }
  }

  /**
   * Waits (without blocking the event loop) until a unit can be taken or `timeoutMs` passes.
   * Resolves true when the unit was taken.
   */
  async acquire(slot: number, worker: number, cap: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const totalIndex = slot * this.#stride;
    while (!this.tryAcquire(slot, worker, cap)) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      const seen = Atomics.load(this.#cells, totalIndex);
      if (seen < cap) continue;
      const waited = Atomics.waitAsync(this.#cells, totalIndex, seen, remaining);
      if (waited.async) await waited.value;
    }
    return true;
  }

  /** Gives a unit back (the socket closed or the dial failed) and wakes connectors waiting on it. */
  release(slot: number, worker: number): void {
    const totalIndex = slot * this.#stride;
    Atomics.sub(this.#cells, totalIndex + 1 + worker, 1);
    Atomics.sub(this.#cells, totalIndex, 1);
    Atomics.notify(this.#cells, totalIndex);
  }

  /**
   * Forgets every unit a dead worker held: its sockets died with it. Called on the main thread when
   * piscina reports the worker destroyed, before its replacement can dial anything.
   */
  resetWorker(worker: number): void {
    for (let slot = 0; slot < this.slots; slot++) {
      const index = slot * this.#stride + 1 + worker;
      const held = Atomics.exchange(this.#cells, index, 0);
      if (held !== 0) {
        Atomics.sub(this.#cells, slot * this.#stride, held);
        Atomics.notify(this.#cells, slot * this.#stride);
      }
    }
  }
}
