/**
 * The executor's rules, with engine-defined node types and no HTTP: a node starts once all its inputs
 * arrived; independent nodes run at the same time; errors follow error edges or fail the workflow,
 * naming the node; edges not taken skip their targets; each run has its own state.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Runtime } from '../../dist/src/index.js';
import {
  createExecutor,
  createRegistry,
  defineNodeType,
  NodeError,
  WorkflowValidationError,
  type NodeInput,
  type WorkflowDefinition,
  type WorkflowResult,
} from '../../dist/src/engine/index.js';

const noRuntime = new Proxy(
  {},
  {
    get: () => {
      throw new Error('these node types never touch the runtime');
    },
  },
) as Runtime;

/** Node types for the tests, and what they observed. */
function setup() {
  const started: string[] = [];
  const aborted: string[] = [];
  const waiting = new Map<string, (value: string) => void>();
  let running = 0;
  let peak = 0;
  const value = defineNodeType({
    type: 'value',
    schema: z.strictObject({
      value: z.unknown().optional(),
      fail: z.string().optional(),
      crash: z.boolean().optional(),
    }),
    execute(_inputs, data, context) {
      started.push(context.nodeId);
      if (data.crash === true) throw new TypeError('bug in a node type');
      if (data.fail !== undefined) throw new NodeError(data.fail, `${context.nodeId} failed`);
      return data.value ?? context.nodeId;
    },
  });
  const collect = defineNodeType({
    type: 'collect',
    schema: z.strictObject({}),
    execute(inputs: readonly NodeInput[], _data, context) {
      started.push(context.nodeId);
      return inputs.map((input) => ({ ...input }));
    },
  });
  // Waits until the test releases it (or the run aborts it): shows what runs at the same time.
  const wait = defineNodeType({
    type: 'wait',
    schema: z.strictObject({}),
    execute(_inputs, _data, context) {
      started.push(context.nodeId);
      running++;
      peak = Math.max(peak, running);
      return new Promise<string>((resolve, reject) => {
        waiting.set(`${context.workflowId ?? ''}/${context.nodeId}`, resolve);
        context.signal.addEventListener('abort', () => {
          aborted.push(context.nodeId);
          reject(new NodeError('STOPPED', `${context.nodeId} stopped`));
        });
      }).finally(() => {
        running--;
      });
    },
  });
  const executor = createExecutor(noRuntime, {
    registry: createRegistry().register(value).register(collect).register(wait),
  });
  /** Lets a waiting node finish; `id` is `<workflowId>/<nodeId>` for runs given an id. */
  const release = async (nodeId: string, output = `${nodeId} done`, workflowId = ''): Promise<void> => {
    const id = `${workflowId}/${nodeId}`;
    for (let i = 0; i < 100 && !waiting.has(id); i++) await new Promise((resolve) => setImmediate(resolve));
    const resolve = waiting.get(id);
    if (resolve === undefined) throw new Error(`node ${id} never started`);
    resolve(output);
  };
  return { executor, started, aborted, release, peak: () => peak };
}

const node = (id: string, type: string, data: Record<string, unknown> = {}) => ({ id, type, data });

function byId(result: WorkflowResult) {
  return Object.fromEntries(result.nodes.map((entry) => [entry.id, entry]));
}

describe('executor', () => {
  it('runs a node once all its inputs are ready, with inputs in edge order', async () => {
    const { executor } = setup();
    const result = await executor.run({
      nodes: [node('join', 'collect'), node('a', 'value', { value: 'A' }), node('b', 'value', { value: 'B' })],
      edges: [
        { source: 'b', target: 'join' },
        { source: 'a', target: 'join' },
      ],
    });
    expect(result.status).toBe('success');
    expect(byId(result).join?.output).toEqual([
      { source: 'b', port: 'success', value: 'B' },
      { source: 'a', port: 'success', value: 'A' },
    ]);
    expect(result.nodes.map((entry) => entry.id)).toEqual(['join', 'a', 'b']);
  });

  it('runs independent branches at the same time, and a join only after both', async () => {
    const { executor, started, release, peak } = setup();
    const running = executor.run({
      nodes: [node('left', 'wait'), node('right', 'wait'), node('join', 'collect')],
      edges: [
        { source: 'left', target: 'join' },
        { source: 'right', target: 'join' },
      ],
    });
    await release('left');
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['left', 'right']);
    await release('right');
    const result = await running;
    expect(peak()).toBe(2);
    expect(started).toEqual(['left', 'right', 'join']);
    expect(byId(result).join?.output).toEqual([
      { source: 'left', port: 'success', value: 'left done' },
      { source: 'right', port: 'success', value: 'right done' },
    ]);
  });

  it('sends a node error along its error edges as { code, message } and skips its success edges', async () => {
    const { executor } = setup();
    const result = await executor.run({
      nodes: [
        node('fetch', 'value', { fail: 'HTTP_STATUS' }),
        node('onError', 'collect'),
        node('onSuccess', 'collect'),
        node('after', 'collect'),
      ],
      edges: [
        { source: 'fetch', target: 'onError', port: 'error' },
        { source: 'fetch', target: 'onSuccess', port: 'success' },
        { source: 'onSuccess', target: 'after' },
      ],
    });
    expect(result.status).toBe('success');
    const nodes = byId(result);
    expect(nodes.fetch).toMatchObject({ status: 'error', error: { code: 'HTTP_STATUS', message: 'fetch failed' } });
    expect(nodes.onError?.output).toEqual([
      { source: 'fetch', port: 'error', value: { code: 'HTTP_STATUS', message: 'fetch failed' } },
    ]);
    expect(nodes.onSuccess?.status).toBe('skipped');
    expect(nodes.after?.status).toBe('skipped');
  });

  it('skips the error edges of a node that succeeded, and any node with an input that never came', async () => {
    const { executor, started } = setup();
    const result = await executor.run({
      nodes: [node('ok', 'value'), node('handler', 'collect'), node('other', 'value'), node('join', 'collect')],
      edges: [
        { source: 'ok', target: 'handler', port: 'error' },
        { source: 'handler', target: 'join' },
        { source: 'other', target: 'join' },
      ],
    });
    expect(result.status).toBe('success');
    expect(result.nodes.map((entry) => entry.status)).toEqual(['success', 'skipped', 'success', 'skipped']);
    expect(started).toEqual(['ok', 'other']);
  });

  it('fails the workflow on an unhandled error, naming the node; nothing new starts and running nodes are aborted', async () => {
    const { executor, started, aborted } = setup();
    const result = await executor.run({
      nodes: [
        node('slow', 'wait'),
        node('broken', 'value', { fail: 'BOOM' }),
        node('next', 'value'),
        node('afterSlow', 'value'),
      ],
      edges: [
        { source: 'broken', target: 'next' },
        { source: 'slow', target: 'afterSlow' },
      ],
    });
    expect(result.status).toBe('error');
    expect(result.failedNode).toBe('broken');
    expect(result.error).toEqual({ code: 'BOOM', message: 'broken failed' });
    expect(aborted).toEqual(['slow']);
    expect(started).toEqual(['slow', 'broken']);
    expect(result.nodes.map((entry) => [entry.id, entry.status])).toEqual([
      ['slow', 'error'],
      ['broken', 'error'],
      ['next', 'skipped'],
      ['afterSlow', 'skipped'],
    ]);
  });

  it('gives a thrown error without a code NODE_EXCEPTION', async () => {
    const { executor } = setup();
    const result = await executor.run({ nodes: [node('buggy', 'value', { crash: true })] });
    expect(result).toMatchObject({
      status: 'error',
      failedNode: 'buggy',
      error: { code: 'NODE_EXCEPTION', message: 'bug in a node type' },
    });
  });

  it('stops on the caller signal with WORKFLOW_ABORTED', async () => {
    const { executor, aborted } = setup();
    const controller = new AbortController();
    const running = executor.run(
      { nodes: [node('w', 'wait'), node('after', 'value')], edges: [{ source: 'w', target: 'after' }] },
      { signal: controller.signal },
    );
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    const result = await running;
    expect(result.status).toBe('error');
    expect(result.failedNode).toBeUndefined();
    expect(result.error?.code).toBe('WORKFLOW_ABORTED');
    expect(aborted).toEqual(['w']);
    expect(byId(result).after?.status).toBe('skipped');

    const early = await executor.run({ nodes: [node('v', 'value')] }, { signal: AbortSignal.abort() });
    expect(early).toMatchObject({
      status: 'error',
      error: { code: 'WORKFLOW_ABORTED' },
      nodes: [{ id: 'v', status: 'skipped' }],
    });
  });

  it('runs one validated workflow many times at once, each run with its own state', async () => {
    const { executor, release } = setup();
    const workflow = executor.validate({
      nodes: [node('w', 'wait'), node('out', 'collect')],
      edges: [{ source: 'w', target: 'out' }],
    });
    const runs = [0, 1, 2].map((i) => executor.run(workflow, { workflowId: `run-${i}` }));
    // Every run's "w" is waiting at once; finish them in reverse order.
    for (const i of [2, 1, 0]) await release('w', `output of run ${i}`, `run-${i}`);
    const outputs = (await Promise.all(runs)).map((result) => (byId(result).out?.output as NodeInput[])[0]?.value);
    expect(outputs).toEqual(['output of run 0', 'output of run 1', 'output of run 2']);
  });

  it('rejects an invalid workflow before running anything', async () => {
    const { executor, started } = setup();
    const bad: WorkflowDefinition = { nodes: [node('a', 'value'), node('b', 'nope')] };
    await expect(executor.run(bad)).rejects.toBeInstanceOf(WorkflowValidationError);
    await expect(executor.run(bad)).rejects.toMatchObject({
      code: 'FLOWPOOL_INVALID_WORKFLOW',
      message: expect.stringContaining('node "b": type: unknown node type "nope"') as unknown,
    });
    expect(started).toEqual([]);
  });

  it('skips a long chain below a failed node without deep recursion', async () => {
    const { executor } = setup();
    const length = 9_000;
    const nodes = [node('head', 'value', { fail: 'X' }), ...Array.from({ length }, (_, i) => node(`n${i}`, 'value'))];
    const edges = [
      { source: 'head', target: 'n0', port: 'error' as const },
      ...Array.from({ length: length - 1 }, (_, i) => ({
        source: `n${i}`,
        target: `n${i + 1}`,
        port: 'error' as const,
      })),
    ];
    const result = await executor.run({ nodes, edges });
    expect(result.status).toBe('success');
    expect(result.nodes.filter((entry) => entry.status === 'skipped')).toHaveLength(length - 1);
  });
});
