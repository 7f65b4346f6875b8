/** flowpool's public surface: named re-exports only. */
export { createRuntime } from './runtime.js';
export type { HttpResult, Runtime, RunOptions } from './runtime.js';
export type { SavedFile, TypedHttpResult, TypedRun } from './result-types.js';
export type { CookieJarLike } from './cookies.js';
export type { RunManyOptions, RunManyResult } from './run-many.js';
export { FlowpoolError, FLOWPOOL_ERROR_CODES, isFlowpoolError } from './errors.js';
export type { FlowpoolErrorCode, FlowpoolErrorDetails, TimeoutPhase } from './errors.js';
export type {
  FlowpoolErrorOf,
  FlowpoolErrorDetailsOf,
  FlowpoolErrorCommonDetails,
  FlowpoolErrorSpecificDetails,
  FlowpoolErrorOptions,
} from './errors.js';
export { DEFAULTS, runtimeOptionsSchema } from './options.js';
export type { RuntimeOptions, ResolvedOptions } from './options.js';
export { jobSchema } from './job.js';
export type { HttpJob } from './job.js';
export type { ResponseType } from './protocol.js';
export type { RuntimeStats, WorkerView, HostView } from './stats.js';
export type { CircuitState } from './traffic/circuit-breaker.js';
export { checkDestination, checkAddress } from './policy/index.js';
export { isRepeatable } from './repeatable.js';
export type { PolicyVerdict, DestinationPolicyInput } from './policy/index.js';
