/**
 * A queue of per-tenant FIFOs served by deficit round robin (Shreedhar and Varghese, 1995): the tenants
 * with items take turns, and on its turn a tenant is credited its quantum and serves one item per whole
 * unit of credit. Over any stretch in which two tenants both have items waiting, the items served to each
 * are in the ratio of their quanta (within one quantum); with one tenant it is a plain FIFO.
 *
 * Each operation is O(1) (amortised, as {@link Fifo}) provided every quantum is at least 1, so a turn
 * always serves at least one item: tenant weights are scaled so the smallest is 1 (see tenants.ts). A
 * smaller quantum still works, at the cost of turns that serve nothing.
 *
 * Pure data structure: no timers, no threads. The coordinator keeps one per origin.
 */
import { Fifo } from './fifo.js';

interface Lane<T> {
  readonly tenant: string;
  readonly items: Fifo<T>;
  readonly quantum: number;
  /** Credit left on the current turn (carried over, below 1, to the next turn while items wait). */
  deficit: number;
}

export class FairQueue<T> {
  readonly #quantumOf: (tenant: string) => number;
  /** Lanes with items, by tenant; a lane is dropped when it empties, so idle tenants cost nothing. */
  readonly #lanes = new Map<string, Lane<T>>();
  /** Lanes with items in turn order; the head is the one being served and has a deficit of at least 1. */
  readonly #turns = new Fifo<Lane<T>>();
  /** The head of #turns, kept at hand: peek and shift run on every dispatch. */
  #serving: Lane<T> | undefined;
  /** The lane pushed to last: consecutive pushes of one tenant (the usual case) skip the map. */
  #lastPushed: Lane<T> | undefined;
  #size = 0;

  /** `quantumOf` is asked once each time a tenant's lane opens (it has items again after none). */
  constructor(quantumOf: (tenant: string) => number = () => 1) {
    this.#quantumOf = quantumOf;
  }

  get size(): number {
    return this.#size;
  }

  /** Items waiting for one tenant. */
  sizeOf(tenant: string): number {
    return this.#lanes.get(tenant)?.items.size ?? 0;
  }

  /** Tenants with items waiting. */
  get tenants(): number {
    return this.#lanes.size;
  }

  push(tenant: string, item: T): void {
    const last = this.#lastPushed;
    // A lane with items is still open; an emptied one was dropped and must not be written to.
    let lane = last !== undefined && last.tenant === tenant && last.items.size > 0 ? last : this.#lanes.get(tenant);
    if (lane === undefined) {
      lane = { tenant, items: new Fifo<T>(), quantum: this.#quantumOf(tenant), deficit: 0 };
      this.#lanes.set(tenant, lane);
      this.#turns.push(lane);
      if (this.#turns.size === 1) this.#beginTurn();
    }
    lane.items.push(item);
    this.#lastPushed = lane;
    this.#size++;
  }

  /** The item `shift` would return next. */
  peek(): T | undefined {
    return this.#serving?.items.peek();
  }

  shift(): T | undefined {
    const lane = this.#serving;
    if (lane === undefined) return undefined;
    const item = lane.items.shift();
    this.#size--;
    if (lane.items.size === 0) {
      // An emptied lane forfeits its credit (as DRR does), so a tenant cannot save turns while idle.
      this.#turns.shift();
      this.#lanes.delete(lane.tenant);
      this.#beginTurn();
    } else if (this.#turns.size > 1 && --lane.deficit < 1) {
      this.#turns.shift();
      this.#turns.push(lane);
      this.#beginTurn();
    }
    // Alone, a lane keeps its turn without being charged: there is nobody to be fair to.
    return item;
  }

  /** Credits the head lane its quantum; a lane still short of one whole item waits for its next turn. */
  #beginTurn(): void {
    for (;;) {
      const head = this.#turns.peek();
      this.#serving = head;
      if (head === undefined) return;
      head.deficit += head.quantum;
      if (head.deficit >= 1) return;
      this.#turns.shift();
      this.#turns.push(head);
    }
  }
}
