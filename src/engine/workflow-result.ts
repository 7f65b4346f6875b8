/** What one workflow run gives back: a result per node and the run's status (the executor's own shape). */
import type { NodeErrorInfo } from './errors.js';

export type NodeStatus = 'success' | 'error' | 'skipped';

export interface NodeResult {
  readonly id: string;
  readonly type: string;
  readonly status: NodeStatus;
  /** The node's output, when it succeeded. */
  readonly output?: unknown;
  /** What it failed with, when it failed (handled or not). */
  readonly error?: NodeErrorInfo;
  /** Time from start to finish, for nodes that ran. */
  readonly durationMs?: number;
}

export interface WorkflowResult {
  /** `error` when a node failed without an error edge, the caller aborted the run, or its deadline passed. */
  readonly status: 'success' | 'error';
  /** This run's id: 16 hex characters, as the Go engine makes them. */
  readonly executionId: string;
  /** The caller's `workflowId`, or the workflow's `workflow_id`. */
  readonly workflowId?: string;
  /** One result per node, in the workflow's `nodes` order. */
  readonly nodes: readonly NodeResult[];
  /** The node whose unhandled error failed the workflow. */
  readonly failedNode?: string;
  /** That node's error, `WORKFLOW_ABORTED` or `WORKFLOW_TIMEOUT`. */
  readonly error?: NodeErrorInfo;
  readonly durationMs: number;
}
