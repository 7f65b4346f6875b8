/**
 * Command-line flags and the sizes they select. `--quick`: smaller sizes and one round (under a minute,
 * writes bench/results/quick.json). `--smoke` (CI): quick sizes, one round, only flowpool and undici in
 * the flood and sequential suites plus a tiny mix, nothing written; exits non-zero only if a variant
 * crashed or got a non-200 (the mix: crashed, or its clients' outcome classes far apart). No mode asserts
 * anything about timings.
 */
import type { VariantName } from './flood/protocol.js';

export type Mode = 'full' | 'quick' | 'smoke';
export type SuiteName =
  | 'flood'
  | 'cpu-heavy'
  | 'sequential'
  | 'ab'
  | 'cold'
  | 'mix'
  | 'seed'
  | 'micro'
  | 'tracing'
  | 'request-tracing'
  | 'hooks'
  | 'https'
  | 'payload'
  | 'queue';

export interface BenchConfig {
  readonly mode: Mode;
  readonly rounds: number;
  /** Suites to run, in this order. */
  readonly suites: readonly SuiteName[];
  /** Restricts the load suites' variants (smoke); undefined: every variant of each suite. */
  readonly onlyVariants: readonly VariantName[] | undefined;
  readonly floodJobs: number;
  readonly heavyJobs: number;
  readonly sequentialJobs: number;
  /** tinybench time per task, ms. */
  readonly tinybenchTimeMs: number;
  /** Kill a load child that has not reported after this long. */
  readonly variantTimeoutMs: number;
  /** Where the JSON goes (and the SVG beside it in full mode); undefined: write nothing. */
  readonly output: { readonly json: string; readonly svg: string | undefined } | undefined;
}

const USAGE = `usage: node dist/bench/run.js [--quick] [--smoke] [--rounds N] [--only flood,cpu-heavy,sequential,ab,cold,mix,seed,micro,tracing,request-tracing,hooks,https,payload,queue]`;

const ALL_SUITES: readonly SuiteName[] = [
  'flood',
  'cpu-heavy',
  'sequential',
  'ab',
  'cold',
  'mix',
  'seed',
  'micro',
  'tracing',
  'request-tracing',
  'hooks',
  'https',
  'payload',
];
/** Run only when named in --only: the queue suite needs redis-server on PATH. */
const ON_REQUEST_SUITES: readonly SuiteName[] = ['queue'];

export function parseArgs(argv: readonly string[]): BenchConfig {
  let quick = false;
  let smoke = false;
  let rounds: number | undefined;
  let only: SuiteName[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--smoke') smoke = true;
    else if (arg === '--rounds') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1 || value > 15)
        throw new Error(`--rounds: expected an integer 1-15, received ${String(argv[i])}\n${USAGE}`);
      rounds = value;
    } else if (arg === '--only') {
      const names = (argv[++i] ?? '').split(',');
      for (const name of names) {
        if (![...ALL_SUITES, ...ON_REQUEST_SUITES].includes(name as SuiteName))
          throw new Error(
            `--only: expected suites from ${[...ALL_SUITES, ...ON_REQUEST_SUITES].join(', ')}, received "${name}"\n${USAGE}`,
          );
      }
      only = names as SuiteName[];
    } else if (arg === '--help' || arg === '-h') {
      throw new Error(USAGE);
    } else throw new Error(`unknown flag "${String(arg)}"\n${USAGE}`);
  }
  const mode: Mode = smoke ? 'smoke' : quick ? 'quick' : 'full';
  const small = mode !== 'full';
  const results = new URL('../../bench/results/', import.meta.url);
  return {
    mode,
    rounds: rounds ?? (small ? 1 : 3),
    suites: only ?? (smoke ? ['flood', 'sequential', 'mix'] : ALL_SUITES),
    onlyVariants: smoke ? ['flowpool', 'undici'] : undefined,
    floodJobs: small ? 5_000 : 20_000,
    heavyJobs: small ? 200 : 1_000,
    sequentialJobs: small ? 300 : 2_000,
    tinybenchTimeMs: small ? 200 : 1_000,
    variantTimeoutMs: small ? 45_000 : 180_000,
    // latest.* is the whole run the README quotes: a run of some suites (--only) never replaces it.
    output:
      mode === 'smoke'
        ? undefined
        : mode === 'quick'
          ? { json: new URL('quick.json', results).pathname, svg: undefined }
          : only !== undefined
            ? { json: new URL('partial.json', results).pathname, svg: undefined }
            : { json: new URL('latest.json', results).pathname, svg: new URL('latest.svg', results).pathname },
  };
}
