/**
 * The realistic mix's world, shared by the target process (which behaves by it) and the job list (which
 * aims by it): 40 loopback hosts of five kinds, each kind's share of the jobs, and how each kind answers.
 * Every random choice is a hash of the job's index with a fixed seed (`unitHash`), so the job list is the
 * same in every run and for both clients, and a flaky host fails the same jobs and a slow host delays the
 * same jobs by the same time whichever client sends them.
 */

export type HostKind = 'fast' | 'slow' | 'flaky' | 'rate-limited' | 'refused';

export interface KindLayout {
  readonly kind: HostKind;
  /** Hosts of this kind. */
  readonly hosts: number;
  /** Share of all jobs sent to this kind's hosts (spread evenly over them). */
  readonly jobShare: number;
}

/**
 * Slow hosts get only 5% of the jobs: at 16 connections each, 8 hosts answering in 125 ms on average
 * serve ~1,000 jobs/s, so a larger share would make the slow hosts, not the clients, set the pace.
 */
export const LAYOUT: readonly KindLayout[] = [
  { kind: 'fast', hosts: 26, jobShare: 0.8 },
  { kind: 'slow', hosts: 8, jobShare: 0.05 },
  { kind: 'flaky', hosts: 3, jobShare: 0.08 },
  { kind: 'rate-limited', hosts: 2, jobShare: 0.05 },
  { kind: 'refused', hosts: 1, jobShare: 0.02 },
];

/** How the hosts answer. */
export const BEHAVIOUR = {
  /** Slow hosts answer after a delay drawn per job, uniform in [min, max] ms. */
  slowMinMs: 50,
  slowMaxMs: 200,
  /** Share of a flaky host's jobs answered 503. */
  flakyShare: 0.3,
  /**
   * Token bucket per rate-limited host: beyond it, 429 with `Retry-After`. Low enough that each host's
   * 2.5% of the jobs overruns it even on a busy machine (at 1,500 jobs/s a host sees ~37 per second), so
   * the 429s show; how many depends on the client's pace, the one outcome that does.
   */
  ratePerSecond: 25,
  burst: 10,
  retryAfterSeconds: 1,
} as const;

/** Tenants: one big tenant sends `bigShare` of the jobs, the rest spread evenly over the others. */
export const TENANTS = { count: 200, bigShare: 0.6 } as const;

/** Share of the jobs that are JSON POSTs (the rest are GETs). */
export const POST_SHARE = 0.2;

/** The kind of every host, in port order (the order the target process reports its ports in). */
export function hostKinds(): HostKind[] {
  return LAYOUT.flatMap(({ kind, hosts }) => Array.from({ length: hosts }, () => kind));
}

/** Seeds of the independent draws made per job index. */
export const SEEDS = { kind: 0x6b1d, host: 0x51f3, tenant: 0x7e4a, method: 0x2c99, flaky: 0x3a07, slow: 0x1d55 };

/** A stateless hash of (seed, n) into [0, 1): murmur3's 32-bit finaliser. */
export function unitHash(seed: number, n: number): number {
  let h = (seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4_294_967_296;
}

/** The job index a mix path carries (`/mix/<index>`), or -1. */
export function indexOfPath(path: string | undefined): number {
  if (path?.startsWith('/mix/') !== true) return -1;
  const index = Number.parseInt(path.slice(5), 10);
  return Number.isInteger(index) ? index : -1;
}

/** Whether a flaky host answers job `index` with 503. */
export function flakyFails(index: number): boolean {
  return unitHash(SEEDS.flaky, index) < BEHAVIOUR.flakyShare;
}

/** How long a slow host waits before answering job `index`, ms. */
export function slowDelayMs(index: number): number {
  const span = BEHAVIOUR.slowMaxMs - BEHAVIOUR.slowMinMs;
  return BEHAVIOUR.slowMinMs + Math.floor(unitHash(SEEDS.slow, index) * (span + 1));
}
