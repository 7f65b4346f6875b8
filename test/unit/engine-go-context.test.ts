/**
 * The Go engine's context-node tests (backend/context_nodes_test.go), payloads unchanged
 * (test/fixtures/go/context_nodes_test.json): context_variable / context_constant nodes and the
 * {{ variable.x }} / {{ const.x }} templates they feed, checked against Go's expected final outputs in
 * the Go result shape. Their `visualization` node is registered here as an engine's own type, doing what
 * Go's did at that commit. No HTTP: the runner is never called.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createExecutor,
  createRegistry,
  defineNodeType,
  WorkflowValidationError,
  type JobRunner,
} from '../../dist/src/engine/index.js';

interface GoCase {
  readonly test: string;
  readonly payload: unknown;
  readonly expect: { readonly final_output?: unknown; readonly fails?: boolean; readonly unsupported?: string };
}

const { cases } = JSON.parse(
  readFileSync(new URL('../fixtures/go/context_nodes_test.json', import.meta.url), 'utf8'),
) as { readonly cases: readonly GoCase[] };

const visualization = defineNodeType({
  type: 'visualization',
  schema: z.strictObject({ mode: z.string(), label: z.string().optional() }),
  execute: (inputs, data) => ({ mode: data.mode, value: inputs[0]?.value }),
});

const noHttp: JobRunner = {
  run: () => Promise.reject(new Error('these workflows make no HTTP call')),
};

const executor = createExecutor(noHttp, { format: 'thaiyyal', registry: createRegistry().register(visualization) });

describe("the Go engine's context_nodes_test.go, payloads unchanged", () => {
  it.each(cases.filter((c) => c.expect.unsupported === undefined && c.expect.fails !== true))(
    '$test',
    async (goCase) => {
      const result = await executor.run(goCase.payload);
      expect(result.errors).toEqual([]);
      expect(result.final_output).toEqual(goCase.expect.final_output);
    },
  );

  it.each(cases.filter((c) => c.expect.fails === true))('$test: refused before running', async (goCase) => {
    await expect(executor.run(goCase.payload)).rejects.toBeInstanceOf(WorkflowValidationError);
  });

  it.each(cases.filter((c) => c.expect.unsupported !== undefined))(
    '$test: refused, naming the type',
    async (goCase) => {
      await expect(executor.run(goCase.payload)).rejects.toThrow(
        `unknown node type "${goCase.expect.unsupported ?? ''}"`,
      );
    },
  );
});
