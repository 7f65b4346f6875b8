/**
 * The job runner one workflow run hands its nodes: the executor's runner with the run's HTTP limits.
 *
 * - A cap on HTTP calls per run (`maxHttpCallsPerRun`, the Go engine's `MaxHTTPCallsPerExec`, 100 in its
 *   DefaultConfig): every `run` counts, before anything is sent, as Go's `IncrementHTTPCall` does; the
 *   call past the cap fails with {@link WORKFLOW_HTTP_CALL_LIMIT} and is never sent. It guards against a
 *   runaway workflow (and an engine's own node types go through the same runner, so they count too).
 * - Go's redirect limit: a job that does not set `maxRedirects` gets the run's (9 by default: Go's client
 *   stops at the 10th redirect, `len(via) >= MaxHTTPRedirects`). The runtime's own default applies only
 *   to jobs outside workflows.
 */
import { NodeError } from './errors.js';
import type { JobRunner } from './registry.js';

/** An HTTP call past the run's `maxHttpCallsPerRun`: it was not sent. */
export const WORKFLOW_HTTP_CALL_LIMIT = 'WORKFLOW_HTTP_CALL_LIMIT';

export interface RunLimits {
  /** 0: no cap. */
  readonly maxHttpCallsPerRun: number;
  readonly maxRedirects: number;
}

export function runLimitedRunner(runner: JobRunner, limits: RunLimits): JobRunner {
  let calls = 0;
  return {
    run(job, options) {
      calls++;
      if (limits.maxHttpCallsPerRun > 0 && calls > limits.maxHttpCallsPerRun) {
        // Go's words, so that a check written against Go's message still matches; then the option's name.
        return Promise.reject(
          new NodeError(
            WORKFLOW_HTTP_CALL_LIMIT,
            `maximum HTTP calls per execution exceeded: ${String(calls)} (limit: ${String(limits.maxHttpCallsPerRun)}, the executor's maxHttpCallsPerRun)`,
          ),
        );
      }
      return runner.run(job.maxRedirects === undefined ? { ...job, maxRedirects: limits.maxRedirects } : job, options);
    },
  };
}
