/**
 * The cost per job of the runtime's request observers: plain `run()` jobs against the loopback target,
 * in one process, the variants interleaved round by round (their order rotated each round):
 * - no tracer provider registered (`@opentelemetry/api` loaded: the baseline every job pays);
 * - a registered BasicTracerProvider whose processor does nothing (spans made, recorded, dropped);
 * - the same with the SDK's SimpleSpanProcessor into an in-memory exporter (bounded: it lets its spans go
 *   every 1,000, so the garbage they make is collected in its own round, not charged to the next variant);
 * - no provider, one `flowpool:request:end` subscriber.
 * Reported per variant: throughput and main-thread CPU per job (the main thread makes the spans and
 * messages; read from /proc for that thread alone), medians over rounds, ratios to the baseline, and
 * the load average around each round. Also the cost of the per-job provider look-up with none
 * registered, timed alone in a loop.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { loadavg } from 'node:os';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createRuntime, type Runtime } from '../src/index.js';
import { RequestSpans } from '../src/observe/request-spans.js';
import type { BenchConfig } from './config.js';
import { mainThreadCpuUs } from './flood/thread-cpu.js';
import { median } from './stats.js';

type VariantName =
  'no provider' | 'provider, no-op processor' | 'provider, in-memory exporter' | 'request:end subscriber';

export interface RequestTracingSummary {
  readonly variants: readonly {
    readonly variant: VariantName;
    readonly jobsPerSecond: number;
    readonly cpuUsPerJob: number;
    readonly throughputRatio: number;
    readonly cpuRatio: number;
  }[];
  /** The look-up each job pays with no provider registered, alone, in ns. */
  readonly lookupNsPerJob: number;
  /** Load average (1 min) read before each round, lowest and highest. */
  readonly load: { readonly min: number; readonly max: number };
  readonly jobs: number;
  readonly rounds: number;
}

const INFLIGHT = 32;

/** The SDK's in-memory exporter, emptied every 1,000 spans. */
class BoundedMemoryExporter implements SpanExporter {
  readonly #inner = new InMemorySpanExporter();

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.#inner.export(spans, done);
    if (this.#inner.getFinishedSpans().length >= 1_000) this.#inner.reset();
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
}

const NOOP_PROCESSOR: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => undefined,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

export async function runRequestTracing(config: BenchConfig, origin: string): Promise<RequestTracingSummary> {
  const jobs = config.mode === 'full' ? 20_000 : 5_000;
  const rounds = Math.max(5, config.rounds);
  const runtime = createRuntime({ workers: 2, policy: { allow: ['127.0.0.0/8'] } });
  const exporter = new BoundedMemoryExporter();
  const noopProvider = new BasicTracerProvider({ spanProcessors: [NOOP_PROCESSOR] });
  const memoryProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let ended = 0;
  const onEnd = (): void => {
    ended++;
  };
  const variants: { readonly name: VariantName; readonly on: () => void; readonly off: () => void }[] = [
    { name: 'no provider', on: () => undefined, off: () => undefined },
    {
      name: 'provider, no-op processor',
      on: () => trace.setGlobalTracerProvider(noopProvider),
      off: () => trace.disable(),
    },
    {
      name: 'provider, in-memory exporter',
      on: () => trace.setGlobalTracerProvider(memoryProvider),
      off: () => trace.disable(),
    },
    {
      name: 'request:end subscriber',
      on: () => subscribe('flowpool:request:end', onEnd),
      off: () => unsubscribe('flowpool:request:end', onEnd),
    },
  ];
  const samples = new Map<VariantName, { rate: number[]; cpu: number[] }>(
    variants.map((v) => [v.name, { rate: [], cpu: [] }]),
  );
  const loads: number[] = [];
  try {
    await batch(runtime, `${origin}/item`, jobs); // warm-up: workers, connections
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < variants.length; k++) {
        const variant = variants[(round + k) % variants.length];
        if (variant === undefined) continue;
        loads.push(loadavg()[0] ?? Number.NaN);
        variant.on();
        const cpuBefore = mainThreadCpuUs() ?? Number.NaN;
        const started = performance.now();
        await batch(runtime, `${origin}/item`, jobs);
        const wallMs = performance.now() - started;
        const cpu = (mainThreadCpuUs() ?? Number.NaN) - cpuBefore;
        variant.off();
        const sample = samples.get(variant.name);
        sample?.rate.push((jobs * 1000) / wallMs);
        sample?.cpu.push(cpu / jobs);
      }
    }
    if (ended !== jobs * rounds)
      throw new Error(`request-tracing bench: ${ended} request:end messages, expected ${jobs * rounds}`);
  } finally {
    trace.disable();
    await Promise.all([noopProvider.shutdown(), memoryProvider.shutdown()]);
    await runtime.close();
  }
  const base = samples.get('no provider');
  const baseRate = median(base?.rate ?? []);
  const baseCpu = median(base?.cpu ?? []);
  return {
    variants: variants.map(({ name }) => {
      const sample = samples.get(name);
      const rate = median(sample?.rate ?? []);
      const cpu = median(sample?.cpu ?? []);
      return {
        variant: name,
        jobsPerSecond: rate,
        cpuUsPerJob: cpu,
        throughputRatio: rate / baseRate,
        cpuRatio: cpu / baseCpu,
      };
    }),
    lookupNsPerJob: lookupCost(),
    load: { min: Math.min(...loads), max: Math.max(...loads) },
    jobs,
    rounds,
  };
}

/** `jobs` plain jobs, INFLIGHT at a time; throws on a non-200. */
async function batch(runtime: Runtime, url: string, jobs: number): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs) {
      next++;
      const result = await runtime.run({ url });
      if (result.status !== 200) throw new Error(`request-tracing bench: status ${result.status}`);
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, lane));
}

/** What `begin()` costs with no provider registered: the median of 5 timed loops of a million calls. */
function lookupCost(): number {
  const spans = new RequestSpans();
  const job = { method: 'GET', href: 'http://127.0.0.1/', headers: [] };
  const calls = 1_000_000;
  const timings: number[] = [];
  let made = 0;
  for (let loop = 0; loop < 5; loop++) {
    const started = performance.now();
    for (let i = 0; i < calls; i++) if (spans.begin(job) !== undefined) made++;
    timings.push(((performance.now() - started) * 1e6) / calls);
  }
  if (made !== 0) throw new Error('request-tracing bench: a trace was begun without a provider');
  return median(timings);
}

export function requestTracingTable(summary: RequestTracingSummary): string {
  const title = `request observers per job (${summary.jobs} plain jobs per round, ${INFLIGHT} in flight, medians of ${summary.rounds} interleaved rounds; ratios to "no provider"; load average ${summary.load.min.toFixed(2)}-${summary.load.max.toFixed(2)})`;
  const lines = summary.variants.map(
    (row) =>
      `${row.variant.padEnd(29)} ${row.jobsPerSecond.toFixed(0).padStart(7)} jobs/s (${row.throughputRatio.toFixed(2)}x)  ${row.cpuUsPerJob.toFixed(1).padStart(6)} us/job main-thread CPU (${row.cpuRatio.toFixed(2)}x)`,
  );
  lines.push(`provider look-up per job, none registered: ${summary.lookupNsPerJob.toFixed(1)} ns`);
  return [title, ...lines].join('\n');
}
