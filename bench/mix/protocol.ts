/**
 * The realistic mix: what the orchestrator hands its child (the targets, the sizes) and what the child
 * prints back (one block per client per round). Plain data only.
 */

export interface MixSpec {
  /** One origin per host of the layout, in its order (the refusing host's included). */
  readonly origins: readonly string[];
  /** Jobs per block (each client runs the same list every round). */
  readonly jobs: number;
  /** Jobs each client runs, unmeasured, before the first round (the list's first jobs). */
  readonly warmup: number;
  readonly rounds: number;
  readonly inflight: number;
  readonly connectionsPerHost: number;
  readonly workers: number;
}

/** Jobs by outcome: an HTTP status (`"200"`, `"503"`) or an error's code (`"ECONNREFUSED"`). */
export type OutcomeCounts = Readonly<Record<string, number>>;

/** One client's block of one round. */
export interface MixBlock {
  readonly label: MixClientName;
  readonly jobs: number;
  readonly jobsPerSec: number;
  /** Main-thread event-loop active time per job, µs (wall time: a descheduled thread still reads active). */
  readonly eluUsPerJob: number;
  /** Main-thread CPU per job, µs (Linux /proc, 10 ms ticks); undefined elsewhere. */
  readonly mainCpuUsPerJob: number | undefined;
  /** CPU of the whole process (every thread) per job, µs: the other client is idle meanwhile. */
  readonly cpuUsPerJob: number;
  /** Quiet tenants' jobs to fast hosts: latency from submission to the parsed body, ms. */
  readonly quietP50Ms: number;
  readonly quietP99Ms: number;
  readonly quietSamples: number;
  readonly outcomes: OutcomeCounts;
}

export type MixClientName = 'flowpool' | 'undici';

/** The child's one line of output: blocks by round, in the order they ran. */
export interface MixReport {
  readonly rounds: readonly (readonly MixBlock[])[];
}
