/** The node types every registry starts with. */
import { contextConstantNode, contextVariableNode } from './context-nodes.js';
import { httpNode } from './http-node.js';
import { numberNode, textInputNode } from './input-nodes.js';
import { NodeRegistry } from './registry.js';
import { textOperationNode } from './text-node.js';

/**
 * A new registry holding the built-in types: `http`, `text_operation`, and the Go engine's `text_input`,
 * `number`, `context_variable` and `context_constant`; add an engine's own with `register`.
 */
export function createRegistry(): NodeRegistry {
  return new NodeRegistry([
    httpNode,
    textOperationNode,
    textInputNode,
    numberNode,
    contextVariableNode,
    contextConstantNode,
  ]);
}
