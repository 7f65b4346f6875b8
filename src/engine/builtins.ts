/** The node types every registry starts with. */
import { httpNode } from './http-node.js';
import { NodeRegistry } from './registry.js';
import { textOperationNode } from './text-node.js';

/** A new registry holding the built-in types, `http` and `text_operation`; add an engine's own with `register`. */
export function createRegistry(): NodeRegistry {
  return new NodeRegistry([httpNode, textOperationNode]);
}
