/**
 * How jobs and outcomes cross the thread boundary: one message per event-loop turn in each direction, each a
 * flat array of fixed-stride records. Structured clone copies an array of numbers and short strings far more
 * cheaply than one object per job with its key names, and a message per batch instead of per job is what
 * makes the pure-I/O case cheap (see the data-path figures in docs). Pure functions, tested without threads.
 *
 * Jobs (main thread -> worker): `[jobCount, ...jobs (JOB_STRIDE slots each), ...cancelIds]`. A cancel travels
 * behind the job it cancels, on the same port, so it can never overtake it.
 * Outcomes (worker -> main thread): `[...outcomes (OUTCOME_STRIDE slots each)]`.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SerializedError } from '../errors/flowpool-error.js';
import { unpackHeaders } from './headers.js';
import type {
  HopRequest,
  JobOutcome,
  JobPayload,
  JobRequest,
  ResponseType,
  SeenSetCookies,
  WireBody,
  WorkerOutcome,
} from './protocol.js';

export type JobsMessage = unknown[];
export type OutcomesMessage = unknown[];

export const JOB_STRIDE = 14;
export const OUTCOME_STRIDE = 8;

const RESPONSE_TYPES: readonly ResponseType[] = ['text', 'json', 'bytes', 'stream'];
const FOLLOW_REDIRECTS = 1;
const REPEATABLE = 2;
const RESPONSE_TYPE_SHIFT = 2;
const RESPONSE_TYPE_MASK = 3;
/** The profile index rides in the flags' upper bits: a job without a profile (0) costs nothing more. */
const PROFILE_SHIFT = 4;

/** What few jobs carry: sent as one optional slot, undefined for a plain job. */
export interface JobExtra {
  readonly transform?: string;
  readonly payload?: JobPayload;
}

/** The flags slot of a job record (`profile`: the job's profile index, 0 for the runtime's own settings). */
export function jobFlags(
  followRedirects: boolean,
  repeatable: boolean,
  responseType: ResponseType,
  profile: number,
): number {
  return (
    (followRedirects ? FOLLOW_REDIRECTS : 0) |
    (repeatable ? REPEATABLE : 0) |
    (RESPONSE_TYPES.indexOf(responseType) << RESPONSE_TYPE_SHIFT) |
    (profile << PROFILE_SHIFT)
  );
}

/** The extra slot of a job record: undefined (no object) for a job with neither. */
export function jobExtra(transform: string | undefined, payload: JobPayload | undefined): JobExtra | undefined {
  if (transform === undefined && payload === undefined) return undefined;
  return {
    ...(transform === undefined ? {} : { transform }),
    ...(payload === undefined ? {} : { payload }),
  };
}

/**
 * Appends one job's record, slot by slot: the main thread writes its jobs straight from their own records at
 * the moment a batch leaves, with no object per job in between. `flags` from {@link jobFlags}, `extra` from
 * {@link jobExtra}.
 */
export function writeJob(
  message: JobsMessage,
  id: number,
  origin: string,
  path: string,
  method: string,
  headers: readonly string[],
  body: unknown,
  flags: number,
  timeoutMs: number,
  maxResponseBytes: number,
  maxRedirects: number,
  jobTimeoutMs: number,
  jobMaxRedirects: number,
  slot: number,
  extra: JobExtra | undefined,
): void {
  message.push(
    id,
    origin,
    path,
    method,
    headers,
    body,
    flags,
    timeoutMs,
    maxResponseBytes,
    maxRedirects,
    jobTimeoutMs,
    jobMaxRedirects,
    slot,
    extra,
  );
}

/** Appends the record of a job given as an object (tests, and any writer that has one). */
export function pushJob(message: JobsMessage, job: JobRequest): void {
  writeJob(
    message,
    job.id,
    job.origin,
    job.path,
    job.method,
    job.headers,
    job.body,
    jobFlags(job.followRedirects, job.repeatable, job.responseType, job.profile),
    job.timeoutMs,
    job.maxResponseBytes,
    job.maxRedirects,
    job.jobTimeoutMs,
    job.jobMaxRedirects,
    job.slot,
    jobExtra(job.transform, job.payload),
  );
}

/** A jobs message for `jobs` and `cancels`. */
export function encodeJobs(jobs: readonly JobRequest[], cancels: readonly number[]): JobsMessage {
  const message: JobsMessage = [jobs.length];
  for (const job of jobs) pushJob(message, job);
  for (const id of cancels) message.push(id);
  return message;
}

/** Reads a jobs message: calls `onJob` for each job in order, then `onCancel` for each cancel. */
export function decodeJobs(
  message: JobsMessage,
  onJob: (job: JobRequest) => void,
  onCancel: (id: number) => void,
): void {
  const count = message[0] as number;
  let i = 1;
  for (let n = 0; n < count; n++, i += JOB_STRIDE) {
    const flags = message[i + 6] as number;
    const extra = message[i + 13] as JobExtra | undefined;
    const job: JobRequest = {
      id: message[i] as number,
      origin: message[i + 1] as string,
      path: message[i + 2] as string,
      method: message[i + 3] as string,
      headers: message[i + 4] as string[],
      body: message[i + 5] as WireBody | MessagePort | undefined,
      followRedirects: (flags & FOLLOW_REDIRECTS) !== 0,
      repeatable: (flags & REPEATABLE) !== 0,
      responseType: RESPONSE_TYPES[(flags >> RESPONSE_TYPE_SHIFT) & RESPONSE_TYPE_MASK] ?? 'text',
      timeoutMs: message[i + 7] as number,
      maxResponseBytes: message[i + 8] as number,
      maxRedirects: message[i + 9] as number,
      jobTimeoutMs: message[i + 10] as number,
      jobMaxRedirects: message[i + 11] as number,
      slot: message[i + 12] as number,
      profile: flags >>> PROFILE_SHIFT,
      transform: extra?.transform,
      payload: extra?.payload,
    };
    onJob(job);
  }
  for (; i < message.length; i++) onCancel(message[i] as number);
}

/** The number of jobs in a jobs message. */
export function jobCount(message: JobsMessage): number {
  return message[0] as number;
}

/** The jobs of a message (for tests). */
export function jobsOf(message: JobsMessage): JobRequest[] {
  const jobs: JobRequest[] = [];
  decodeJobs(
    message,
    (job) => jobs.push(job),
    () => undefined,
  );
  return jobs;
}

/** Slot of a job record's body (a streamed body's port is swapped in there before posting). */
export function bodySlot(index: number): number {
  return 1 + index * JOB_STRIDE + 5;
}

const SUCCESS = 1;
const FAILURE = 0;
const REDIRECT = 2;
const NO_CONNECTION = 3;

interface OutcomeExtra {
  readonly redirects?: readonly string[];
  readonly setCookies?: SeenSetCookies;
}

function extraOf(outcome: OutcomeExtra): OutcomeExtra | undefined {
  if (outcome.redirects === undefined && outcome.setCookies === undefined) return undefined;
  return {
    ...(outcome.redirects === undefined ? {} : { redirects: outcome.redirects }),
    ...(outcome.setCookies === undefined ? {} : { setCookies: outcome.setCookies }),
  };
}

/** Appends one outcome's record. */
export function pushOutcome(message: OutcomesMessage, id: number, outcome: WorkerOutcome): void {
  switch (outcome.ok) {
    case true:
      message.push(
        id,
        SUCCESS,
        outcome.status,
        outcome.headers,
        outcome.body,
        outcome.headersMs,
        outcome.bytes,
        extraOf(outcome),
      );
      return;
    case false:
      message.push(id, FAILURE, outcome.sent ? 1 : 0, outcome.error, undefined, 0, 0, undefined);
      return;
    case 'redirect':
      message.push(id, REDIRECT, 0, outcome.next, undefined, 0, 0, extraOf(outcome));
      return;
    case 'no-connection':
      message.push(id, NO_CONNECTION, outcome.sent ? 1 : 0, outcome.next, undefined, 0, 0, extraOf(outcome));
      return;
  }
}

/** Reads an outcomes message: calls `onOutcome` for each, in order, with the main thread's shape. */
export function decodeOutcomes(message: OutcomesMessage, onOutcome: (id: number, outcome: JobOutcome) => void): void {
  for (let i = 0; i < message.length; i += OUTCOME_STRIDE) {
    const id = message[i] as number;
    const extra = message[i + 7] as OutcomeExtra | undefined;
    const redirects = extra?.redirects;
    const setCookies = extra?.setCookies;
    switch (message[i + 1] as number) {
      case SUCCESS: {
        const status = message[i + 2] as number;
        const headers = unpackHeaders(message[i + 3] as string);
        const body = message[i + 4];
        const headersMs = message[i + 5] as number;
        const bytes = message[i + 6] as number;
        // Nearly every success has no extra: its object is built without spreading empty ones.
        const outcome: JobOutcome =
          extra === undefined
            ? { ok: true, status, headers, body, headersMs, bytes }
            : {
                ok: true,
                status,
                headers,
                body,
                headersMs,
                bytes,
                ...(redirects === undefined ? {} : { redirects }),
                ...(setCookies === undefined ? {} : { setCookies }),
              };
        onOutcome(id, outcome);
        break;
      }
      case FAILURE:
        onOutcome(id, { ok: false, sent: message[i + 2] === 1, error: message[i + 3] as SerializedError });
        break;
      case REDIRECT:
        onOutcome(id, {
          ok: 'redirect',
          next: message[i + 3] as HopRequest,
          redirects: redirects ?? [],
          ...(setCookies === undefined ? {} : { setCookies }),
        });
        break;
      default: {
        const next = message[i + 3] as HopRequest | undefined;
        onOutcome(id, {
          ok: 'no-connection',
          sent: message[i + 2] === 1,
          ...(next === undefined ? {} : { next }),
          ...(redirects === undefined ? {} : { redirects }),
          ...(setCookies === undefined ? {} : { setCookies }),
        });
      }
    }
  }
}

/** The body slot of an outcome record, for the transfer list of streamed bodies (their ports). */
export function outcomeBodies(message: OutcomesMessage): unknown[] {
  const bodies: unknown[] = [];
  for (let i = 0; i < message.length; i += OUTCOME_STRIDE) bodies.push(message[i + 4]);
  return bodies;
}
