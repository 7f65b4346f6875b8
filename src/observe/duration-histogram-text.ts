/**
 * `flowpool_request_duration_seconds` in the Prometheus text format, written from the histogram's
 * snapshot: prom-client's Histogram can only be fed one observation at a time, and the counts are
 * already kept (src/traffic/request-durations.ts).
 */
import type { RequestDurationsSnapshot } from '../traffic/request-durations.js';

const NAME = 'flowpool_request_duration_seconds';

export function renderDurationHistogram(snapshot: RequestDurationsSnapshot): string {
  const lines = [
    `# HELP ${NAME} Duration of each request a worker answered, from its dispatch to the answer (body read), in seconds.`,
    `# TYPE ${NAME} histogram`,
  ];
  for (const series of snapshot.series) {
    const labels: [string, string][] = [];
    if (series.origin !== undefined) labels.push(['origin', series.origin]);
    if (series.tenant !== undefined) labels.push(['tenant', series.tenant]);
    snapshot.bounds.forEach((bound, i) => {
      lines.push(`${NAME}_bucket${labelText([...labels, ['le', String(bound)]])} ${String(series.buckets[i] ?? 0)}`);
    });
    lines.push(`${NAME}_bucket${labelText([...labels, ['le', '+Inf']])} ${String(series.count)}`);
    lines.push(`${NAME}_sum${labelText(labels)} ${String(series.sum)}`);
    lines.push(`${NAME}_count${labelText(labels)} ${String(series.count)}`);
  }
  return `${lines.join('\n')}\n\n`;
}

function labelText(labels: readonly [string, string][]): string {
  if (labels.length === 0) return '';
  return `{${labels.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(',')}}`;
}

/** The exposition format's escapes for a label value: backslash, double quote, line feed. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
