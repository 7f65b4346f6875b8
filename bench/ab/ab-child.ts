/**
 * The same-process A/B harness's child: every client of one workload lives in this one process, long-lived,
 * and they take turns. Each first runs a warm-up; then, round after round, each runs one block of jobs, in
 * an order that rotates every round, so a noisy moment of the shared machine falls on all of them alike and
 * no client always runs first (or right after another one's garbage). Prints one JSON line (AbReport).
 * Usage: node ab-child.js '<AbSpec as JSON>'
 */
import { drive } from '../flood/load.js';
import type { LoadSpec } from '../flood/protocol.js';
import { openClient, type Client } from '../flood/variants.js';
import type { AbBlock, AbReport, AbSpec } from './protocol.js';

async function main(spec: AbSpec): Promise<AbReport> {
  const urls = spec.origins.map((origin) => `${origin}${spec.path}`);
  const clients: { label: string; client: Client }[] = [];
  try {
    for (const entry of spec.clients) {
      const load: LoadSpec = {
        suite: 'ab',
        variant: entry.variant,
        origins: spec.origins,
        path: spec.path,
        workload: spec.workload,
        warmup: spec.warmup,
        jobs: spec.block,
        inflight: spec.inflight,
        workers: entry.workers,
        connectionsPerHost: spec.connectionsPerHost,
        heavyTransform: spec.heavyTransform,
      };
      clients.push({ label: entry.label, client: await openClient(load) });
    }
    let index = 0;
    const fireWith =
      (client: Client) =>
      (i: number): Promise<number> =>
        client.fire(urls[i % urls.length] ?? '');
    for (const { label, client } of clients) {
      const warm = await drive(fireWith(client), spec.warmup, spec.inflight, index);
      index += spec.warmup;
      if (warm.errors > 0) throw new Error(`${label} warm-up: ${warm.errors} failed (${warm.firstError ?? '?'})`);
    }
    const rounds: AbBlock[][] = [];
    for (let round = 0; round < spec.rounds; round++) {
      const blocks: AbBlock[] = [];
      for (let k = 0; k < clients.length; k++) {
        const entry = clients[(round + k) % clients.length];
        if (entry === undefined) continue;
        const run = await drive(fireWith(entry.client), spec.block, spec.inflight, index);
        index += spec.block;
        blocks.push({
          label: entry.label,
          reqPerSec: (run.jobs / run.elapsedMs) * 1000,
          usPerJob: (run.elapsedMs * 1000) / run.jobs,
          cpuUsPerJob: run.cpuUs / run.jobs,
          mainCpuUsPerJob: run.mainCpuUs === undefined ? undefined : run.mainCpuUs / run.jobs,
          failures: run.errors + run.nonOk,
        });
      }
      rounds.push(blocks);
    }
    return { rounds };
  } finally {
    for (const { client } of clients) await client.close();
  }
}

main(JSON.parse(process.argv[2] ?? '{}') as AbSpec).then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`ab child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
