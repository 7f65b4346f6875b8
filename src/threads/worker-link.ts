/**
 * The main thread's end of one worker thread: comlink's control surface (stats), and the job port that jobs
 * and cancels go out on and outcomes come back on.
 *
 * What piscina does for its tasks when a worker dies, the link makes possible for the jobs on its port: each
 * job it posts is told the link's serial number (outgoing-job.ts), so the jobs that never got an outcome are
 * those still marked with it when the port closes. Node delivers a port's 'close' after every message the
 * other side posted before it closed (test/unit/worker-link.test.ts checks it), so once the job port has
 * closed, those are exactly the jobs the worker never finished.
 */
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { receiveChunks } from '../wire/chunk-port.js';
import { FlowpoolError } from '../errors/flowpool-error.js';
import { isPort } from '../wire/transfer-list.js';
import { transferStreamBodies } from './request-stream.js';
import { decodeOutcomes, type JobsMessage, type OutcomesMessage } from '../wire/codec.js';
import type { JobOutcome, ProfilesMessage, WorkerControl, WorkerProfile } from '../wire/protocol.js';
import type { OutgoingJob } from './outgoing-job.js';

export interface WorkerLinkEvents {
  onOutcome(id: number, outcome: JobOutcome): void;
  /** The job port closed: no outcome will come any more. */
  onJobsClosed(link: WorkerLink): void;
}

let nextSerial = 1;

export class WorkerLink {
  /** Names this link (never 0, never reused) to the jobs posted on it. */
  readonly serial = nextSerial++;
  readonly threadId: number;
  /** stats() in the worker. Calls on a closed port never settle: check `reachable`. */
  readonly remote: Comlink.Remote<WorkerControl>;
  /** Why the thread died (its 'error', or its exit code): the reason its unanswered jobs get. */
  diedOf: Error | undefined;
  /** The thread has exited: its sockets are gone. */
  exited = false;
  readonly #control: MessagePort;
  readonly #jobs: MessagePort;
  #controlClosed = false;
  #jobsClosed = false;

  constructor(control: MessagePort, jobs: MessagePort, threadId: number, events: WorkerLinkEvents) {
    this.threadId = threadId;
    this.#control = control;
    this.#jobs = jobs;
    this.remote = Comlink.wrap<WorkerControl>(control);
    control.once('close', () => {
      this.#controlClosed = true;
    });
    const onOutcome = (id: number, outcome: JobOutcome): void => {
      events.onOutcome(id, this.#withStream(outcome));
    };
    jobs.on('message', (message: OutcomesMessage) => {
      decodeOutcomes(message, onOutcome);
    });
    jobs.once('close', () => {
      this.#jobsClosed = true;
      events.onJobsClosed(this);
    });
    // The ports must not keep the engine's process alive (the runtime holds a referenced timer while
    // jobs are pending). After the listeners: adding a 'message' listener refs a port again.
    control.unref();
    jobs.unref();
  }

  /** The control port is open: cancel() and stats() can reach the worker. */
  get reachable(): boolean {
    return !this.#controlClosed;
  }

  /** The job port has closed: every outcome the worker posted has been delivered. */
  get jobsClosed(): boolean {
    return this.#jobsClosed;
  }

  /**
   * Sends jobs and cancels as one message, each job's record written now; each job is then told this link's
   * serial. False, with nothing sent and no job told, if a record could not be written or structured clone
   * refused the message.
   */
  post(jobs: readonly OutgoingJob[], cancels: readonly number[]): boolean {
    try {
      const message: JobsMessage = [jobs.length];
      const now = performance.now();
      for (const job of jobs) job.writeTo(message, now);
      for (const id of cancels) message.push(id);
      this.#jobs.postMessage(message, transferStreamBodies(message));
    } catch {
      return false;
    }
    for (const job of jobs) job.posted(this.serial);
    return true;
  }

  /** Installs profiles in the worker, on the job port: ahead of every job posted after it. */
  postProfiles(profiles: readonly (readonly [number, WorkerProfile])[]): void {
    const message: ProfilesMessage = { type: 'profiles', profiles };
    this.#jobs.postMessage(message);
  }

  /**
   * A streamed response body arrives as the port of its chunks: it becomes the caller's ReadableStream
   * here. The job is answered already, so if the thread dies mid-body the stream itself must fail.
   */
  #withStream(outcome: JobOutcome): JobOutcome {
    if (outcome.ok !== true || !isPort(outcome.body)) return outcome;
    const body = receiveChunks(outcome.body, () => {
      const cause = this.diedOf === undefined ? '' : `: ${this.diedOf.message}`;
      return new FlowpoolError(
        'FLOWPOOL_WORKER_CRASHED',
        `the worker streaming the response body died before its end${cause}`,
      );
    });
    return { ...outcome, body };
  }

  /** Stops using the worker. The job port stays open unless `closeJobs`: a dead worker's closes itself. */
  close(closeJobs: boolean): void {
    this.remote[Comlink.releaseProxy]();
    this.#control.close();
    if (closeJobs) this.#jobs.close();
  }
}
