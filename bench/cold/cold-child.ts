/**
 * One cold start, in a fresh process: a new client runs its first jobs over 8 hosts, 256 in flight, and the
 * child prints one JSON line. flowpool is timed from `createRuntime` (its workers boot meanwhile: what an
 * engine that floods at once sees) and, as `flowpool-ready`, from the moment `runtime.ready()` resolved.
 * Usage: node cold-child.js <variant> <workers> <jobs> <origin,origin,...>
 */
import { Agent, request } from 'undici';
import { createRuntime } from '../../src/index.js';
import { drive, type Fire } from '../flood/load.js';

export type ColdVariant = 'undici-fastest' | 'undici' | 'flowpool' | 'flowpool-ready';

export interface ColdResult {
  /** From creating the client to the last job's body read, ms. */
  readonly totalMs: number;
  /** flowpool-ready: from createRuntime to ready(), ms (not in totalMs). */
  readonly readyMs?: number;
  readonly failures: number;
}

const INFLIGHT = 256;
const PATH = '/item';

async function main(variant: ColdVariant, workers: number, jobs: number, origins: readonly string[]) {
  const urls = origins.map((origin) => `${origin}${PATH}`);
  const started = performance.now();
  if (variant === 'undici' || variant === 'undici-fastest') {
    const agent = new Agent({ connections: 16 });
    const fire: Fire =
      variant === 'undici'
        ? async (i) => {
            const { statusCode, body } = await request(urls[i % urls.length] ?? '', { dispatcher: agent });
            await body.text();
            return statusCode;
          }
        : async (i) => {
            const origin = origins[i % origins.length] ?? '';
            const { statusCode, body } = await agent.request({ origin, path: PATH, method: 'GET' });
            await body.text();
            return statusCode;
          };
    const run = await drive(fire, jobs, INFLIGHT, 0);
    const totalMs = performance.now() - started;
    await agent.close();
    return { totalMs, failures: run.errors + run.nonOk };
  }
  const runtime = createRuntime({ workers, connectionsPerHost: 16, policy: { allow: ['127.0.0.0/8'] } });
  let readyMs: number | undefined;
  let from = started;
  if (variant === 'flowpool-ready') {
    await runtime.ready();
    from = performance.now();
    readyMs = from - started;
  }
  const fire: Fire = async (i) => (await runtime.run({ url: urls[i % urls.length] ?? '' })).status;
  const run = await drive(fire, jobs, INFLIGHT, 0);
  const totalMs = performance.now() - from;
  await runtime.close();
  return { totalMs, ...(readyMs === undefined ? {} : { readyMs }), failures: run.errors + run.nonOk };
}

const [variant, workers, jobs, origins] = process.argv.slice(2);
main(variant as ColdVariant, Number(workers), Number(jobs), (origins ?? '').split(',')).then(
  (result: ColdResult) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`cold child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
