/**
 * Embedding flowpool in a workflow engine: one runtime for the whole engine, one executor on it, an
 * engine-specific node type next to the built-in `http` and `text_operation`, many runs at once.
 *
 *   npm run build && node dist/examples/embed.js
 *
 * In an engine, import from the package ('flowpool', and its engine layer) instead of '../src/...'.
 */
import { z } from 'zod';
import { createRuntime } from '../src/index.js';
import {
  createExecutor,
  createRegistry,
  defineNodeType,
  NodeError,
  type WorkflowDefinition,
} from '../src/engine/index.js';
import { startExampleServer } from './serve.js';

// An engine's own node type: picks one field out of a JSON input.
const jsonField = defineNodeType({
  type: 'json_field',
  description: 'Picks one field of a JSON object input.',
  schema: z.strictObject({ field: z.string().min(1).describe('Name of the field to output.') }),
  execute([input], data) {
    const value: unknown = input?.value;
    if (typeof value !== 'object' || value === null || !(data.field in value)) {
      throw new NodeError('FIELD_MISSING', `no field "${data.field}" in the input`);
    }
    return (value as Record<string, unknown>)[data.field];
  },
});

const server = await startExampleServer(0); // port 0: any free port, so this never clashes with serve.js
// The default policy refuses loopback and private addresses; this engine talks to its own test server.
const runtime = createRuntime({ workers: 2, connectionsPerHost: 16, policy: { allow: ['127.0.0.1'] } });
try {
  const executor = createExecutor(runtime, { registry: createRegistry().register(jsonField) });
  // What an engine's UI would render as the node's form:
  console.log('json_field form:', JSON.stringify(executor.registry.toJSONSchema('json_field')));

  const workflow: WorkflowDefinition = {
    nodes: [
      { id: 'user', type: 'http', data: { url: `${server.origin}/user`, responseType: 'json' } },
      { id: 'name', type: 'json_field', data: { field: 'name' } },
      { id: 'handle', type: 'text_operation', data: { text_op: 'camelcase' } },
    ],
    edges: [
      { source: 'user', target: 'name' },
      { source: 'name', target: 'handle' },
    ],
  };
  // Validate once (throws FLOWPOOL_INVALID_WORKFLOW naming node and field), then run it many times at once:
  // every run has its own state, and their HTTP nodes share the runtime's warm connections.
  const valid = executor.validate(workflow);
  const results = await Promise.all(
    Array.from({ length: 3 }, (_, i) => executor.run(valid, { workflowId: `run-${i}` })),
  );
  for (const result of results) {
    const handle = result.nodes.find((node) => node.id === 'handle');
    console.log(result.status, handle?.output);
  }
} finally {
  await runtime.close();
  await server.close();
}
