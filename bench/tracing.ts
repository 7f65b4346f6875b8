/**
 * The cost of tracing per job: the same small workflow (one http node, one text node) run through one
 * executor with tracing off, with `@opentelemetry/api` but no tracer provider (no-op spans), and with
 * the SDK recording every span (SimpleSpanProcessor into an in-memory exporter). Variants alternate
 * round by round against the loopback target process; each round runs `jobs` workflows, `inflight` at
 * a time. Reported per job: wall time and main-thread CPU (where spans are made), medians over rounds,
 * each as a ratio to "off" measured in the same run.
 */
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createRuntime } from '../src/index.js';
import { createExecutor, type WorkflowExecutor } from '../src/engine/index.js';
import type { BenchConfig } from './config.js';
import { median } from './stats.js';

export interface TracingVariantSummary {
  readonly variant: 'off' | 'api, no provider' | 'sdk, in-memory exporter';
  readonly wallUsPerJob: number;
  readonly cpuUsPerJob: number;
  readonly wallRatio: number;
  readonly cpuRatio: number;
}

const INFLIGHT = 16;

export async function runTracing(config: BenchConfig, origin: string): Promise<TracingVariantSummary[]> {
  const jobs = tracingJobs(config);
  const rounds = tracingRounds(config);
  const runtime = createRuntime({ workers: 1, policy: { allow: ['127.0.0.0/8'] } });
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const workflow = {
    nodes: [
      { id: 'fetch', data: { url: `${origin}/item` } },
      { id: 'shout', data: { text_op: 'uppercase' } },
    ],
    edges: [{ source: 'fetch', target: 'shout' }],
  };
  const off = createExecutor(runtime, { tracing: false });
  const on = createExecutor(runtime);
  const valid = off.validate(workflow);
  const variants = [
    { variant: 'off', executor: off, provider: false },
    { variant: 'api, no provider', executor: on, provider: false },
    { variant: 'sdk, in-memory exporter', executor: on, provider: true },
  ] as const;
  const samples = new Map<string, { wall: number[]; cpu: number[] }>(
    variants.map((v) => [v.variant, { wall: [], cpu: [] }]),
  );
  try {
    await batch(on, valid, jobs); // warm-up: workers, connections, the API's first load
    for (let round = 0; round < rounds; round++) {
      for (const { variant, executor, provider: registered } of variants) {
        if (registered) trace.setGlobalTracerProvider(provider);
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        await batch(executor, valid, jobs);
        const wallMs = performance.now() - started;
        const cpu = process.cpuUsage(cpuBefore);
        if (registered) trace.disable();
        exporter.reset();
        const sample = samples.get(variant);
        sample?.wall.push((wallMs * 1000) / jobs);
        sample?.cpu.push((cpu.user + cpu.system) / jobs);
      }
    }
  } finally {
    trace.disable();
    await provider.shutdown();
    await runtime.close();
  }
  const base = samples.get('off');
  const baseWall = median(base?.wall ?? []);
  const baseCpu = median(base?.cpu ?? []);
  return variants.map(({ variant }) => {
    const sample = samples.get(variant);
    const wall = median(sample?.wall ?? []);
    const cpu = median(sample?.cpu ?? []);
    return { variant, wallUsPerJob: wall, cpuUsPerJob: cpu, wallRatio: wall / baseWall, cpuRatio: cpu / baseCpu };
  });
}

/** `jobs` runs of the workflow, INFLIGHT at a time; throws if any run failed. */
async function batch(executor: WorkflowExecutor, workflow: unknown, jobs: number): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs) {
      next++;
      const result = await executor.run(workflow);
      if (result.status !== 'success') throw new Error(`tracing bench: a run failed: ${result.error?.message ?? ''}`);
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, lane));
}

/** Rounds per variant: cheap enough to take five even in quick mode. */
export function tracingRounds(config: BenchConfig): number {
  return Math.max(5, config.rounds);
}

export function tracingJobs(config: BenchConfig): number {
  return config.mode === 'full' ? 2_000 : 400;
}

export function tracingTable(rows: readonly TracingVariantSummary[], config: BenchConfig): string {
  const jobs = tracingJobs(config);
  const lines = rows.map(
    (row) =>
      `${row.variant.padEnd(25)} ${row.wallUsPerJob.toFixed(1).padStart(9)} us/job wall (${row.wallRatio.toFixed(2)}x)  ${row.cpuUsPerJob.toFixed(1).padStart(9)} us/job main-thread CPU (${row.cpuRatio.toFixed(2)}x)`,
  );
  const title = `tracing cost per job (${jobs} workflows per round, ${INFLIGHT} in flight, medians of ${tracingRounds(config)} rounds; ratios to "off")`;
  return [title, ...lines].join('\n');
}
