/**
 * `flowpool/engine`, the workflow layer: named re-exports only. Built on flowpool's public API and nothing else.
 *
 * @module flowpool/engine
 */
export {
  createExecutor,
  runWorkflow,
  WORKFLOW_ABORTED,
  WORKFLOW_TIMEOUT,
  DEFAULT_WORKFLOW_TIMEOUT_MS,
} from './executor.js';
export { DEFAULT_MAX_HTTP_CALLS_PER_RUN, DEFAULT_WORKFLOW_MAX_REDIRECTS } from './executor-options.js';
export { WORKFLOW_HTTP_CALL_LIMIT } from './run-runner.js';
export { parseGoFloat } from './go-parse-float.js';
export type { GoFloatResult } from './go-parse-float.js';
export { formatGoFloat } from './go-format-float.js';
export { decodeGoBody } from './go-body.js';
export type {
  BodyDecoding,
  ExecutorOptions,
  NodeResult,
  NodeStatus,
  RunWorkflowOptions,
  WorkflowExecutor,
  WorkflowResult,
} from './executor.js';
export {
  validateWorkflow,
  isValidatedWorkflow,
  workflowSchema,
  workflowNodeSchema,
  workflowEdgeSchema,
  edgePortSchema,
  MAX_NODES,
  MAX_EDGES,
} from './schema.js';
export type {
  ValidatedEdge,
  ValidatedNode,
  ValidatedWorkflow,
  WorkflowDefinition,
  WorkflowEdgeDefinition,
  WorkflowNodeDefinition,
} from './schema.js';
export { NodeRegistry, defineNodeType } from './registry.js';
export type { EdgePort, JobRunner, JSONSchema, NodeContext, NodeInput, NodeType } from './registry.js';
export { createRegistry } from './builtins.js';
export { httpNode, httpNodeSchema, HTTP_STATUS } from './http-node.js';
export type { HttpNodeData } from './http-node.js';
export { textOperationNode, textOperationSchema, TEXT_OP_INVALID_INPUT, TEXT_OP_TOO_LARGE } from './text-node.js';
export type { TextOperationData } from './text-node.js';
export {
  TEXT_OPS,
  MAX_TEXT_LENGTH,
  uppercase,
  lowercase,
  titlecase,
  camelcase,
  inversecase,
  concat,
  repeat,
} from './text-ops.js';
export type { TextOp } from './text-ops.js';
export { NodeError, NodeTypeError, WorkflowValidationError, toNodeErrorInfo, NODE_EXCEPTION } from './errors.js';
export type { NodeErrorInfo, WorkflowIssue } from './errors.js';
export { findCycle } from './graph.js';
export { inferNodeType } from './infer-type.js';
export { textInputNode, textInputSchema, numberNode, numberSchema } from './input-nodes.js';
export {
  contextVariableNode,
  contextConstantNode,
  contextNodeSchema,
  CONTEXT_VALUE_INVALID,
  CONTEXT_VALUE_TYPES,
} from './context-nodes.js';
export {
  renderTemplate,
  renderValue,
  findReferences,
  TEMPLATE_MISSING_REFERENCE,
  TEMPLATE_INVALID_VALUE,
} from './templates.js';
export type { TemplateMode, TemplateReference, TemplateScope } from './templates.js';
export { toThaiyyalResult } from './thaiyyal-result.js';
export type { ThaiyyalResult } from './thaiyyal-result.js';
export { NO_SPAN, urlForSpan } from './tracing.js';
export type { TraceSpan, SpanAttributes } from './tracing.js';
