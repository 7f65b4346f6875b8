/**
 * createRuntime(): wires options, policy, traffic rules, coordinator, shards and the job pipeline, and checks
 * what callers pass before anything is queued. What happens to a job after that is the pipeline's
 * (lifecycle/job-pipeline.ts); each job settles exactly once (lifecycle/job-run.ts).
 */
import { ConnectionCounters } from '../wire/connection-counters.js';
import { Coordinator } from '../scheduling/coordinator.js';
import { circuitChangeChannel } from '../observe/diagnostics.js';
import { FlowpoolError } from '../errors/flowpool-error.js';
import { normalizeJob, type JobDefaults, type NormalizedJob } from '../job/job.js';
import type { HttpJob } from '../job/http-job.js';
import { PlainJobs } from '../job/plain-job.js';
import { callerStopped, JobPipeline, withJobId } from '../lifecycle/job-pipeline.js';
import type { JobRun } from '../lifecycle/job-run.js';
import { renderMetrics } from '../observe/metrics.js';
import { parseOptions, type ResolvedOptions } from '../config/options.js';
import type { ProfileSettings, ResolvedRuntimeOptions } from '../config/runtime-options.js';
import { CallerHooks, takeHooks } from './hooks.js';
import type { RuntimeHooks, RuntimeOptions } from './hook-types.js';
import { DestinationPolicy } from '../policy/index.js';
import type { HttpResult } from '../job/result.js';
import { parseRunManyArguments, parseRunOptions, type ParsedRunManyArguments } from './run-arguments.js';
import { runMany, type RunManyOptions, type RunManyResult } from './run-many.js';
import { Shards } from '../threads/shards.js';
import { combineStats, RuntimeCounters, type RuntimeStats } from '../observe/stats.js';
import { systemClock } from '../traffic/clock.js';
import { TrafficController } from '../traffic/traffic-controller.js';
import type { RunOptions, TypedHttpResult, TypedRun } from './result-types.js';

export type { RunOptions } from './result-types.js';
import { coordinatorConfig } from './coordinator-config.js';
import { ProfileTable } from './profile-table.js';

export type { HttpResult } from '../job/result.js';
export type { RuntimeOptions } from './hook-types.js';

/** The runtime an engine embeds. */
export interface Runtime {
  /**
   * Runs one job. Resolves for any HTTP status; rejects only with {@link FlowpoolError}. The body's type
   * follows the job: `run<T>()` types a JSON body (or a transform's result), see {@link TypedRun}.
   */
  run: TypedRun;
  /**
   * Runs jobs from any (async) iterable with at most `concurrency` in flight, yielding settled results
   * in completion order. Reads its input only as fast as results are consumed, so memory stays bounded.
   */
  runMany<J extends HttpJob, T = unknown>(
    jobs: Iterable<J> | AsyncIterable<J>,
    options?: RunManyOptions,
  ): AsyncIterable<RunManyResult<J, T>>;
  /** Resolves once every worker has loaded and can take jobs (jobs submitted earlier simply wait). */
  ready(): Promise<void>;
  /** Per worker, per host and total counters. */
  stats(): Promise<RuntimeStats>;
  /** The same counters in the Prometheus text exposition format (for a `/metrics` endpoint). */
  metrics(): Promise<string>;
  /** Stops accepting jobs, lets queued and running ones finish, then stops the workers. Idempotent. */
  close(): Promise<void>;
  /** Rejects every queued and running job with `FLOWPOOL_CLOSED` and stops the workers. Idempotent. */
  destroy(): Promise<void>;
  /**
   * Adds or replaces a profile while running (credential rotation): jobs submitted from now on use the new
   * settings; requests in flight finish on the old ones, whose connections close once idle. Rejects with
   * `FLOWPOOL_INVALID_OPTIONS` naming the field (`options.profiles.<name>.tls.ca`) and changes nothing.
   */
  setProfile(name: string, settings: ProfileSettings): Promise<void>;
  /** The options in force, defaults filled in. */
  readonly options: ResolvedRuntimeOptions;
}

/**
 * Creates a runtime. Options are validated synchronously: bad ones throw `FLOWPOOL_INVALID_OPTIONS` naming
 * the option path, what was expected and what was received.
 */
export function createRuntime(options?: RuntimeOptions): Runtime {
  const { rest, hooks } = takeHooks(options);
  return new FlowpoolRuntime(parseOptions(rest), hooks);
}

/** Origins forgotten when idle (and without open sockets) this often. */
const SWEEP_INTERVAL_MS = 5_000;

class FlowpoolRuntime implements Runtime {
  readonly options: ResolvedOptions;
  readonly #policy: DestinationPolicy;
  readonly #coordinator: Coordinator<JobRun>;
  readonly #shards: Shards;
  readonly #stats: RuntimeCounters;
  readonly #traffic: TrafficController;
  readonly #pipeline: JobPipeline;
  readonly #sweepTimer: NodeJS.Timeout;
  readonly #plainJobs: PlainJobs;
  readonly #profiles: ProfileTable;
  /** The options as the full job parser reads them, with the profiles to look a job's up in. */
  readonly #jobDefaults: JobDefaults;
  /** The caller's hooks; undefined for a runtime without any (its jobs never look further). */
  readonly #hooks: CallerHooks | undefined;
  #closing: Promise<void> | undefined;
  #destroying: Promise<void> | undefined;

  constructor(options: ResolvedOptions, hooks: RuntimeHooks | undefined) {
    this.options = options;
    this.#policy = DestinationPolicy.compile(options.policy);
    const profiles = new ProfileTable(options, this.#policy);
    this.#profiles = profiles;
    this.#plainJobs = new PlainJobs(options, this.#policy, (name) => profiles.plainNamed(name));
    this.#jobDefaults = { ...options, profileNamed: (name) => profiles.named(name) };
    // What a hook returns is validated as run() validates a job: the plain path, else the full parser.
    this.#hooks = hooks === undefined ? undefined : new CallerHooks(hooks, (input) => this.#validate(input));
    const counters = ConnectionCounters.allocate(options.maxOrigins, options.workers);
    this.#stats = new RuntimeCounters(options.workers, Object.keys(options.tenants));
    this.#traffic = new TrafficController(options, systemClock, {
      onCircuitChange: (origin, from, to) => {
        if (circuitChangeChannel.hasSubscribers) circuitChangeChannel.publish({ origin, from, to });
      },
    });
    this.#coordinator = new Coordinator<JobRun>(
      coordinatorConfig(options, this.#traffic, () => {
        this.#pipeline.dispatchPlaced();
      }),
      counters,
    );
    this.#shards = new Shards(options, counters);
    for (const [index, profile] of profiles.workerProfiles()) this.#shards.setProfile(index, profile);
    const pipeline = new JobPipeline({
      options,
      coordinator: this.#coordinator,
      shards: this.#shards,
      traffic: this.#traffic,
      stats: this.#stats,
    });
    this.#pipeline = pipeline;
    // Jobs wait in the coordinator (where limits apply) until each worker has booted.
    for (let shard = 0; shard < options.workers; shard++) this.#coordinator.setReady(shard, false);
    this.#shards.listen({
      onLinkLost: (link, error) => {
        pipeline.onLinkLost(link, error);
      },
      onOutcome: (id, outcome) => {
        pipeline.onOutcome(id, outcome);
      },
      onBatchFailed: (ids, error) => {
        pipeline.onBatchFailed(ids, error);
      },
      onWorkerLost: (shard) => {
        this.#stats.restarts[shard] = (this.#stats.restarts[shard] ?? 0) + 1;
        this.#coordinator.setReady(shard, false);
        this.#coordinator.workerLost(shard);
      },
      onWorkerReady: (shard) => {
        this.#coordinator.setReady(shard, true);
        pipeline.dispatchPlaced();
      },
    });
    // A job submitted before every worker has started begins its timeoutMs when they have (or when one takes it).
    void this.#shards.ready().then(() => {
      pipeline.workersStarted();
    });
    this.#sweepTimer = setInterval(() => {
      // A forgotten origin frees a counter row: jobs waiting for one may be placed now.
      if (this.#coordinator.sweep() > 0) pipeline.dispatchPlaced();
    }, SWEEP_INTERVAL_MS);
    this.#sweepTimer.unref();
  }

  // Generic so that it satisfies every overload of TypedRun; the worker produced the body the job asked for.
  run<B>(job: HttpJob, options?: RunOptions): Promise<TypedHttpResult<B>> {
    return new Promise<TypedHttpResult<B>>((resolve, reject) => {
      this.#submit(job, options, resolve as (result: HttpResult) => void, reject, false);
    });
  }

  runMany<J extends HttpJob, T = unknown>(
    jobs: Iterable<J> | AsyncIterable<J>,
    options?: RunManyOptions,
  ): AsyncIterable<RunManyResult<J, T>> {
    let parsed: ParsedRunManyArguments;
    try {
      parsed = parseRunManyArguments(jobs, options);
    } catch (thrown) {
      // Like run(), runMany() never throws at the call: its iteration rejects, with a FlowpoolError.
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      return {
        [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
      };
    }
    return runMany(
      parsed.jobs,
      parsed,
      (job, signal) =>
        new Promise<HttpResult>((resolve, reject) => {
          // runMany bounds its own concurrency, so it may queue past maxQueue instead of failing.
          this.#submit(job, signal === undefined ? undefined : { signal }, resolve, reject, true);
        }),
    );
  }

  ready(): Promise<void> {
    return this.#shards.ready();
  }

  setProfile(name: string, settings: ProfileSettings): Promise<void> {
    try {
      const [index, profile] = this.#profiles.set(name, settings);
      // On each job port, ahead of every job normalised from now on: no worker sees a job before its profile.
      this.#shards.setProfile(index, profile);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async stats(): Promise<RuntimeStats> {
    const workers = await this.#shards.workerStats();
    return combineStats(
      this.#stats,
      this.#coordinator.snapshot(),
      this.#traffic.snapshot(),
      workers,
      this.#shards.threadIds(),
    );
  }

  async metrics(): Promise<string> {
    return renderMetrics(await this.stats());
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#pipeline.whenIdle();
      this.#pipeline.stop();
      clearInterval(this.#sweepTimer);
      await this.#shards.close();
    })();
    // close() after destroy() resolves once destroy() has stopped the workers, not before.
    return this.#destroying ?? this.#closing;
  }

  destroy(): Promise<void> {
    this.#destroying ??= (async () => {
      clearInterval(this.#sweepTimer);
      this.#pipeline.destroyAll();
      await this.#shards.destroy();
    })();
    return this.#destroying;
  }

  /** Most jobs are plain ({ url } and a few simple fields): checked and judged without the schema. */
  #validate(input: unknown): NormalizedJob {
    return this.#plainJobs.normalize(input) ?? this.#normalize(input);
  }

  /** The full parser, for every job the plain path does not take; then the policy on its URL. */
  #normalize(input: unknown): NormalizedJob {
    const job = normalizeJob(input, this.#jobDefaults);
    const verdict = this.#profiles.policyOf(job.profile).checkUrl(new URL(job.href));
    if (!verdict.allowed) {
      const reason = verdict.reason ?? 'blocked';
      throw new FlowpoolError(
        'FLOWPOOL_BLOCKED_DESTINATION',
        `destination blocked: ${reason}`,
        withJobId(job, { reason }),
      );
    }
    return job;
  }

  #submit(
    input: unknown,
    options: unknown,
    resolve: (result: HttpResult) => void,
    reject: (error: FlowpoolError) => void,
    overflow: boolean,
  ): void {
    this.#stats.submitted++;
    try {
      if (this.#closing !== undefined || this.#destroying !== undefined) {
        throw new FlowpoolError('FLOWPOOL_CLOSED', 'the runtime is closed');
      }
      const signal = options === undefined ? undefined : parseRunOptions(options).signal;
      const job = this.#validate(input);
      if (signal?.aborted === true) throw callerStopped(job, false, signal.reason);
      const hooks = this.#hooks;
      // Hooks see the job as the caller wrote it (validation has checked that it is an object).
      if (hooks === undefined) this.#pipeline.submit(job, signal, resolve, reject, overflow);
      else this.#pipeline.submit(job, signal, resolve, reject, overflow, hooks.forJob(input as object, job));
    } catch (error) {
      // run() rejects only with FlowpoolError, whatever went wrong before the job was queued.
      const failure =
        error instanceof FlowpoolError
          ? error
          : new FlowpoolError(
              'FLOWPOOL_INVALID_JOB',
              'invalid job: it could not be read',
              { field: 'job' },
              { cause: error },
            );
      this.#stats.recordFailure(failure.code);
      reject(failure);
    }
  }
}
