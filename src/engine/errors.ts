/**
 * Errors of the workflow layer. Like flowpool's own errors, each has a literal `code`; callers branch on
 * `code`. A node error is data (it flows along `error` edges), so it has a plain form, {@link NodeErrorInfo}.
 */

/** The plain form of a node error: what a result carries and what flows along an `error` edge. */
export interface NodeErrorInfo {
  /** A flowpool code (`FLOWPOOL_TIMEOUT`, ...), `HTTP_STATUS`, a text operation's code, or a node type's own. */
  readonly code: string;
  readonly message: string;
  /** For `HTTP_STATUS`: the response status. */
  readonly status?: number;
}

/** Thrown by a node's `execute` to fail the node with a chosen code. */
export class NodeError extends Error {
  readonly code: string;
  readonly status: number | undefined;

  constructor(code: string, message: string, details: { readonly status?: number } = {}) {
    super(message);
    this.name = 'NodeError';
    this.code = code;
    this.status = details.status;
  }

  toInfo(): NodeErrorInfo {
    return this.status === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, status: this.status };
  }
}

/** Code given to anything a node throws that has no string `code` of its own (a bug in a node type). */
export const NODE_EXCEPTION = 'NODE_EXCEPTION';

/**
 * Turns whatever a node threw into plain data. A `FlowpoolError` keeps its code and message (its class is
 * not relied on: anything with a string `code` and `message` is taken as is).
 */
export function toNodeErrorInfo(error: unknown): NodeErrorInfo {
  if (error instanceof NodeError) return error.toInfo();
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && typeof message === 'string') return { code, message };
    if (typeof message === 'string') return { code: NODE_EXCEPTION, message };
  }
  return { code: NODE_EXCEPTION, message: String(error) };
}

/** One problem found while validating a workflow. */
export interface WorkflowIssue {
  /** Where: `nodes[2].data.url`, `edges[0].target`, ... */
  readonly path: string;
  /** The node the problem belongs to, when there is one. */
  readonly nodeId?: string;
  readonly message: string;
}

const MAX_LISTED_ISSUES = 5;

/**
 * A workflow rejected before anything ran: bad shape, duplicate ids, dangling edges, unknown node types,
 * bad node data or a cycle. The message lists the problems (each naming the node and field); `issues`
 * has them all.
 */
export class WorkflowValidationError extends Error {
  readonly code = 'FLOWPOOL_INVALID_WORKFLOW' as const;
  readonly issues: readonly WorkflowIssue[];

  constructor(issues: readonly WorkflowIssue[]) {
    const listed = issues.slice(0, MAX_LISTED_ISSUES).map((issue) => issue.message);
    if (issues.length > MAX_LISTED_ISSUES) listed.push(`... and ${issues.length - MAX_LISTED_ISSUES} more`);
    super(`invalid workflow: ${listed.join('; ')}`);
    this.name = 'WorkflowValidationError';
    this.issues = issues;
  }
}

/** A node type that cannot be registered (bad or duplicate `type`, missing schema or execute). */
export class NodeTypeError extends Error {
  readonly code = 'FLOWPOOL_INVALID_NODE_TYPE' as const;

  constructor(message: string) {
    super(message);
    this.name = 'NodeTypeError';
  }
}
