/** The accounting tables the stress harness prints, and the verdict its exit code follows. */
import type { StressConfig } from './args.js';
import type { Ledger } from './ledger.js';
import type { MonitorFigures } from './monitor.js';
import { HOST_DESCRIPTIONS, type ServerCounts } from './protocol.js';

export interface RunFacts {
  readonly config: StressConfig;
  readonly floodMs: number;
  readonly drainMs: number;
  /** The drain ended because every job settled (false: it gave up at its bound). */
  readonly drained: boolean;
  readonly faultsInjected: number;
  readonly ledger: Ledger;
  readonly monitor: MonitorFigures;
  readonly servers: readonly ServerCounts[];
  /** The runtime's own totals after the drain. */
  readonly runtimeSubmitted: number;
  readonly runtimeSettled: number;
  readonly workerRestarts: number;
  readonly rerunsAfterCrash: number;
}

export interface Verdict {
  readonly ok: boolean;
  readonly failures: readonly string[];
}

type Align = 'l' | 'r';

function table(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (align[c] === 'l' ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const n = (value: number): string => int.format(value);
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const check = (good: boolean): string => (good ? 'ok' : 'FAIL');

export function verdict(facts: RunFacts): Verdict {
  const failures: string[] = [];
  const { ledger } = facts;
  if (ledger.lost > 0) failures.push(`${n(ledger.lost)} job(s) lost (never settled)`);
  if (ledger.doubled > 0) failures.push(`${n(ledger.doubled)} extra settlement(s)`);
  if (ledger.unknown > 0) failures.push(`${n(ledger.unknown)} settlement(s) of unknown jobs`);
  if (facts.runtimeSettled > facts.runtimeSubmitted)
    failures.push('the runtime counted more settlements than submissions');
  if (facts.runtimeSubmitted !== ledger.submitted)
    failures.push(`the runtime counted ${n(facts.runtimeSubmitted)} submissions, the harness ${n(ledger.submitted)}`);
  for (const server of facts.servers) {
    if (server.postDuplicates > 0) failures.push(`${server.kind}: ${n(server.postDuplicates)} POST(s) received twice`);
    if (server.peakOpen > facts.config.connectionsPerHost)
      failures.push(`${server.kind}: ${server.peakOpen} sockets open at once, cap ${facts.config.connectionsPerHost}`);
  }
  for (const [origin, peak] of facts.monitor.peakOpenByOrigin) {
    if (peak > facts.config.connectionsPerHost)
      failures.push(`${origin}: the runtime's stats showed ${peak} open, cap ${facts.config.connectionsPerHost}`);
  }
  return { ok: failures.length === 0, failures };
}

export function render(facts: RunFacts, result: Verdict): string {
  const { ledger, monitor, config } = facts;
  const out: string[] = [];
  const seconds = facts.floodMs / 1000;
  out.push(
    `flowpool stress: ${seconds.toFixed(0)} s flood, ${config.workers} workers, runMany concurrency ${n(config.concurrency)}, ` +
      `connectionsPerHost ${config.connectionsPerHost}, a worker crash every ${config.crashEverySeconds || '-'} s (${facts.faultsInjected} injected), ` +
      `drain ${(facts.drainMs / 1000).toFixed(1)} s${facts.drained ? '' : ' (GAVE UP)'}`,
  );
  out.push('');
  const codes = [...ledger.rejectedByCode].sort((a, b) => b[1] - a[1]);
  out.push(
    table(
      ['accounting', 'value', 'check'],
      [
        ['submitted', n(ledger.submitted), ''],
        ['resolved', n(ledger.resolved), ''],
        ['rejected', n(ledger.rejected), ''],
        ...codes.map(([code, count]) => [`  ${code}`, n(count), '']),
        ['lost (submitted - settled)', n(ledger.lost), check(ledger.lost === 0)],
        ['settled twice (harness ledger)', n(ledger.doubled), check(ledger.doubled === 0)],
        [
          'runtime: submitted / settled',
          `${n(facts.runtimeSubmitted)} / ${n(facts.runtimeSettled)}`,
          check(facts.runtimeSubmitted === ledger.submitted && facts.runtimeSettled <= facts.runtimeSubmitted),
        ],
        [
          'POSTs received twice (servers)',
          n(facts.servers.reduce((s, c) => s + c.postDuplicates, 0)),
          check(facts.servers.every((c) => c.postDuplicates === 0)),
        ],
        ['throughput', `${n(ledger.settled / Math.max(1, (facts.floodMs + facts.drainMs) / 1000))} jobs/s`, ''],
        ['resends: staleConnectionRetries (>=)', n(monitor.staleConnectionRetries), ''],
        ['resends: rerunsAfterCrash', n(facts.rerunsAfterCrash), ''],
        ['worker restarts', n(facts.workerRestarts), ''],
        ['peak RSS (runtime process, workers included)', mb(monitor.peakRss), ''],
        ['peak heapUsed (main thread)', mb(monitor.peakHeapUsed), ''],
        ['peak heapUsed (a worker)', mb(monitor.peakWorkerHeap), ''],
        [
          'unexpected outcomes',
          n([...ledger.unexpected.values()].reduce((a, b) => a + b, 0)),
          ledger.unexpected.size === 0 ? 'ok' : 'see below',
        ],
      ],
      ['l', 'r', 'l'],
    ),
  );
  out.push('');
  out.push(
    table(
      ['host', 'behaviour', 'requests', 'connections', 'peak open (server)', 'peak open (runtime)', 'cap', 'check'],
      facts.servers.map((server) => {
        const counter = monitor.peakOpenByOrigin.get(`http://127.0.0.1:${server.port}`) ?? 0;
        return [
          server.kind,
          HOST_DESCRIPTIONS[server.kind],
          n(server.requests),
          n(server.connections),
          n(server.peakOpen),
          n(counter),
          n(config.connectionsPerHost),
          check(server.peakOpen <= config.connectionsPerHost && counter <= config.connectionsPerHost),
        ];
      }),
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
  out.push('');
  const outcomeNames = [...new Set([...ledger.byType.values()].flatMap((m) => [...m.keys()]))].sort((a, b) =>
    a === 'ok' ? -1 : b === 'ok' ? 1 : a.localeCompare(b),
  );
  out.push(
    table(
      ['job type', ...outcomeNames.map((o) => o.replace('FLOWPOOL_', ''))],
      [...ledger.byType]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([label, outcomes]) => [label, ...outcomeNames.map((o) => n(outcomes.get(o) ?? 0))]),
      ['l', ...outcomeNames.map((): Align => 'r')],
    ),
  );
  if (ledger.unexpected.size > 0) {
    out.push('');
    out.push('unexpected outcomes (not a failure of the accounting; outcomes outside what the job type allows):');
    for (const [key, count] of ledger.unexpected) out.push(`  ${key}: ${n(count)}`);
    out.push('first ones in full:');
    for (const sample of ledger.unexpectedSamples) out.push(`  ${sample}`);
  }
  out.push('');
  out.push(
    result.ok
      ? 'VERDICT: ok (nothing lost, nothing doubled, no POST replayed, every host within its cap)'
      : `VERDICT: FAIL\n  ${result.failures.join('\n  ')}`,
  );
  return out.join('\n');
}
