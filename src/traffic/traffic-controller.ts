/**
 * Per-host traffic control on the main thread, where every job to every host passes: admission
 * (circuit breaker, then token bucket), the concurrency cap handed to the coordinator, the retry
 * decision (which outcomes, backoff or Retry-After, the retry budget), and per-host counters.
 * Pure logic over an injected clock. A host's state is part of its origin's one record: it is created with
 * the origin and dropped when the coordinator forgets the origin (see `forget`).
 */
import type { HostTrafficStats, TrafficSnapshot } from './traffic-stats.js';
import type { FlowpoolErrorCode } from '../errors/flowpool-error.js';
import type { NormalizedJob } from '../job/job.js';
import type { ResolvedOptions } from '../config/options.js';
import { fullJitterDelay, parseRetryAfter } from './backoff.js';
import type { OriginRules } from '../scheduling/coordinator.js';
import { DEFAULT_TENANT } from '../scheduling/tenants.js';
import { CircuitBreaker, type AttemptVerdict, type CircuitState, type PassKind } from './circuit-breaker.js';
import type { Clock } from './clock.js';
import { HostPatterns } from '../policy/host-patterns.js';
import { LatencyHistogram } from './latency-histogram.js';
import { RequestDurations } from './request-durations.js';
import { RetryBudget } from './retry-budget.js';
import { TokenBucket } from './token-bucket.js';

type HostLimit = ResolvedOptions['hostLimits'][string];

export type Admission =
  | { readonly kind: 'go'; /** How the breaker let it through; report the attempt with it. */ readonly pass: PassKind }
  | { readonly kind: 'circuit-open'; readonly retryInMs: number };

/** How one attempt ended, as far as traffic control cares. */
export type AttemptResult =
  | { readonly ok: true; readonly status: number; readonly headers: Record<string, string | string[]> }
  | { readonly ok: false; readonly code: FlowpoolErrorCode };

export type { HostTrafficStats, TrafficSnapshot } from './traffic-stats.js';

export interface TrafficEvents {
  onCircuitChange(origin: string, from: CircuitState, to: CircuitState): void;
}

interface HostState {
  readonly origin: string;
  readonly bucket: TokenBucket | undefined;
  readonly concurrency: number;
  readonly breaker: CircuitBreaker | undefined;
  readonly budget: RetryBudget;
  readonly latency: LatencyHistogram;
  readonly errorsByCode: Partial<Record<FlowpoolErrorCode, number>>;
  readonly statuses: Record<string, number>;
  requests: number;
  responses: number;
  retries: number;
  retriesDenied: number;
}

/** Failures that say the host is unwell (not the job, the policy or the caller). */
/** `host:port` of an origin with the port always written (`api.test:443`), so keys with it match. */
function hostAndPort(origin: string): string {
  const url = new URL(origin);
  return `${url.hostname}:${url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port}`;
}

/** The status class keys, made once rather than a string per response. */
const STATUS_CLASSES: readonly string[] = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

const PASS: Admission = { kind: 'go', pass: 'pass' };
const PROBE: Admission = { kind: 'go', pass: 'probe' };

const BREAKER_FAILURES: ReadonlySet<FlowpoolErrorCode> = new Set(['FLOWPOOL_CONNECTION_FAILED', 'FLOWPOOL_TIMEOUT']);
/** Outcomes that say nothing about the host's health. */
const BREAKER_NEUTRAL: ReadonlySet<FlowpoolErrorCode> = new Set([
  'FLOWPOOL_ABORTED',
  'FLOWPOOL_CLOSED',
  'FLOWPOOL_QUEUE_FULL',
  'FLOWPOOL_WORKER_CRASHED',
  'FLOWPOOL_BLOCKED_DESTINATION',
  'FLOWPOOL_INVALID_JOB',
  'FLOWPOOL_TRANSFORM_FAILED',
]);

export class TrafficController {
  readonly #options: ResolvedOptions;
  readonly #clock: Clock;
  readonly #events: TrafficEvents;
  readonly #limits: HostPatterns<HostLimit>;
  readonly #hosts = new Map<string, HostState>();
  readonly #durations: RequestDurations;
  readonly #random: () => number;
  /** Wall-clock milliseconds, for Retry-After dates (absolute times). */
  readonly #wallNow: () => number;

  constructor(
    options: ResolvedOptions,
    clock: Clock,
    events: TrafficEvents,
    random: () => number = Math.random,
    wallNow: () => number = Date.now,
  ) {
    this.#options = options;
    this.#clock = clock;
    this.#events = events;
    this.#limits = new HostPatterns(options.hostLimits);
    this.#durations = new RequestDurations(options.metrics);
    this.#random = random;
    this.#wallNow = wallNow;
  }

  /** Whether a job to `origin` may go now, as far as its circuit breaker is concerned. */
  admit(origin: string, hostname: string): Admission {
    const host = this.#host(origin, hostname);
    if (host.breaker === undefined) return PASS;
    const pass = host.breaker.tryPass();
    if (pass === undefined) return { kind: 'circuit-open', retryInMs: host.breaker.retryInMs };
    return pass === 'probe' ? PROBE : PASS;
  }

  /**
   * An admitted job ended without an attempt outcome (cancelled or timed out while queued, refused by
   * a full queue): gives its admission back, so a half-open circuit's probe slot is never lost.
   */
  releaseAdmission(origin: string, pass: PassKind): void {
    this.#hosts.get(origin)?.breaker?.record(pass, 'neutral');
  }

  /**
   * The origin's concurrency cap and rate gate (`hostLimits`), for the coordinator, which applies them
   * at the moment of dispatch.
   */
  originRules(origin: string, hostname: string, hostWithPort?: string): OriginRules {
    const host = this.#host(origin, hostname, hostWithPort);
    return {
      concurrency: host.concurrency,
      rate: host.bucket,
      retained: () => (host.breaker !== undefined && host.breaker.state !== 'closed') || host.budget.active,
    };
  }

  /** The coordinator forgot the origin (its one eviction rule): its traffic state goes with it. */
  forget(origin: string): void {
    this.#hosts.delete(origin);
  }

  /** A job arrived (its first attempt): counts toward the host's requests and its retry budget's base. */
  recordFirstAttempt(origin: string, hostname: string): void {
    const host = this.#host(origin, hostname);
    host.requests++;
    host.budget.recordRequest();
  }

  /**
   * Feeds the breaker (with how the attempt was admitted), the counters and the request-duration histogram
   * with how an attempt ended. `latencyMs` is 0 for an attempt nobody timed (answered after its caller
   * was, lost with its worker, aborted): those are not observed.
   */
  recordAttempt(
    origin: string,
    result: AttemptResult,
    latencyMs: number,
    pass: PassKind,
    tenant: string = DEFAULT_TENANT,
  ): void {
    if (latencyMs > 0) this.#durations.observe(origin, tenant, latencyMs / 1000);
    const host = this.#hosts.get(origin);
    if (host === undefined) return;
    let verdict: AttemptVerdict;
    if (result.ok) {
      host.responses++;
      host.latency.record(latencyMs);
      const statusClass = STATUS_CLASSES[Math.floor(result.status / 100)] ?? `${Math.floor(result.status / 100)}xx`;
      host.statuses[statusClass] = (host.statuses[statusClass] ?? 0) + 1;
      const breakerOptions = this.#options.circuitBreaker;
      verdict = breakerOptions !== false && breakerOptions.failOn5xx && result.status >= 500 ? 'failure' : 'success';
    } else {
      host.errorsByCode[result.code] = (host.errorsByCode[result.code] ?? 0) + 1;
      verdict = BREAKER_FAILURES.has(result.code)
        ? 'failure'
        : BREAKER_NEUTRAL.has(result.code)
          ? 'neutral'
          : 'success';
    }
    host.breaker?.record(pass, verdict);
  }

  /**
   * Whether to retry after an attempt, and after how long: the outcome must be one the settings retry,
   * the job idempotent, attempts left, the wait (Retry-After for 429/503, else backoff) within the
   * deadline, and the host's retry budget not spent. `attempts` counts the runs so far.
   */
  retryDelay(
    origin: string,
    job: NormalizedJob,
    attempts: number,
    result: AttemptResult,
    remainingMs: number,
  ): number | undefined {
    const settings = job.retry;
    const maxAttempts = settings.attempts;
    if (attempts >= maxAttempts || !job.repeatable) return undefined;
    let delay: number | undefined;
    if (result.ok) {
      const statuses = settings.statuses;
      if (!statuses.includes(result.status)) return undefined;
      if (result.status === 429 || result.status === 503)
        delay = parseRetryAfter(result.headers['retry-after'], this.#wallNow());
    } else {
      const codes: readonly string[] = settings.errorCodes;
      if (!codes.includes(result.code)) return undefined;
    }
    if (delay === undefined) {
      const base = settings.minDelayMs;
      const cap = settings.maxDelayMs;
      delay = fullJitterDelay(attempts, base, cap, this.#random);
    }
    // A wait that outlasts the deadline would only turn a real answer into a timeout.
    if (delay >= remainingMs) return undefined;
    const host = this.#hosts.get(origin);
    if (host !== undefined) {
      if (!host.budget.tryRetry()) {
        host.retriesDenied++;
        return undefined;
      }
      host.retries++;
    }
    return delay;
  }

  snapshot(limit = 1000): TrafficSnapshot {
    return { hosts: this.#hostStats(limit), requestDurations: this.#durations.snapshot() };
  }

  #hostStats(limit: number): HostTrafficStats[] {
    const out: HostTrafficStats[] = [];
    for (const host of this.#hosts.values()) {
      if (out.length >= limit) break;
      out.push({
        origin: host.origin,
        requests: host.requests,
        responses: host.responses,
        errorsByCode: { ...host.errorsByCode },
        statuses: { ...host.statuses },
        retries: host.retries,
        retriesDenied: host.retriesDenied,
        latencyP50Ms: host.latency.percentile(0.5),
        latencyP99Ms: host.latency.percentile(0.99),
        circuit: host.breaker?.state ?? 'off',
        limiterWaits: host.bucket?.deferrals ?? 0,
      });
    }
    return out;
  }

  #host(origin: string, hostname: string, hostWithPort?: string): HostState {
    const existing = this.#hosts.get(origin);
    if (existing !== undefined) return existing;
    // No cap of its own: an entry ends when the coordinator forgets the origin (forget()), by the one rule
    // that keeps an origin with jobs, sockets, an open circuit or a retry budget in use. Until then it is
    // one of the coordinator's maxOrigins records or belongs to a job waiting for one.
    const limit = this.#limits.match(hostname, hostWithPort ?? hostAndPort(origin));
    const breakerOptions = this.#options.circuitBreaker;
    const budget = this.#options.retryBudget;
    const host: HostState = {
      origin,
      bucket:
        limit?.rps === undefined
          ? undefined
          : new TokenBucket(limit.rps, limit.burst ?? Math.max(1, Math.ceil(limit.rps)), this.#clock),
      concurrency: limit?.concurrency ?? Infinity,
      breaker:
        breakerOptions === false
          ? undefined
          : new CircuitBreaker(breakerOptions.failureThreshold, breakerOptions.cooldownMs, this.#clock, (from, to) =>
              this.#events.onCircuitChange(origin, from, to),
            ),
      budget: new RetryBudget(budget.ratio, budget.minRetries, budget.windowMs, this.#clock),
      latency: new LatencyHistogram(),
      errorsByCode: {},
      statuses: {},
      requests: 0,
      responses: 0,
      retries: 0,
      retriesDenied: 0,
    };
    this.#hosts.set(origin, host);
    return host;
  }
}
