/**
 * The HTTPS suites (`--only https`): throwaway certificates (openssl), HTTPS target servers in a process
 * of their own, the seed's four over HTTPS, and the flood over HTTPS and over HTTP/2 with the TLS
 * handshakes the servers counted ("conns", and "new after warm-up" which should be 0).
 */
import type { BenchConfig } from '../config.js';
import type { VariantName } from '../flood/protocol.js';
import { BASELINE, type LoadSuite } from '../load-suites.js';
import { throughputTable, tinybenchTable } from '../report/table.js';
import { runSuite, type SuiteSummary } from '../rounds.js';
import type { TaskSummary } from '../tinybench-summary.js';
import { startTargetProcess } from '../../src/cli/target-process.js';
import { createTestPki } from './pki.js';
import { httpsSeedRatios, runHttpsSeed } from './seed-https.js';

const TLS_TARGETS = new URL('./tls-target-server.js', import.meta.url);
const HOSTS = 8;

export interface HttpsResults {
  readonly suites: SuiteSummary[];
  readonly seed: TaskSummary[];
  /** Titled tables, ready to print. */
  readonly tables: string[];
}

export async function runHttps(config: BenchConfig, log: (line: string) => void): Promise<HttpsResults> {
  const pki = createTestPki();
  const suites: SuiteSummary[] = [];
  const tables: string[] = [];
  let seed: TaskSummary[] = [];
  try {
    const h1 = await startTargetProcess(HOSTS, TLS_TARGETS, ['h1', pki.dir], 'https');
    try {
      const title = "The seed's four over HTTPS, flowpool and main-thread undici (tinybench)";
      log(`\n${title}`);
      seed = await runHttpsSeed(config, h1, pki.ca);
      const text = [tinybenchTable(seed, 'us'), ...httpsSeedRatios(seed)].join('\n');
      tables.push(`${title}\n${text}`);
      log(text);
      suites.push(await floodSuite(floodSpec(config, pki.ca, false), config, h1, log, tables));
    } finally {
      await h1.stop();
    }
    const h2 = await startTargetProcess(HOSTS, TLS_TARGETS, ['h2', pki.dir], 'https');
    try {
      suites.push(await floodSuite(floodSpec(config, pki.ca, true), config, h2, log, tables));
    } finally {
      await h2.stop();
    }
  } finally {
    pki.cleanup();
  }
  return { suites, seed, tables };
}

async function floodSuite(
  suite: LoadSuite,
  config: BenchConfig,
  targets: Awaited<ReturnType<typeof startTargetProcess>>,
  log: (line: string) => void,
  tables: string[],
): Promise<SuiteSummary> {
  log(`\n${suite.title}`);
  await targets.reset();
  const summary = await runSuite(suite, config, targets, log);
  const note =
    'conns = TLS handshakes the servers completed (secureConnection), new after warm-up = handshakes during the measured run';
  const text = `${throughputTable(summary)}\n${note}`;
  tables.push(`${suite.title}\n${text}`);
  log(`\n${text}`);
  return summary;
}

function floodSpec(config: BenchConfig, ca: string, allowH2: boolean): LoadSuite {
  const variants: VariantName[] = ['flowpool', 'undici', 'naive-piscina'];
  const protocol = allowH2 ? 'HTTP/2 (one session per origin per worker / per agent)' : 'HTTPS (HTTP/1.1)';
  return {
    name: allowH2 ? 'h2-flood' : 'https-flood',
    title: `Flood over ${protocol}: ${config.floodJobs} GETs of ~229 B over ${HOSTS} hosts, 256 in flight, 16 connections per host, 2 workers`,
    variants: config.onlyVariants === undefined ? variants : variants.filter((v) => config.onlyVariants?.includes(v)),
    baseline: BASELINE,
    hosts: HOSTS,
    path: '/item',
    workload: 'small',
    inflight: 256,
    minWarmup: 0,
    workers: 2,
    connectionsPerHost: 16,
    jobsFor: () => config.floodJobs,
    tls: { ca, allowH2 },
  };
}
