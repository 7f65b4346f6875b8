/**
 * The flood: a generator of jobs over the misbehaving hosts, for a bounded time, with a worker-killing
 * job injected every few seconds. It is pulled by runMany, so it holds nothing: memory stays bounded
 * whatever the duration. The mix is a fixed function of the sequence number (reproducible):
 * 44% healthy, 30% keep-alive-closing, 15% slow, 10% resetting, 1% never-answering hosts; per host,
 * 60% GET, 20% POST, 20% PUT marked idempotent.
 */
import type { HttpJob } from '../../src/index.js';
import type { HostKind } from './protocol.js';

export const METHODS = ['GET', 'POST', 'PUT'] as const;
export type Method = (typeof METHODS)[number];
export const FAULTS = ['exit', 'uncaught', 'allocate'] as const;
export type Fault = (typeof FAULTS)[number];

/** What a job was, in one byte for the ledger: host kind x method, or a fault. */
export type JobType = { readonly kind: HostKind; readonly method: Method } | { readonly fault: Fault };

const KIND_SHARES: readonly (readonly [HostKind, number])[] = [
  ['healthy', 44],
  ['keepalive-closing', 30],
  ['slow', 15],
  ['resetting', 10],
  ['never-answering', 1],
];
const KIND_TABLE: readonly HostKind[] = KIND_SHARES.flatMap(([kind, share]) => Array<HostKind>(share).fill(kind));
const KINDS: readonly HostKind[] = KIND_SHARES.map(([kind]) => kind);

/** Deadline of a job to a host that never answers: short, so those jobs do not fill the window. */
export const NEVER_TIMEOUT_MS = 1_500;
/** Deadline of every other job. */
export const JOB_TIMEOUT_MS = 15_000;

export function encodeType(type: JobType): number {
  if ('fault' in type) return 100 + FAULTS.indexOf(type.fault);
  return KINDS.indexOf(type.kind) * METHODS.length + METHODS.indexOf(type.method);
}

export function decodeType(code: number): JobType {
  if (code >= 100) return { fault: FAULTS[code - 100] ?? 'exit' };
  return {
    kind: KINDS[Math.floor(code / METHODS.length)] ?? 'healthy',
    method: METHODS[code % METHODS.length] ?? 'GET',
  };
}

export function typeLabel(type: JobType): string {
  return 'fault' in type ? `fault:${type.fault}` : `${type.kind} ${type.method}`;
}

export interface FloodPlan {
  readonly ports: Readonly<Record<HostKind, number>>;
  /** `Date.now()` after which no job is produced. */
  readonly endAt: number;
  readonly crashEveryMs: number;
  /** Called for every job produced, with its sequence number (= runMany's index) and type. */
  readonly onJob: (seq: number, type: number) => void;
}

export function* flood(plan: FloodPlan): Generator<HttpJob> {
  // The first crash half a period in, so a short run (CI's 10 s) still sees two.
  let nextCrashAt = plan.crashEveryMs > 0 ? Date.now() + plan.crashEveryMs / 2 : Infinity;
  let faults = 0;
  for (let seq = 0; Date.now() < plan.endAt; seq++) {
    if (Date.now() >= nextCrashAt) {
      nextCrashAt += plan.crashEveryMs;
      const fault = FAULTS[faults++ % FAULTS.length] ?? 'exit';
      plan.onJob(seq, encodeType({ fault }));
      // A POST: never run twice, so each fault kills exactly one worker.
      yield {
        url: `http://127.0.0.1:${plan.ports.healthy}/fault/POST/${seq}`,
        method: 'POST',
        body: fault,
        transform: fault,
        timeoutMs: JOB_TIMEOUT_MS,
      };
      continue;
    }
    // 37 is prime to 100: consecutive jobs walk the kind table in a spread-out order.
    const kind = KIND_TABLE[(seq * 37) % KIND_TABLE.length] ?? 'healthy';
    // The hundreds shift the method, so each kind (even the 1% one) gets every method.
    const m = (seq + Math.floor(seq / 100)) % 10;
    const method: Method = m < 6 ? 'GET' : m < 8 ? 'POST' : 'PUT';
    plan.onJob(seq, encodeType({ kind, method }));
    const url = `http://127.0.0.1:${plan.ports[kind]}/${kind}/${method}/${seq}`;
    const timeoutMs = kind === 'never-answering' ? NEVER_TIMEOUT_MS : JOB_TIMEOUT_MS;
    if (method === 'GET') yield { url, timeoutMs };
    else if (method === 'POST') yield { url, method, body: `post ${seq}`, timeoutMs };
    else yield { url, method, body: `put ${seq}`, idempotent: true, timeoutMs };
  }
}

/**
 * Outcomes a job of this type may legitimately have. A GET or idempotent PUT runs again after a crash,
 * so it fails with FLOWPOOL_WORKER_CRASHED only if a second crash also hits it.
 */
export function allowedOutcomes(type: JobType): ReadonlySet<string> {
  if ('fault' in type) return new Set(['FLOWPOOL_WORKER_CRASHED']);
  switch (type.kind) {
    case 'healthy':
    case 'slow':
      return new Set(['ok', 'FLOWPOOL_WORKER_CRASHED']);
    case 'keepalive-closing':
      // GET and PUT are resent once on a fresh socket when the race strikes; POST fails instead.
      return new Set(
        type.method === 'POST'
          ? ['ok', 'FLOWPOOL_CONNECTION_FAILED', 'FLOWPOOL_WORKER_CRASHED']
          : ['ok', 'FLOWPOOL_WORKER_CRASHED'],
      );
    case 'resetting':
      return new Set(['ok', 'FLOWPOOL_CONNECTION_FAILED', 'FLOWPOOL_WORKER_CRASHED']);
    case 'never-answering':
      return new Set(['FLOWPOOL_TIMEOUT', 'FLOWPOOL_WORKER_CRASHED']);
  }
}
