/**
 * The chart: one horizontal bar chart per throughput suite (req/s per variant, the ratio to the
 * baseline written at the bar's end). Plain SVG built as text, no dependency.
 */
import type { SuiteSummary } from '../rounds.js';
import { fmtInt, fmtRatio } from './table.js';

const WIDTH = 860;
const MARGIN = 24;
const LABEL_WIDTH = 170;
const VALUE_WIDTH = 190;
const BAR_AREA = WIDTH - 2 * MARGIN - LABEL_WIDTH - VALUE_WIDTH;
const ROW = 26;
const BAR = 17;
const TITLE_GAP = 44;
const PANEL_GAP = 26;

const COLOURS = { flowpool: '#2563eb', baseline: '#374151', other: '#9ca3af' } as const;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function colour(variant: string, baseline: string): string {
  if (variant === baseline) return COLOURS.baseline;
  return variant.startsWith('flowpool') ? COLOURS.flowpool : COLOURS.other;
}

export function renderChart(suites: readonly SuiteSummary[], footer: string): string {
  const parts: string[] = [];
  let y = MARGIN;
  for (const suite of suites) {
    const max = Math.max(1, ...suite.variants.map((v) => v.median.reqPerSec ?? 0));
    parts.push(
      `<text x="${MARGIN}" y="${y + 14}" class="title">${escape(suite.name === 'flood' ? 'Flood, pure I/O' : 'CPU-heavy')} (req/s, median of rounds)</text>`,
    );
    const setup = suite.title.slice(suite.title.indexOf(':') + 1).trim();
    parts.push(`<text x="${MARGIN}" y="${y + 32}" class="sub">${escape(setup)}</text>`);
    y += TITLE_GAP;
    for (const v of suite.variants) {
      const rate = v.median.reqPerSec ?? 0;
      const width = Math.max(1, Math.round((rate / max) * BAR_AREA));
      const x = MARGIN + LABEL_WIDTH;
      const label = v.failures > 0 ? `${v.variant} (!)` : v.variant;
      parts.push(
        `<text x="${x - 8}" y="${y + BAR - 4}" class="label" text-anchor="end">${escape(label)}</text>`,
        `<rect x="${x}" y="${y}" width="${width}" height="${BAR}" rx="2" fill="${colour(v.variant, suite.baseline)}"/>`,
        `<text x="${x + width + 6}" y="${y + BAR - 4}" class="value">${escape(`${fmtInt(rate)} · ${fmtRatio(v.ratio)}`)}</text>`,
      );
      y += ROW;
    }
    y += PANEL_GAP;
  }
  const baseline = suites[0]?.baseline ?? 'undici';
  parts.push(
    `<text x="${MARGIN}" y="${y}" class="foot">${escape(`Ratio at each bar's end: req/s over ${baseline}'s (main-thread Agent) in the same run.`)}</text>`,
    `<text x="${MARGIN}" y="${y + 15}" class="foot">${escape(footer)}</text>`,
  );
  const height = y + 15 + MARGIN;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">`,
    '<style>.title{font-size:15px;font-weight:600;fill:#111827}.sub{font-size:11px;fill:#6b7280}.label{font-size:12px;fill:#111827}.value{font-size:12px;fill:#374151}.foot{font-size:10px;fill:#6b7280}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
