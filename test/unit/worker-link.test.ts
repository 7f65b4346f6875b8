/**
 * WorkerLink without threads: a MessageChannel stands in for the worker's end. What the crash path
 * relies on is checked here, on this Node: outcomes posted before the worker's end closes are all
 * delivered before the link hears the close, so the jobs posted on the link and left unanswered then are
 * exactly those the worker never finished.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobOutcome, JobRequest, WorkerOutcome } from '../../dist/src/wire/protocol.js';
import { jobsOf, pushJob, pushOutcome, type JobsMessage, type OutcomesMessage } from '../../dist/src/wire/codec.js';
import type { OutgoingJob } from '../../dist/src/threads/outgoing-job.js';
import { WorkerLink } from '../../dist/src/threads/worker-link.js';
import { waitUntil } from '../fixtures/wait.js';

/** An outbox entry as the lifecycle's job record is one: it writes its record and keeps the link it went on. */
class Outgoing implements OutgoingJob {
  postedOn = 0;
  readonly request: JobRequest;
  constructor(request: JobRequest) {
    this.request = request;
  }
  get id(): number {
    return this.request.id;
  }
  writeTo(message: JobsMessage): void {
    pushJob(message, this.request);
  }
  posted(link: number): void {
    this.postedOn = link;
  }
}

function job(id: number, body?: Uint8Array): Outgoing {
  return new Outgoing({
    id,
    origin: 'http://a.example',
    path: '/',
    method: body === undefined ? 'GET' : 'POST',
    headers: [],
    body,
    responseType: 'text',
    timeoutMs: 1_000,
    maxResponseBytes: 1_000,
    followRedirects: true,
    maxRedirects: 5,
    jobTimeoutMs: 1_000,
    jobMaxRedirects: 5,
    slot: 0,
    profile: 0,
    repeatable: body === undefined,
  });
}

/** The jobs posted on `link` that no delivered outcome answered: what the crash path fails or re-runs. */
function unanswered(link: WorkerLink, jobs: readonly Outgoing[], delivered: readonly [number, JobOutcome][]): number[] {
  const answered = new Set(delivered.map(([id]) => id));
  return jobs.filter((j) => j.postedOn === link.serial && !answered.has(j.id)).map((j) => j.id);
}

const ok = (status: number): WorkerOutcome => ({ ok: true, status, headers: '', body: '', headersMs: 1, bytes: 0 });

/** An outcomes message as a worker posts it. */
function outcomes(ids: readonly number[], status: number): OutcomesMessage {
  const message: OutcomesMessage = [];
  for (const id of ids) pushOutcome(message, id, ok(status + id));
  return message;
}

interface Harness {
  readonly link: WorkerLink;
  /** The worker's end of the job port. */
  readonly worker: MessagePort;
  readonly outcomes: [number, JobOutcome][];
  /** Outcomes delivered when the link heard its job port close. */
  readonly closedAfter: Promise<number>;
}

const open: MessagePort[] = [];

function harness(): Harness {
  const control = new MessageChannel();
  const jobs = new MessageChannel();
  open.push(control.port1, control.port2, jobs.port1, jobs.port2);
  const outcomes: [number, JobOutcome][] = [];
  let closed!: (delivered: number) => void;
  const closedAfter = new Promise<number>((resolve) => (closed = resolve));
  const link = new WorkerLink(control.port1, jobs.port1, 7, {
    onOutcome: (id, outcome) => outcomes.push([id, outcome]),
    onJobsClosed: () => closed(outcomes.length),
  });
  return { link, worker: jobs.port2, outcomes, closedAfter };
}

/** What a worker receives on its end: the next batch. */
function nextBatch(worker: MessagePort): Promise<JobRequest[]> {
  return new Promise((resolve) => worker.once('message', (message: JobsMessage) => resolve(jobsOf(message))));
}

afterEach(() => {
  for (const port of open.splice(0)) port.close();
});

describe('WorkerLink', () => {
  it('delivers outcomes; each posted job carries the link it went on', async () => {
    const { link, worker, outcomes: delivered } = harness();
    const received = nextBatch(worker);
    const jobs = [job(1), job(2), job(3)];
    expect(link.post(jobs, [])).toBe(true);
    expect((await received).map((j) => j.id)).toEqual([1, 2, 3]);
    expect(jobs.map((j) => j.postedOn)).toEqual([link.serial, link.serial, link.serial]);

    worker.postMessage(outcomes([2, 1], 200));
    await waitUntil(() => delivered.length === 2, 'both outcomes to arrive');
    expect(delivered.map(([id, outcome]: [number, JobOutcome]) => [id, outcome.ok === true && outcome.status])).toEqual(
      [
        [2, 202],
        [1, 201],
      ],
    );
    expect(unanswered(link, jobs, delivered)).toEqual([3]);
    expect(harness().link.serial).not.toBe(link.serial);
  });

  it('hears the close only after every outcome posted before it (the order the crash path relies on)', async () => {
    const { link, worker, outcomes: delivered, closedAfter } = harness();
    const ids = Array.from({ length: 200 }, (_, i) => i + 1);
    const jobs = ids.map((id) => job(id));
    link.post(jobs, []);
    // The worker answers 150 of them in 30 messages, then its end closes (the thread died).
    for (let m = 0; m < 30; m++) worker.postMessage(outcomes(ids.slice(m * 5, m * 5 + 5), 100));
    worker.close();

    expect(await closedAfter).toBe(150);
    expect(link.jobsClosed).toBe(true);
    expect(delivered).toHaveLength(150);
    expect(unanswered(link, jobs, delivered)).toEqual(ids.slice(150));
  });

  it('refuses a batch structured clone cannot send, and tells none of its jobs they were posted', () => {
    const { link } = harness();
    const body = new Uint8Array(4);
    structuredClone(body.buffer, { transfer: [body.buffer] });

    const refused = [job(1), job(2, body)];
    expect(link.post(refused, [])).toBe(false);
    expect(refused.map((j) => j.postedOn)).toEqual([0, 0]);
    const taken = job(3);
    expect(link.post([taken], [])).toBe(true);
    expect(taken.postedOn).toBe(link.serial);
  });

  it('refuses a batch whose record cannot be written (nothing posted, nobody told)', () => {
    const { link } = harness();
    const broken: OutgoingJob = {
      id: 9,
      writeTo() {
        throw new Error('a record that cannot be written');
      },
      posted() {
        throw new Error('must not be told');
      },
    };
    const first = job(8);
    expect(link.post([first, broken], [])).toBe(false);
    expect(first.postedOn).toBe(0);
  });

  it('is unreachable for cancel and stats once its control port closes', async () => {
    const { link } = harness();
    expect(link.reachable).toBe(true);
    link.close(false);
    await waitUntil(() => !link.reachable, 'the control port to close');
    expect(link.jobsClosed).toBe(false);
  });
});
