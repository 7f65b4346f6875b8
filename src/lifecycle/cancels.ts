/**
 * Stopping a job early: the caller's abort, and the backstop for a worker that does not answer after the
 * deadline (a transform stuck in a loop blocks the worker's own deadline too).
 */
import { FlowpoolError } from '../errors/flowpool-error.js';
import type { Coordinator } from '../scheduling/coordinator.js';
import type { Attempts, WorkerOutboxes } from './attempts.js';
import type { JobRun } from './job-run.js';
import { requestFailed } from './request-events.js';
import { withJobId, type Settlements } from './settlement.js';

/**
 * The worker enforces each deadline itself; this backstop settles a job on the main thread if its worker has
 * not answered this long after the deadline. Its slot stays taken until the worker really answers.
 */
const DEADLINE_GRACE_MS = 1_000;

export class Cancels {
  readonly #coordinator: Coordinator<JobRun>;
  readonly #shards: WorkerOutboxes;
  readonly #attempts: Attempts;
  readonly #settlements: Settlements;

  constructor(coordinator: Coordinator<JobRun>, shards: WorkerOutboxes, attempts: Attempts, settlements: Settlements) {
    this.#coordinator = coordinator;
    this.#shards = shards;
    this.#attempts = attempts;
    this.#settlements = settlements;
  }

  /**
   * The caller aborted. Before a worker has the job (queued, in backoff, in a hook, or still in the outbox) it ends
   * here and now, and nothing of the current attempt is ever sent. Once posted, the cancel travels on the
   * job port behind the job, and the worker's answer settles it, saying whether the request was written.
   */
  abort(run: JobRun, reason: unknown): void {
    if (run.callerSettled || run.cancelPending) return;
    switch (run.state) {
      case 'queued': {
        const ticket = run.ticket;
        if (ticket !== undefined) this.#coordinator.cancel(ticket);
        this.#settlements.aborted(run, reason);
        return;
      }
      case 'backoff':
      case 'hook':
        // A hook still running is let go of: what it returns later is dropped.
        this.#settlements.aborted(run, reason);
        return;
      case 'dispatched': {
        const ticket = run.ticket;
        if (ticket !== undefined && this.#shards.unsend(ticket.worker, run.id)) {
          this.#attempts.release(run.unsend());
          requestFailed(run, ticket.worker, 'FLOWPOOL_ABORTED', 'the job was aborted before its request left');
          // Taken out of the outbox: an attempt that ends before it starts, neutral for the breaker.
          this.#attempts.record(run, { ok: false, code: 'FLOWPOOL_ABORTED' }, 0);
          this.#settlements.aborted(run, reason);
          return;
        }
        // Not in the outbox and not posted: its batch failed to post, and its failure settles it (unsent).
        run.requestCancel(reason);
        return;
      }
      case 'sent': {
        const ticket = run.ticket;
        if (ticket === undefined) return;
        run.requestCancel(reason);
        this.#shards.cancel(ticket.worker, run.id);
        return;
      }
      default:
        // new and answered are synchronous states (an abort listener cannot run inside them); the rest are
        // settled for the caller already.
        return;
    }
  }

  /** Settles jobs whose worker has not answered well past their deadline. */
  expireUnanswered(): void {
    const limit = performance.now() - DEADLINE_GRACE_MS;
    for (const run of this.#settlements.all()) {
      if (run.state !== 'sent' || run.deadline > limit) continue;
      this.#settlements.fail(
        run,
        new FlowpoolError(
          'FLOWPOOL_TIMEOUT',
          `timeoutMs (${run.job.timeoutMs} ms) elapsed and the worker did not answer (it is busy or stuck)`,
          withJobId(run.job, { phase: 'total' as const }),
        ),
      );
    }
  }
}
