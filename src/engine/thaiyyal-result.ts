/**
 * The Go engine's result shape (`types.Result`): `execution_id`, `workflow_id` (when there is one),
 * `node_results` keyed by node id, `final_output`, and `errors` as Go words them
 * (`"error executing node <id>: <message>"`). Pure.
 *
 * Where flowpool decides differently from Go (listed in the README): `node_results` holds the nodes that
 * succeeded even when the run failed (Go returns none then); `final_output` is the output of the first
 * terminal node in `nodes` order that is not a context node (Go takes one from a map, in random order);
 * an error handled along an `error` edge is not in `errors` (Go has no error edges). As in Go,
 * `final_output` is null when the run failed (Go sets it only after every node succeeded) and for an
 * empty workflow.
 */
import type { WorkflowResult } from './workflow-result.js';
import type { ValidatedWorkflow } from './schema.js';

export interface ThaiyyalResult {
  readonly execution_id: string;
  readonly workflow_id?: string;
  readonly node_results: Record<string, unknown>;
  readonly final_output: unknown;
  /** Empty when the run succeeded. */
  readonly errors: string[];
}

const CONTEXT_TYPES = new Set(['context_variable', 'context_constant']);

export function toThaiyyalResult(result: WorkflowResult, workflow: ValidatedWorkflow): ThaiyyalResult {
  const nodeResults: Record<string, unknown> = {};
  for (const node of result.nodes) {
    if (node.status === 'success')
      Object.defineProperty(nodeResults, node.id, { value: node.output, enumerable: true });
  }
  const terminal = workflow.nodes.filter((node) => node.outgoing.length === 0 && Object.hasOwn(nodeResults, node.id));
  const final = terminal.find((node) => !CONTEXT_TYPES.has(node.type)) ?? terminal[0];
  const errors: string[] = [];
  if (result.error !== undefined) {
    errors.push(
      result.failedNode === undefined
        ? result.error.message
        : `error executing node ${result.failedNode}: ${result.error.message}`,
    );
  }
  return {
    execution_id: result.executionId,
    ...(result.workflowId === undefined ? {} : { workflow_id: result.workflowId }),
    node_results: nodeResults,
    final_output: final === undefined || result.status === 'error' ? null : nodeResults[final.id],
    errors,
  };
}
