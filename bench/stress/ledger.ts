/**
 * The harness's own accounting, independent of the runtime's counters: one byte per job for its type
 * and one for how many times it settled, indexed by sequence number (runMany's `index`). A job that
 * settles twice, or never, shows here whatever the runtime believes.
 */
import { allowedOutcomes, decodeType, typeLabel } from './jobs.js';

/** A growable array of bytes. */
class Bytes {
  #data = new Uint8Array(1 << 16);

  get(i: number): number {
    return this.#data[i] ?? 0;
  }

  set(i: number, value: number): void {
    if (i >= this.#data.length) {
      const grown = new Uint8Array(Math.max(this.#data.length * 2, i + 1));
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data[i] = value;
  }
}

export class Ledger {
  readonly #types = new Bytes();
  readonly #settled = new Bytes();
  submitted = 0;
  /** Jobs settled at least once. */
  settled = 0;
  /** Settlements beyond the first, over all jobs. */
  doubled = 0;
  /** Settlements for a sequence number that was never submitted. */
  unknown = 0;
  resolved = 0;
  rejected = 0;
  readonly rejectedByCode = new Map<string, number>();
  /** Per job type (host kind x method, or fault): outcome (`ok` or a code) -> count. */
  readonly byType = new Map<string, Map<string, number>>();
  /** Outcomes outside what the job's type allows, by `type -> outcome`. */
  readonly unexpected = new Map<string, number>();
  /** The first few unexpected failures in full (message, cause), for diagnosis. */
  readonly unexpectedSamples: string[] = [];

  submit(seq: number, type: number): void {
    this.#types.set(seq, type);
    this.submitted++;
  }

  settle(seq: number, outcome: string, detail?: string): void {
    if (seq >= this.submitted) {
      this.unknown++;
      return;
    }
    const times = this.#settled.get(seq);
    this.#settled.set(seq, Math.min(255, times + 1));
    if (times > 0) {
      this.doubled++;
      return;
    }
    this.settled++;
    if (outcome === 'ok') this.resolved++;
    else {
      this.rejected++;
      this.rejectedByCode.set(outcome, (this.rejectedByCode.get(outcome) ?? 0) + 1);
    }
    const type = decodeType(this.#types.get(seq));
    const label = typeLabel(type);
    let outcomes = this.byType.get(label);
    if (outcomes === undefined) {
      outcomes = new Map();
      this.byType.set(label, outcomes);
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    if (!allowedOutcomes(type).has(outcome)) {
      const key = `${label} -> ${outcome}`;
      this.unexpected.set(key, (this.unexpected.get(key) ?? 0) + 1);
      if (this.unexpectedSamples.length < 8) this.unexpectedSamples.push(`${key} (job ${seq}): ${detail ?? ''}`);
    }
  }

  /** Submitted jobs that never settled. */
  get lost(): number {
    return this.submitted - this.settled;
  }
}
