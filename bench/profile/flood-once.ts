/**
 * One flowpool flood for profiling: `node --cpu-prof --cpu-prof-dir=DIR dist/bench/profile/flood-once.js
 * <origins> [warmup] [jobs] [workers] [inflight]` writes one .cpuprofile per thread (main and each worker). Run against
 * the bench's target process (`summarize.js` reads the profiles). Bounded: warm-up and measured jobs only.
 */
import { createRuntime } from '../../src/index.js';
import { drive } from '../flood/load.js';

const [originList, warmupArg, jobsArg, workersArg, inflightArg] = process.argv.slice(2);
const inflight = Number(inflightArg ?? 256);
const origins = (originList ?? '').split(',');
const urls = origins.map((origin) => `${origin}/item`);
const runtime = createRuntime({
  workers: Number(workersArg ?? 2),
  connectionsPerHost: 16,
  policy: { allow: ['127.0.0.0/8'] },
});
await runtime.ready();
const fire = async (i: number): Promise<number> => (await runtime.run({ url: urls[i % urls.length] ?? '' })).status;
const warm = await drive(fire, Number(warmupArg ?? 10_000), inflight, 0);
const run = await drive(fire, Number(jobsArg ?? 20_000), inflight, warm.jobs);
process.stdout.write(
  `${JSON.stringify({ reqPerSec: (run.jobs / run.elapsedMs) * 1000, cpuUsPerJob: run.cpuUs / run.jobs, failures: run.errors + run.nonOk })}\n`,
);
await runtime.close();
