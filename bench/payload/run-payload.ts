/**
 * Payload throughput: 100 MB (quick: 100 MB too, one round) downloaded as a stream, saved to a file and
 * uploaded from a generator, through flowpool and through undici on the main thread (the baseline,
 * measured in the same run). Each variant runs in a fresh process against a target in its own process;
 * the table reports medians of MB/s and of peak RSS growth, and flowpool's MB/s as a ratio to undici's.
 */
import { fork, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BenchConfig } from '../config.js';
import { PAYLOAD_VARIANTS, type PayloadVariant } from './variants.js';

const run = promisify(execFile);
const TARGET = new URL('./target.js', import.meta.url);
const VARIANT = new URL('./variant.js', import.meta.url).pathname;
const BYTES = 100 * 1000 * 1000;

/** flowpool's variant and the undici baseline it is compared with. */
const PAIRS: readonly [PayloadVariant, PayloadVariant, string][] = [
  ['flowpool-stream', 'undici-download', 'download, stream'],
  ['flowpool-saveTo', 'undici-save', 'download, to a file'],
  ['flowpool-upload', 'undici-upload', 'upload, from a generator'],
];

interface Figures {
  readonly mbPerS: number;
  readonly peakRssGrowthMb: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

export async function runPayload(config: BenchConfig, log: (line: string) => void): Promise<string> {
  const target = fork(TARGET, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      target.once('message', (message) => {
        resolve((message as { port: number }).port);
      });
      target.once('exit', () => {
        reject(new Error('the payload target exited'));
      });
    });
    const origin = `http://127.0.0.1:${port}`;
    const results = new Map<PayloadVariant, Figures[]>();
    for (let round = 0; round < config.rounds; round++) {
      for (const variant of PAYLOAD_VARIANTS) {
        const { stdout } = await run(process.execPath, [VARIANT, variant, origin, String(BYTES)], {
          timeout: config.variantTimeoutMs,
        });
        const figures = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Figures;
        results.set(variant, [...(results.get(variant) ?? []), figures]);
        log(
          `  round ${round + 1} ${variant}: ${figures.mbPerS.toFixed(0)} MB/s, peak RSS +${figures.peakRssGrowthMb.toFixed(1)} MB`,
        );
      }
    }
    const lines = [
      'what (100 MB)              | flowpool MB/s | undici MB/s | ratio | flowpool peak RSS + | undici peak RSS +',
    ];
    for (const [mine, baseline, what] of PAIRS) {
      const a = results.get(mine) ?? [];
      const b = results.get(baseline) ?? [];
      const mbA = median(a.map((f) => f.mbPerS));
      const mbB = median(b.map((f) => f.mbPerS));
      lines.push(
        `${what.padEnd(27)}| ${mbA.toFixed(0).padStart(13)} | ${mbB.toFixed(0).padStart(11)} | ${(mbA / mbB).toFixed(2).padStart(5)} | ${`${median(a.map((f) => f.peakRssGrowthMb)).toFixed(1)} MB`.padStart(19)} | ${`${median(b.map((f) => f.peakRssGrowthMb)).toFixed(1)} MB`.padStart(17)}`,
      );
    }
    return lines.join('\n');
  } finally {
    target.disconnect();
  }
}
