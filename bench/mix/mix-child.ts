/**
 * The realistic mix's child: both clients (flowpool and a main-thread undici Agent) live in this one
 * process, long-lived, and take turns. Each first runs a warm-up; then, round after round, each runs the
 * same job list once, the order alternating every round, so a noisy moment of the shared machine falls on
 * both alike. Prints one JSON line (MixReport).
 * Usage: node mix-child.js '<MixSpec as JSON>'
 */
import { openFlowpool, openUndici, type MixClient } from './clients.js';
import { driveMix } from './drive.js';
import { mixJobs } from './jobs.js';
import type { MixBlock, MixReport, MixSpec } from './protocol.js';

async function main(spec: MixSpec): Promise<MixReport> {
  const jobs = mixJobs(spec.origins, spec.jobs);
  const clients: MixClient[] = [];
  try {
    clients.push(await openFlowpool(spec), await openUndici(spec));
    for (const client of clients) {
      if (spec.warmup > 0) await driveMix(client.fire.bind(client), jobs, spec.warmup, spec.inflight);
    }
    const rounds: MixBlock[][] = [];
    for (let round = 0; round < spec.rounds; round++) {
      const blocks: MixBlock[] = [];
      for (let k = 0; k < clients.length; k++) {
        const client = clients[(round + k) % clients.length];
        if (client === undefined) continue;
        const run = await driveMix(client.fire.bind(client), jobs, spec.jobs, spec.inflight);
        blocks.push({
          label: client.name,
          jobs: run.jobs,
          jobsPerSec: (run.jobs / run.elapsedMs) * 1000,
          eluUsPerJob: (run.eluActiveMs * 1000) / run.jobs,
          mainCpuUsPerJob: run.mainCpuUs === undefined ? undefined : run.mainCpuUs / run.jobs,
          cpuUsPerJob: run.cpuUs / run.jobs,
          quietP50Ms: run.quietP50Ms,
          quietP99Ms: run.quietP99Ms,
          quietSamples: run.quietSamples,
          outcomes: run.outcomes,
        });
      }
      rounds.push(blocks);
    }
    return { rounds };
  } finally {
    for (const client of clients) await client.close();
  }
}

main(JSON.parse(process.argv[2] ?? '{}') as MixSpec).then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`mix child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
