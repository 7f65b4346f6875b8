/** The job lifecycle without threads: every legal move, every illegal one refused, and the named transitions. */
import { describe, expect, it } from 'vitest';
import { FlowpoolError } from '../../dist/src/errors/flowpool-error.js';
import { normalizeJob } from '../../dist/src/job/job.js';
import { retrySchema } from '../../dist/src/config/options.js';
import { JobRun } from '../../dist/src/lifecycle/job-run.js';
import { canMove, IllegalTransitionError, TRANSITIONS, type JobState } from '../../dist/src/lifecycle/job-state.js';
import type { Ticket } from '../../dist/src/scheduling/coordinator.js';
import type { HttpResult } from '../../dist/src/job/result.js';
import { Deadlines } from '../../dist/src/timing/deadlines.js';

const STATES = Object.keys(TRANSITIONS) as JobState[];
const DEFAULTS = {
  timeoutMs: 1000,
  maxResponseBytes: 1024,
  maxRedirects: 5,
  transforms: {},
  retry: retrySchema.parse({}),
};

function newRun(
  submittedAt = 0,
  startupBoundMs?: number,
): { run: JobRun; results: HttpResult[]; errors: FlowpoolError[]; expired: Promise<JobRun> } {
  const results: HttpResult[] = [];
  const errors: FlowpoolError[] = [];
  let onExpired!: (run: JobRun) => void;
  const expired = new Promise<JobRun>((resolve) => (onExpired = resolve));
  const run = new JobRun(
    1,
    normalizeJob({ url: 'http://a.example/x', method: 'POST', body: 'b' }, DEFAULTS),
    submittedAt,
    (r) => results.push(r),
    (e) => errors.push(e),
    new Deadlines<JobRun>(onExpired, { unref: true }),
    startupBoundMs,
  );
  return { run, results, errors, expired };
}

function ticketFor(run: JobRun): Ticket<JobRun> {
  return {
    payload: run,
    originKey: run.origin,
    tenant: 'default',
    state: 'running',
    worker: 0,
    slot: 0,
    ratePaid: false,
  };
}

const aborted = { ok: false as const, error: new FlowpoolError('FLOWPOOL_ABORTED', 'aborted') };

describe('job states: the table of moves', () => {
  const pairs = STATES.flatMap((from) => STATES.map((to) => [from, to] as const));
  it.each(pairs)('%s -> %s is allowed exactly when the table lists it', (from, to) => {
    expect(canMove(from, to)).toBe(TRANSITIONS[from].includes(to));
  });

  it('settled is terminal and every state can reach it', () => {
    expect(TRANSITIONS.settled).toEqual([]);
    const reaches = (state: JobState, seen = new Set<JobState>()): boolean => {
      if (state === 'settled') return true;
      seen.add(state);
      return TRANSITIONS[state].some((next) => !seen.has(next) && reaches(next, seen));
    };
    for (const state of STATES) expect(reaches(state), state).toBe(true);
  });
});

describe('JobRun: named transitions', () => {
  it('the happy path: new -> queued -> dispatched -> sent -> answered -> settled', () => {
    const { run, errors } = newRun();
    expect(run.state).toBe('new');
    run.startAttempt('pass');
    expect([run.state, run.attempts]).toEqual(['queued', 1]);
    run.dispatch(ticketFor(run), 5, 0);
    expect([run.state, run.dispatchedAt]).toEqual(['dispatched', 5]);
    run.posted(1);
    const ticket = ticketFor(run);
    expect(run.awaitsWorker).toBe(true);
    expect(run.answer(true)?.worker).toBe(ticket.worker);
    expect([run.state, run.awaitsWorker, run.ticket]).toEqual(['answered', false, undefined]);
    expect(run.networkSent).toBe(true);
    expect(run.takeAdmission()).toBe('pass');
    expect(run.takeAdmission()).toBeUndefined();
    expect(run.settle(aborted)).toBe(true);
    expect(run.state).toBe('settled');
    expect(errors).toHaveLength(1);
  });

  it('retry: answered -> backoff -> queued starts a new attempt', () => {
    const { run } = newRun();
    run.startAttempt(undefined);
    run.dispatch(ticketFor(run), 1, 0);
    run.posted(1);
    run.answer(false);
    const timer = setTimeout(() => {}, 0);
    run.backoff(timer);
    expect([run.state, run.ticket]).toEqual(['backoff', undefined]);
    run.backoffOver();
    run.startAttempt(undefined);
    expect([run.state, run.attempts]).toEqual(['queued', 2]);
    clearTimeout(timer);
  });

  it('redirect hand-back: answered -> queued on another origin, same attempt, keeps its first dispatch time', () => {
    const { run } = newRun();
    run.startAttempt(undefined);
    run.dispatch(ticketFor(run), 10, 0);
    run.posted(1);
    run.answer(true);
    run.handBack(
      { origin: 'http://b.example', path: '/y', method: 'GET', headers: [], body: undefined },
      ['http://b.example/y'],
      true,
    );
    expect([run.state, run.attempts, run.origin]).toEqual(['queued', 1, 'http://b.example']);
    run.dispatch(ticketFor(run), 20, 0);
    expect([run.dispatchedAt, run.hopDispatchedAt]).toEqual([10, 20]);
    expect(run.redirects).toEqual(['http://b.example/y']);
  });

  it('no-connection hand-back: answered -> queued with the same request, nothing marked sent', () => {
    const { run } = newRun();
    run.startAttempt(undefined);
    run.dispatch(ticketFor(run), 10, 0);
    run.posted(1);
    run.answer(false);
    run.handBack(undefined, undefined, false);
    expect([run.state, run.attempts, run.hop, run.redirects, run.networkSent]).toEqual([
      'queued',
      1,
      undefined,
      [],
      false,
    ]);
    // The job's own request, dispatched anew: its queued time includes the trip back.
    run.dispatch(ticketFor(run), 20, 0);
    expect([run.dispatchedAt, run.hopDispatchedAt]).toEqual([20, 20]);
  });

  it('crash re-run: answered -> queued as a new attempt, the hop forgotten', () => {
    const { run } = newRun();
    run.startAttempt(undefined);
    run.dispatch(ticketFor(run), 1, 0);
    run.posted(1);
    run.answer(false);
    run.startAttempt(undefined, true);
    expect([run.state, run.attempts, run.hop, run.crashReruns]).toEqual(['queued', 2, undefined, 1]);
  });

  it('an abort in the outbox: dispatched -> settled, nothing was sent', () => {
    const { run, errors } = newRun();
    run.startAttempt(undefined);
    run.dispatch(ticketFor(run), 1, 0);
    expect(run.unsend()?.payload).toBe(run);
    expect(run.awaitsWorker).toBe(false);
    expect(run.settle(aborted)).toBe(true);
    expect([run.state, run.networkSent, errors.length]).toEqual(['settled', false, 1]);
  });

  it('abandoned: the caller is settled while the worker holds it; its answer then settles the job', () => {
    const { run, errors } = newRun();
    run.startAttempt(undefined);
    run.dispatch(ticketFor(run), 1, 0);
    run.posted(1);
    expect(run.settle(aborted)).toBe(true);
    expect(run.state).toBe('abandoned');
    expect(run.callerSettled).toBe(true);
    // The slot is still held: the ticket comes back when the worker answers.
    expect(run.answer(true)?.payload).toBe(run);
    expect(run.state).toBe('settled');
    expect(errors).toHaveLength(1);
  });

  it('the caller is settled exactly once', () => {
    const { run, results, errors } = newRun();
    run.startAttempt(undefined);
    expect(run.settle(aborted)).toBe(true);
    expect(run.settle(aborted)).toBe(false);
    expect(results.length + errors.length).toBe(1);
  });

  it.each([
    ['post before dispatch', (run: JobRun) => run.posted(1)],
    ['answer while queued', (run: JobRun) => run.answer(false)],
    ['backoff while queued', (run: JobRun) => run.backoff(setTimeout(() => {}, 0))],
    [
      'hand back while queued',
      (run: JobRun) => run.handBack({ origin: 'x', path: '/', method: 'GET', headers: [], body: undefined }, [], true),
    ],
    ['a second start while queued', (run: JobRun) => run.startAttempt(undefined)],
    ['unsend while queued', (run: JobRun) => run.unsend()],
    ['stream end while queued', (run: JobRun) => run.streamEnded()],
    ['hold a stream while queued', (run: JobRun) => run.holdForStream(undefined)],
    ['backoff over while queued', (run: JobRun) => run.backoffOver()],
  ])('refuses an illegal move: %s', (_name, move) => {
    const { run } = newRun();
    run.startAttempt(undefined);
    expect(() => move(run)).toThrow(IllegalTransitionError);
    expect(run.state).toBe('queued');
  });

  it('refuses any move after settled', () => {
    const { run } = newRun();
    run.startAttempt(undefined);
    run.settle(aborted);
    expect(() => run.startAttempt(undefined)).toThrow(IllegalTransitionError);
    expect(() => run.dispatch(ticketFor(run), 1, 0)).toThrow(IllegalTransitionError);
  });
});

describe('JobRun: what it holds', () => {
  it('streaming: the caller has the stream, the ticket stays held until the body ends', () => {
    const { run, results } = newRun();
    run.startAttempt('pass');
    const ticket = ticketFor(run);
    run.dispatch(ticket, 1, 0);
    run.posted(1);
    const answered = run.answer(true);
    run.holdForStream(answered);
    const result = { status: 200 } as HttpResult;
    expect(run.settle({ ok: true, value: result }, true)).toBe(true);
    expect([run.state, run.callerSettled, run.ticket]).toEqual(['streaming', true, ticket]);
    expect(results).toEqual([result]);
    expect(run.streamEnded()).toBe(ticket);
    expect([run.state, run.ticket]).toEqual(['settled', undefined]);
  });

  it("a pending cancel is the record's own, readable by everyone and written by requestCancel only", () => {
    const { run } = newRun();
    run.startAttempt(undefined);
    run.dispatch(ticketFor(run), 1, 0);
    run.posted(1);
    expect(run.cancelPending).toBe(false);
    run.requestCancel();
    expect([run.cancelPending, run.state]).toEqual([true, 'sent']);
  });

  it('the queue deadline and the abort listener go when the caller is settled', () => {
    const { run } = newRun();
    let detached = 0;
    run.watchSignal(() => detached++);
    run.startAttempt(undefined);
    run.waitInQueue(ticketFor(run));
    expect([run.ticket?.payload, run.scheduled, run.dueAt]).toEqual([run, true, run.deadline]);
    run.settle(aborted);
    expect([detached, run.ticket, run.state, run.scheduled]).toEqual([1, undefined, 'settled', false]);
  });

  it('a queued hop leaves the deadline list when dispatched, and is expired by it when its deadline passes', async () => {
    const dispatched = newRun();
    dispatched.run.startAttempt(undefined);
    dispatched.run.waitInQueue(ticketFor(dispatched.run));
    dispatched.run.dispatch(ticketFor(dispatched.run), 1, 0);
    expect(dispatched.run.scheduled).toBe(false);

    // Submitted long ago: its deadline has passed, and the list's one timer hands it over.
    const late = newRun(performance.now() - 10_000);
    late.run.startAttempt(undefined);
    late.run.waitInQueue(ticketFor(late.run));
    expect(await late.expired).toBe(late.run);
    expect(late.run.scheduled).toBe(false);
  });

  it("a queued hop's place on the list follows its deadline when the workers start", () => {
    const { run } = newRun(0, 60_000);
    run.startAttempt(undefined);
    run.waitInQueue(ticketFor(run));
    expect(run.dueAt).toBe(61_000);
    run.startClock(100);
    expect([run.clockStarted, run.dueAt, run.scheduled]).toEqual([true, 1_100, true]);
    run.settle(aborted);
  });
});

describe('JobRun: the hook state (createRuntime({ hooks }))', () => {
  it('new -> hook -> queued: the job a hook returned is the one the attempt sends', () => {
    const { run } = newRun();
    run.awaitHook();
    expect([run.state, run.scheduled, run.dueAt]).toEqual(['hook', true, run.deadline]);
    const replaced = normalizeJob({ url: 'http://c.example/z' }, DEFAULTS);
    run.useJob(replaced);
    run.hookReturned();
    expect(run.scheduled).toBe(false);
    run.startAttempt('pass');
    expect([run.state, run.attempts, run.origin, run.job]).toEqual(['queued', 1, 'http://c.example', replaced]);
  });

  it('answered -> hook -> hook (a retry asked, then beforeRequest) -> queued', () => {
    const { run } = newRun();
    run.startAttempt(undefined);
    run.dispatch(ticketFor(run), 1, 0);
    run.posted(1);
    run.answer(true);
    run.awaitHook();
    run.hookReturned();
    run.awaitHook();
    expect(run.state).toBe('hook');
    run.hookReturned();
    run.startAttempt(undefined);
    expect([run.state, run.attempts]).toEqual(['queued', 2]);
  });

  it('settled while a hook runs (deadline, abort): its abandon runs once, after the caller is answered', () => {
    const { run, errors } = newRun();
    const order: string[] = [];
    run.awaitHook(() => order.push(`abandon after ${String(errors.length)} error(s)`));
    expect(run.settle(aborted)).toBe(true);
    expect(run.scheduled).toBe(false);
    expect(run.settle(aborted)).toBe(false);
    expect([run.state, order]).toEqual(['settled', ['abandon after 1 error(s)']]);
    expect(() => {
      run.useJob(run.job);
    }).toThrow(IllegalTransitionError);
  });

  it('a hook that returned in time leaves nothing to abandon', () => {
    const { run } = newRun();
    let abandoned = 0;
    run.awaitHook(() => abandoned++);
    run.hookReturned();
    run.settle(aborted);
    expect(abandoned).toBe(0);
  });
});
