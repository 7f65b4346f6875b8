/** Console tables: one per suite, figures are the medians of the rounds, ratios against the baseline. */
import type { SuiteSummary, VariantSummary } from '../rounds.js';
import type { TaskSummary } from '../tinybench-summary.js';

type Align = 'left' | 'right';

export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[],
): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (align[c] === 'left' ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function fmtInt(value: number | undefined): string {
  return value === undefined || Number.isNaN(value) ? '-' : integer.format(value);
}

export function fmt(value: number | undefined, digits: number): string {
  return value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

/** Milliseconds, with the precision a latency of that size deserves. */
function fmtMs(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  return value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0);
}

export function fmtRatio(value: number): string {
  return Number.isNaN(value) ? '-' : `${value.toFixed(2)}x`;
}

function name(v: VariantSummary): string {
  return v.failures > 0 ? `${v.variant} (!${v.failures} failed)` : v.variant;
}

/** Flood and CPU-heavy: throughput first. */
export function throughputTable(suite: SuiteSummary): string {
  const rows = suite.variants.map((v) => [
    name(v),
    fmtInt(v.median.reqPerSec),
    fmtRatio(v.ratio),
    fmtMs(v.median.p50Ms),
    fmtMs(v.median.p99Ms),
    fmtInt(v.median.connections),
    fmtInt(v.median.newAfterWarmup),
    fmtInt(v.median.peakRssMb),
    fmt(v.median.mainThreadUsPerJob, 1),
    fmt(v.median.mainThreadCpuUsPerJob, 1),
    fmt(v.median.processCpuUsPerJob, 1),
  ]);
  return renderTable(
    [
      'variant',
      'req/s',
      `vs ${suite.baseline}`,
      'p50 ms',
      'p99 ms',
      'conns',
      'new after warm-up',
      'peak RSS MB',
      'main ELU µs/job',
      'main CPU µs/job',
      'all CPU µs/job',
    ],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}

/** Sequential: time per awaited request; the ratio is time against the baseline's (lower is better). */
export function sequentialTable(suite: SuiteSummary): string {
  const base = suite.variants.find((v) => v.variant === suite.baseline)?.usPerOp ?? Number.NaN;
  const rows = suite.variants.map((v) => [
    name(v),
    fmt(v.usPerOp, 0),
    fmtRatio(v.usPerOp / base),
    fmt((v.median.p50Ms ?? Number.NaN) * 1000, 0),
    fmt((v.median.p99Ms ?? Number.NaN) * 1000, 0),
    fmtInt(v.median.connections),
    fmtInt(v.median.newAfterWarmup),
    fmtInt(v.median.peakRssMb),
    fmt(v.median.mainThreadUsPerJob, 1),
    fmt(v.median.mainThreadCpuUsPerJob, 1),
  ]);
  return renderTable(
    [
      'variant',
      'µs/op',
      `time vs ${suite.baseline}`,
      'p50 µs',
      'p99 µs',
      'conns',
      'new after warm-up',
      'peak RSS MB',
      'main ELU µs/job',
      'main CPU µs/job',
    ],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}

export function tinybenchTable(tasks: readonly TaskSummary[], unit: 'us' | 'ops'): string {
  const rows = tasks.map((t) =>
    unit === 'us'
      ? [
          t.error === undefined ? t.name : `${t.name} (!${t.error})`,
          fmt(t.medianUs, 0),
          fmt(t.meanUs, 0),
          fmt(t.p99Us, 0),
          fmtInt(t.opsPerSec),
          fmtInt(t.samples),
        ]
      : [
          t.error === undefined ? t.name : `${t.name} (!${t.error})`,
          fmtInt(t.opsPerSec),
          fmt(t.medianUs * 1000, 0),
          fmtInt(t.samples),
        ],
  );
  return unit === 'us'
    ? renderTable(['task', 'median µs/op', 'mean µs/op', 'p99 µs', 'ops/s (median)', 'samples'], rows, [
        'left',
        'right',
        'right',
        'right',
        'right',
        'right',
      ])
    : renderTable(['task', 'ops/s (median)', 'median ns/op', 'samples'], rows, ['left', 'right', 'right', 'right']);
}
