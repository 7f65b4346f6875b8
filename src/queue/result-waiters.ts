/**
 * The callers waiting for each BullMQ job, by job id. Several callers may wait for one job (the same
 * idempotency key submitted twice); each is settled once, whichever source answers first: a QueueEvents
 * event, the job's stored state, or the idempotency record.
 */
import type { FlowpoolError } from '../errors/flowpool-error.js';
import type { JobOutcome } from './wire.js';

export interface Waiter {
  /** Redis took the job (`add` returned): from here on, the job exists apart from this caller. */
  accepted: boolean;
  /** The caller's idempotency key, if any (its record is one place the result may be found). */
  readonly key: string | undefined;
  settleOutcome(outcome: JobOutcome): void;
  fail(error: FlowpoolError): void;
}

export class ResultWaiters {
  readonly #byJob = new Map<string, Set<Waiter>>();

  get size(): number {
    return this.#byJob.size;
  }

  add(jobId: string, waiter: Waiter): void {
    let set = this.#byJob.get(jobId);
    if (set === undefined) {
      set = new Set();
      this.#byJob.set(jobId, set);
    }
    set.add(waiter);
  }

  remove(jobId: string, waiter: Waiter): void {
    const set = this.#byJob.get(jobId);
    if (set === undefined) return;
    set.delete(waiter);
    if (set.size === 0) this.#byJob.delete(jobId);
  }

  /** Settles every waiter of `jobId` with `outcome`. */
  settle(jobId: string, outcome: JobOutcome): void {
    const set = this.#byJob.get(jobId);
    if (set === undefined) return;
    this.#byJob.delete(jobId);
    for (const waiter of set) waiter.settleOutcome(outcome);
  }

  /** Jobs Redis accepted that still have someone waiting (what a resync must look up), with their key. */
  accepted(): [jobId: string, key: string | undefined][] {
    const jobs: [string, string | undefined][] = [];
    for (const [jobId, set] of this.#byJob) {
      for (const waiter of set) {
        if (waiter.accepted) {
          jobs.push([jobId, waiter.key]);
          break;
        }
      }
    }
    return jobs;
  }

  /** Every waiting caller (for close). */
  all(): Waiter[] {
    return [...this.#byJob.values()].flatMap((set) => [...set]);
  }
}
