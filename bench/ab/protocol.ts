/**
 * The same-process A/B harness: what the orchestrator hands its child (one workload, every client) and what
 * the child prints back. Plain data only.
 */
import type { VariantName, Workload } from '../flood/protocol.js';

/** One client of the comparison: a variant of flood/variants.ts, with its own worker count. */
export interface AbClient {
  readonly label: string;
  readonly variant: VariantName;
  readonly workers: number;
}

export interface AbSpec {
  readonly origins: readonly string[];
  readonly path: string;
  readonly workload: Workload;
  readonly inflight: number;
  readonly connectionsPerHost: number;
  readonly heavyTransform: string;
  /** Jobs each client runs, unmeasured, before the first round. */
  readonly warmup: number;
  /** Jobs each client runs per round. */
  readonly block: number;
  readonly rounds: number;
  readonly clients: readonly AbClient[];
}

/** One client's block of one round. */
export interface AbBlock {
  readonly label: string;
  readonly reqPerSec: number;
  readonly usPerJob: number;
  /** CPU of the whole process (every thread) per job: the other clients are idle meanwhile. */
  readonly cpuUsPerJob: number;
  /** CPU of the main thread per job (Linux /proc, 10 ms ticks); undefined elsewhere. */
  readonly mainCpuUsPerJob: number | undefined;
  readonly failures: number;
}

/** The child's one line of output: blocks by round, in the order they ran. */
export interface AbReport {
  readonly rounds: readonly (readonly AbBlock[])[];
}
