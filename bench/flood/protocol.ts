/**
 * Every message between the orchestrator and a load child (one variant of the flood, CPU-heavy or
 * sequential suite, in a process of its own so its RSS and CPU are its own). Plain data only.
 *
 * Order: parent `start` -> child runs the warm-up -> child `warmed` -> parent snapshots the target's
 * counts -> parent `go` -> child runs the measured jobs -> child `result` (or `failed`) -> child exits.
 */

export const VARIANTS = [
  'flowpool',
  'flowpool-least-busy',
  'flowpool-large-nursery',
  'flowpool-tenants',
  'undici',
  'undici-fastest',
  'no-pooling',
  'naive-piscina',
  'fetch',
  'axios',
] as const;
export type VariantName = (typeof VARIANTS)[number];

/** `small`: read the ~229 B body as text. `heavy`: parse the ~50 KB JSON and run the heavy transform. */
export type Workload = 'small' | 'heavy';

export interface LoadSpec {
  readonly suite: string;
  readonly variant: VariantName;
  /** Target origins; job i goes to `origins[i % origins.length] + path`. */
  readonly origins: readonly string[];
  readonly path: string;
  readonly workload: Workload;
  /** Warm-up jobs, run (and not measured) before the snapshot. */
  readonly warmup: number;
  /** Measured jobs. */
  readonly jobs: number;
  /** Jobs in flight at once. */
  readonly inflight: number;
  /** Worker threads of the flowpool and naive-piscina variants. */
  readonly workers: number;
  /** Connections per host of every pooled variant (per worker for naive-piscina, which has no global cap). */
  readonly connectionsPerHost: number;
  /** Absolute path of the built heavy transform module. */
  readonly heavyTransform: string;
  /** HTTPS targets: the CA to trust, and whether to negotiate HTTP/2. */
  readonly tls?: { readonly ca: string; readonly allowH2: boolean };
}

export interface ChildResult {
  readonly jobs: number;
  readonly elapsedMs: number;
  readonly reqPerSec: number;
  /** Per request, from submission to the body read (and transformed, for `heavy`). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Responses with a status other than 200. */
  readonly nonOk: number;
  /** Requests that threw. */
  readonly errors: number;
  readonly firstError?: string;
  /** Event-loop active time of the child's main thread over the measured run, per job (wall time). */
  readonly mainThreadUsPerJob: number;
  /** CPU time of the child's main thread over the measured run, per job (Linux /proc; absent elsewhere). */
  readonly mainThreadCpuUsPerJob?: number;
  /** CPU of the whole child process (every thread) over the measured run, per job. */
  readonly processCpuUsPerJob: number;
  /** `process.resourceUsage().maxRSS` at the end of the measured run. */
  readonly peakRssMb: number;
  /** flowpool only: RSS added by starting the runtime, divided by its workers, before any job ran. */
  readonly workerRssAtRestMb?: number;
  /** flowpool only: how many measured jobs each worker ran (shows whether the load spread). */
  readonly jobsPerWorker?: readonly number[];
}

export type ParentMessage = { readonly type: 'start'; readonly spec: LoadSpec } | { readonly type: 'go' };

export type ChildMessage =
  | { readonly type: 'warmed' }
  | { readonly type: 'result'; readonly result: ChildResult }
  | { readonly type: 'failed'; readonly message: string };
