/**
 * The mix's tables (performance per client with the flowpool/undici ratios; outcomes by class so a reader
 * sees both clients did the same work) and its one failure rule: a client's outcome classes far from the
 * other's. Timings never fail anything.
 */
import { fmt, fmtInt, fmtRatio, renderTable } from '../report/table.js';
import type { OutcomeCounts } from './protocol.js';
import type { MixResult, MixRow } from './run-mix.js';

/** Outcome classes compared between the clients. */
const CLASSES = ['2xx', '3xx', '4xx', '5xx', 'error'] as const;
type OutcomeClass = (typeof CLASSES)[number];

/**
 * How far apart (share of the jobs) the clients' counts of one class may be. Only the rate-limited hosts'
 * 429s depend on timing (a faster client meets the bucket empty more often), and they get 5% of the jobs;
 * every other outcome is decided by the job itself, the same for both.
 */
const MAX_CLASS_GAP = 0.1;

export function outcomeClass(outcome: string): OutcomeClass {
  const status = Number(outcome);
  if (!Number.isInteger(status)) return 'error';
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  return '2xx';
}

function byClass(outcomes: OutcomeCounts): Record<OutcomeClass, number> {
  const counts: Record<OutcomeClass, number> = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, error: 0 };
  for (const [outcome, n] of Object.entries(outcomes)) counts[outcomeClass(outcome)] += n;
  return counts;
}

function total(outcomes: OutcomeCounts): number {
  return Object.values(outcomes).reduce((sum, n) => sum + n, 0);
}

export function mixTables(result: MixResult): string {
  const flowpool = result.rows.find((r) => r.label === 'flowpool');
  const undici = result.rows.find((r) => r.label === 'undici');
  const ratio = (pick: (r: MixRow) => number | undefined): string => {
    const a = flowpool === undefined ? undefined : pick(flowpool);
    const b = undici === undefined ? undefined : pick(undici);
    return a === undefined || b === undefined ? '-' : fmtRatio(a / b);
  };
  const performance = renderTable(
    ['client', 'jobs/s', 'main ELU µs/job', 'main CPU µs/job', 'all CPU µs/job', 'quiet p50 ms', 'quiet p99 ms'],
    [
      ...result.rows.map((r) => [
        r.label,
        fmtInt(r.jobsPerSec),
        fmt(r.eluUsPerJob, 1),
        fmt(r.mainCpuUsPerJob, 1),
        fmt(r.cpuUsPerJob, 1),
        fmt(r.quietP50Ms, 2),
        fmt(r.quietP99Ms, 1),
      ]),
      [
        'flowpool/undici',
        ratio((r) => r.jobsPerSec),
        ratio((r) => r.eluUsPerJob),
        ratio((r) => r.mainCpuUsPerJob),
        ratio((r) => r.cpuUsPerJob),
        ratio((r) => r.quietP50Ms),
        ratio((r) => r.quietP99Ms),
      ],
    ],
    ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  const outcomes = renderTable(
    ['client', 'jobs', '2xx', '4xx', '5xx', 'errors', 'by status or error code'],
    result.rows.map((r) => {
      const classes = byClass(r.outcomes);
      return [
        r.label,
        fmtInt(total(r.outcomes)),
        fmtInt(classes['2xx']),
        fmtInt(classes['4xx']),
        fmtInt(classes['5xx']),
        fmtInt(classes.error),
        Object.entries(r.outcomes)
          .map(([outcome, n]) => `${outcome} ${fmtInt(n)}`)
          .join(', '),
      ];
    }),
    ['left', 'right', 'right', 'right', 'right', 'right', 'left'],
  )
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
  const load = (values: readonly number[]): string => values.map((v) => v.toFixed(2)).join(' / ');
  return [
    performance,
    '',
    `Outcomes over the ${String(result.spec.rounds)} measured round(s) (no retries in either client: flowpool's default retry.attempts 1, undici's Agent without a retry interceptor)`,
    outcomes,
    `quiet = the 199 tenants other than the big one, on the 26 fast hosts; medians over ${String(result.spec.rounds)} round(s) of ${String(result.spec.jobs)} jobs after ${String(result.spec.warmup)} warm-up jobs per client`,
    `load average (1 / 5 / 15 min): ${load(result.loadAverage.start)} at the start of the mix, ${load(result.loadAverage.end)} at its end`,
  ].join('\n');
}

/** A class whose share of the jobs differs between the clients by more than MAX_CLASS_GAP. */
export function mixFailures(result: MixResult): string[] {
  const [a, b] = result.rows;
  if (a === undefined || b === undefined) return ['mix: a client reported no block'];
  const totalA = total(a.outcomes);
  const totalB = total(b.outcomes);
  if (totalA === 0 || totalB === 0) return ['mix: a client ran no job'];
  const classesA = byClass(a.outcomes);
  const classesB = byClass(b.outcomes);
  return CLASSES.filter((c) => Math.abs(classesA[c] / totalA - classesB[c] / totalB) > MAX_CLASS_GAP).map(
    (c) =>
      `mix: ${c} ${fmt((classesA[c] / totalA) * 100, 1)}% of ${a.label}'s jobs against ${fmt((classesB[c] / totalB) * 100, 1)}% of ${b.label}'s`,
  );
}
