/**
 * The Go engine's own workflow tests (backend/workflow_test.go), payloads as the Go tests send them
 * (test/fixtures/go/workflow_test.json), run unchanged through a real runtime and checked against Go's
 * expected outputs in the Go result shape. The loopback server answers each case as the Go test's
 * httptest server did, and counts the requests it saw per case.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';
import {
  createExecutor,
  WorkflowValidationError,
  type ThaiyyalResult,
  type WorkflowExecutor,
} from '../../dist/src/engine/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

interface GoCase {
  readonly test: string;
  readonly server?: { readonly status: number; readonly body: string };
  readonly payload: unknown;
  readonly expect: {
    readonly node_results?: Record<string, unknown>;
    readonly error?: string;
    readonly fails?: boolean;
    readonly succeeds?: boolean;
    readonly unsupported?: string;
  };
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/go/workflow_test.json', import.meta.url), 'utf8')) as {
  readonly cases: readonly GoCase[];
};
const cases = fixture.cases.map((goCase, index) => ({ ...goCase, index }));

let server: CountingServer;
let runtime: Runtime;
const seen = new Map<number, number>();

beforeAll(async () => {
  server = await startCountingServer((req, res) => {
    const index = Number(/^\/case\/(\d+)$/.exec(req.url ?? '')?.[1]);
    const answer = cases[index]?.server;
    seen.set(index, (seen.get(index) ?? 0) + 1);
    res.statusCode = answer?.status ?? 599;
    res.end(answer === undefined || answer.status === 204 ? undefined : answer.body);
  });
  // *.local denied: TestHTTPNodeInvalidURL's name is refused before any lookup leaves the machine.
  runtime = createRuntime({ workers: 1, policy: { allow: ['127.0.0.0/8'], deny: ['*.local'] } });
});

afterAll(async () => {
  await runtime.close();
  await server.close();
});

/** The payload with the Go test server's URL replaced by this case's path on the loopback server. */
function payloadOf(goCase: GoCase & { readonly index: number }): unknown {
  return JSON.parse(JSON.stringify(goCase.payload).replaceAll('$SERVER_URL', `${server.origin}/case/${goCase.index}`));
}

describe("the Go engine's workflow_test.go, payloads unchanged", () => {
  const executor = (): WorkflowExecutor<ThaiyyalResult> => createExecutor(runtime, { format: 'thaiyyal' });

  it.each(cases.filter((c) => c.expect.unsupported === undefined))('$test', async (goCase) => {
    const run = executor().run(payloadOf(goCase));
    if (goCase.expect.fails === true) {
      // Go expects an error: flowpool reports it in `errors`, or refuses the workflow before running.
      const outcome = await run.then(
        (result) => result.errors,
        (error: unknown) => {
          expect(error).toBeInstanceOf(WorkflowValidationError);
          return [(error as Error).message];
        },
      );
      expect(outcome.length).toBeGreaterThan(0);
      return;
    }
    const result: ThaiyyalResult = await run;
    if (goCase.expect.error !== undefined) {
      expect(result.errors).toEqual([goCase.expect.error]);
    } else {
      expect(result.errors).toEqual([]);
      expect(result.node_results).toMatchObject(goCase.expect.node_results ?? {});
    }
    expect(result.execution_id).toMatch(/^[0-9a-f]{16}$/);
    if (goCase.server !== undefined) expect(seen.get(goCase.index)).toBe(1);
  });

  it.each(cases.filter((c) => c.expect.unsupported !== undefined))(
    '$test: refused before running, naming the type (Go infers it when not given)',
    async (goCase) => {
      const error = await executor()
        .run(payloadOf(goCase))
        .then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
      expect(error).toBeInstanceOf(WorkflowValidationError);
      expect((error as Error).message).toContain(`unknown node type "${goCase.expect.unsupported ?? ''}"`);
      const typed = JSON.stringify(goCase.payload).includes('"type":');
      if (!typed) expect((error as Error).message).toContain("inferred from data by the Go engine's rules");
    },
  );

  it('the failing HTTP cases reached the server once each, and the .local name was never requested', () => {
    for (const goCase of cases.filter((c) => c.server !== undefined)) expect(seen.get(goCase.index)).toBe(1);
    expect(server.requests).toBe(cases.filter((c) => c.server !== undefined).length);
  });
});
