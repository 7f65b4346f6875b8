/**
 * flowpool's public surface: named re-exports only.
 *
 * @module flowpool
 */
export { createRuntime } from './api/runtime.js';
export type { HttpResult, Runtime, RunOptions } from './api/runtime.js';
export type { SavedFile, TypedHttpResult, TypedRun } from './api/result-types.js';
export type { CookieJarLike } from './job/cookie-jar.js';
export type { RunManyOptions, RunManyResult } from './api/run-many.js';
export { FlowpoolError, FLOWPOOL_ERROR_CODES, isFlowpoolError } from './errors/flowpool-error.js';
export type {
  FlowpoolErrorCauseJSON,
  FlowpoolErrorCode,
  FlowpoolErrorDetails,
  FlowpoolErrorJSON,
  HookName,
  TimeoutPhase,
} from './errors/flowpool-error.js';
export type {
  FlowpoolErrorOf,
  FlowpoolErrorDetailsOf,
  FlowpoolErrorCommonDetails,
  FlowpoolErrorSpecificDetails,
  FlowpoolErrorOptions,
} from './errors/flowpool-error.js';
export type {
  AfterResponseContext,
  BeforeRequestContext,
  BeforeRetryContext,
  HookJob,
  HookRetryRequest,
  RuntimeHooks,
  RuntimeOptions,
} from './api/hook-types.js';
export type {
  TlsOptions,
  HostTlsOptions,
  HostLimitOptions,
  TenantOptions,
  ProfileSettings,
  Pem,
  ResolvedRuntimeOptions,
  ResolvedRuntimeOptions as ResolvedOptions,
  AuthOptions,
  JobRetryOptions,
  MetricsOptions,
} from './config/runtime-options.js';
export type { HttpJob, HttpJobFields, FormValue, JobBodyChoice, JobResponseChoice } from './job/http-job.js';
export type { ResponseType } from './wire/protocol.js';
export type { RuntimeStats, WorkerView, HostView, TenantView } from './observe/stats.js';
export type {
  RequestEndMessage,
  RequestErrorMessage,
  RequestMessage,
  RequestTimings,
} from './observe/request-channels.js';
export type { HostTrafficStats } from './traffic/traffic-stats.js';
export type { DurationSeries, MetricLabelOptions, RequestDurationsSnapshot } from './traffic/request-durations.js';
export type { CircuitState } from './traffic/circuit-breaker.js';
export { checkDestination, checkAddress } from './policy/index.js';
export type { PolicyVerdict, DestinationPolicyInput } from './policy/index.js';
