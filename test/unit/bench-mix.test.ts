/**
 * The realistic mix's pure parts (bench/mix): the seeded job list keeps the workload's proportions and is
 * the same every time, the hosts' per-job draws stay in their ranges, and the outcome check fails a run
 * only when the clients' outcome classes are far apart, not when their 429 counts differ a little.
 */
import { describe, expect, it } from 'vitest';
import { BIG_TENANT, mixJobs } from '../../dist/bench/mix/jobs.js';
import { BEHAVIOUR, flakyFails, hostKinds, indexOfPath, LAYOUT, slowDelayMs } from '../../dist/bench/mix/layout.js';
import { mixFailures, outcomeClass } from '../../dist/bench/mix/report.js';
import type { MixResult, MixRow } from '../../dist/bench/mix/run-mix.js';

const ORIGINS = hostKinds().map((_, i) => `http://127.0.0.1:${String(20_000 + i)}`);
const JOBS = 30_000;

function share<T>(items: readonly T[], keep: (item: T) => boolean): number {
  return items.filter(keep).length / items.length;
}

describe('mix job list', () => {
  const jobs = mixJobs(ORIGINS, JOBS);

  it('is the same list on every call (both clients, every run)', () => {
    expect(mixJobs(ORIGINS, JOBS)).toEqual(jobs);
  });

  it('sends each kind of host its share of the jobs, spread over all its hosts', () => {
    const kinds = hostKinds();
    for (const { kind, hosts, jobShare } of LAYOUT) {
      const ofKind = jobs.filter((j) => j.kind === kind);
      expect(ofKind.length / JOBS).toBeCloseTo(jobShare, 2);
      const used = new Set(ofKind.map((j) => j.origin));
      expect(used.size).toBe(hosts);
      for (const origin of used) expect(kinds[ORIGINS.indexOf(origin)]).toBe(kind);
    }
  });

  it('has 200 tenants, one of them sending 60% of the jobs, and 20% JSON POSTs', () => {
    expect(new Set(jobs.map((j) => j.tenant)).size).toBe(200);
    expect(share(jobs, (j) => j.tenant === BIG_TENANT)).toBeCloseTo(0.6, 1);
    expect(share(jobs, (j) => j.json !== undefined)).toBeCloseTo(0.2, 1);
    expect(jobs.every((j) => j.quietFast === (j.tenant !== BIG_TENANT && j.kind === 'fast'))).toBe(true);
    expect(jobs.every((j) => j.url === `${j.origin}/mix/${String(j.index)}` && indexOfPath(j.path) === j.index)).toBe(
      true,
    );
  });

  it('refuses a list of origins that does not match the layout', () => {
    expect(() => mixJobs(ORIGINS.slice(1), 10)).toThrow(/expected 40 origins, received 39/);
  });
});

describe('mix host behaviours', () => {
  const indices = Array.from({ length: 20_000 }, (_, i) => i);

  it('fails the flaky share of jobs with 503, the same jobs on every call', () => {
    expect(share(indices, flakyFails)).toBeCloseTo(BEHAVIOUR.flakyShare, 1);
    expect(indices.filter(flakyFails)).toEqual(indices.filter(flakyFails));
  });

  it('delays slow answers within 50-200 ms, using the whole range', () => {
    const delays = indices.map(slowDelayMs);
    expect(Math.min(...delays)).toBe(BEHAVIOUR.slowMinMs);
    expect(Math.max(...delays)).toBe(BEHAVIOUR.slowMaxMs);
  });
});

describe('mix outcome check', () => {
  const row = (label: 'flowpool' | 'undici', outcomes: Record<string, number>): MixRow => ({
    label,
    blocks: 1,
    jobsPerSec: 1,
    eluUsPerJob: 1,
    mainCpuUsPerJob: 1,
    cpuUsPerJob: 1,
    quietP50Ms: 1,
    quietP99Ms: 1,
    outcomes,
  });
  const result = (a: Record<string, number>, b: Record<string, number>): MixResult => ({
    title: 'mix',
    spec: { jobs: 1000, warmup: 0, rounds: 1, inflight: 512, connectionsPerHost: 16, workers: 2 },
    loadAverage: { start: [0, 0, 0], end: [0, 0, 0] },
    rows: [row('flowpool', a), row('undici', b)],
    rounds: [],
  });

  it('classes statuses and error codes', () => {
    expect(['200', '301', '429', '503', 'ECONNREFUSED', 'FLOWPOOL_CONNECTION_FAILED'].map(outcomeClass)).toEqual([
      '2xx',
      '3xx',
      '4xx',
      '5xx',
      'error',
      'error',
    ]);
  });

  it('passes the same work told in each client’s words, and a few more 429s on one side', () => {
    const flowpool = { '200': 900, '429': 30, '503': 50, FLOWPOOL_CONNECTION_FAILED: 20 };
    const undici = { '200': 860, '429': 70, '503': 50, ECONNREFUSED: 20 };
    expect(mixFailures(result(flowpool, undici))).toEqual([]);
  });

  it('fails a client whose jobs mostly failed where the other’s succeeded', () => {
    const failures = mixFailures(
      result({ '200': 100, FLOWPOOL_WORKER_CRASHED: 900 }, { '200': 980, ECONNREFUSED: 20 }),
    );
    expect(failures).toEqual([
      "mix: 2xx 10.0% of flowpool's jobs against 98.0% of undici's",
      "mix: error 90.0% of flowpool's jobs against 2.0% of undici's",
    ]);
  });

  it('fails a client that ran no job', () => {
    expect(mixFailures(result({}, { '200': 10 }))).toEqual(['mix: a client ran no job']);
  });
});
