/**
 * Many deadlines behind ONE timer: a timer per job is a heap object, a closure and a timer-list update on the
 * hot path of both threads (the worker's running jobs, the main thread's queued ones). Entries form a doubly
 * linked list sorted by due time, linked through fields of the entries themselves (no node objects). A job's
 * deadline is almost always the latest so far (the same timeoutMs, submitted later), so insertion scans from
 * the tail and usually stops at once; removal is O(1). The timer is armed for the head; when it fires it
 * expires every entry that is due and re-arms for the next. Pure but for that one timer.
 */

/** Something with a deadline. The list owns the three link fields. */
export interface Deadline {
  /** performance.now() at which the entry expires; set before `add`. */
  dueAt: number;
  prevDue: Deadline | undefined;
  nextDue: Deadline | undefined;
  /** Whether the entry is in the list (an entry not in it has both links undefined and this false). */
  scheduled: boolean;
}

export interface DeadlinesOptions {
  /**
   * The timer does not keep the process alive (the main thread's: the runtime's watchdog does, while a
   * caller waits). An unreferenced timer is also left armed when the list empties, as a referenced one is.
   */
  readonly unref?: boolean;
}

/** The longest delay setTimeout takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

export class Deadlines<E extends Deadline> {
  readonly #expire: (entry: E, now: number) => void;
  readonly #unref: boolean;
  #head: E | undefined;
  #tail: E | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (Infinity when none is armed). */
  #armedFor = Infinity;

  /** `expire` is called for each entry whose `dueAt` has passed, after it left the list. */
  constructor(expire: (entry: E, now: number) => void, options: DeadlinesOptions = {}) {
    this.#expire = expire;
    this.#unref = options.unref ?? false;
  }

  /** Adds (or moves) `entry` for its `dueAt`. */
  add(entry: E): void {
    if (entry.scheduled) this.remove(entry);
    entry.scheduled = true;
    let after = this.#tail;
    while (after !== undefined && after.dueAt > entry.dueAt) after = after.prevDue as E | undefined;
    entry.prevDue = after;
    entry.nextDue = after === undefined ? this.#head : after.nextDue;
    if (after === undefined) this.#head = entry;
    else after.nextDue = entry;
    if (entry.nextDue === undefined) this.#tail = entry;
    else entry.nextDue.prevDue = entry;
    if (entry.dueAt < this.#armedFor) this.#arm(entry.dueAt);
  }

  /** Takes `entry` out (its job ended or its deadline moves); a no-op when it is not in. */
  remove(entry: E): void {
    if (!entry.scheduled) return;
    entry.scheduled = false;
    const { prevDue, nextDue } = entry;
    if (prevDue === undefined) this.#head = nextDue as E | undefined;
    else prevDue.nextDue = nextDue;
    if (nextDue === undefined) this.#tail = prevDue as E | undefined;
    else nextDue.prevDue = prevDue;
    entry.prevDue = undefined;
    entry.nextDue = undefined;
    // The timer stays armed: when it fires early for a removed head, it simply re-arms for the new one.
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#armedFor = at;
    // Node fires a longer delay after 1 ms (with a warning): wait the longest it takes, then look again.
    this.#timer = setTimeout(
      () => {
        this.#fire();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, at - performance.now())),
    );
    if (this.#unref) this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = performance.now();
    for (let entry = this.#head; entry !== undefined && entry.dueAt <= now; entry = this.#head) {
      this.remove(entry);
      this.#expire(entry, now);
    }
    if (this.#head !== undefined) this.#arm(this.#head.dueAt);
  }
}
