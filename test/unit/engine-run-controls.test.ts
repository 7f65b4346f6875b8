/**
 * The executor with a stand-in job runner (anything with the runtime's `run`, as queue mode passes a
 * queue client): the whole-run deadline, one abort listener per job signal (no
 * MaxListenersExceededWarning with many HTTP nodes in flight), context nodes feeding templates into the
 * jobs, and the Go result shape.
 */
import { describe, expect, it } from 'vitest';
import type { HttpJob, HttpResult, RunOptions } from '../../dist/src/index.js';
import { FlowpoolError } from '../../dist/src/index.js';
import { createExecutor, type JobRunner } from '../../dist/src/engine/index.js';

function answer(job: HttpJob, body: string, status = 200): HttpResult {
  return {
    status,
    headers: {},
    body,
    url: job.url,
    redirects: [],
    bytes: body.length,
    timings: { queuedMs: 0, headersMs: 0, totalMs: 0 },
    worker: 0,
    attempts: 1,
  };
}

/**
 * Holds every job until `release()` (or its signal aborts it, rejecting like the runtime does). Each
 * job adds one abort listener to the signal it was given, as the runtime does.
 */
function holdingRunner(respond: (job: HttpJob) => string = () => 'ok') {
  const jobs: HttpJob[] = [];
  const aborted: string[] = [];
  const held: (() => void)[] = [];
  let onJob: (() => void) | undefined;
  const runner: JobRunner = {
    run: (job: HttpJob, options?: RunOptions) =>
      new Promise<HttpResult>((resolve, reject) => {
        jobs.push(job);
        options?.signal?.addEventListener('abort', () => {
          aborted.push(job.id ?? '');
          reject(new FlowpoolError('FLOWPOOL_ABORTED', 'job aborted'));
        });
        held.push(() => {
          resolve(answer(job, respond(job)));
        });
        onJob?.();
      }),
  };
  return {
    runner,
    jobs,
    aborted,
    /** Resolves once `count` jobs are being held. */
    jobsHeld: (count: number) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (jobs.length >= count) resolve();
        };
        onJob = check;
        check();
      }),
    release: () => {
      for (const release of held.splice(0)) release();
    },
  };
}

const http = (id: string, url: string, extra: Record<string, unknown> = {}) => ({ id, data: { url, ...extra } });

describe('workflow deadline (timeoutMs)', () => {
  it('aborts running nodes and fails the run with WORKFLOW_TIMEOUT', async () => {
    const { runner, aborted } = holdingRunner();
    const executor = createExecutor(runner, { timeoutMs: 50 });
    const result = await executor.run({
      nodes: [http('slow', 'http://127.0.0.1/slow'), { id: 'after', data: { text_op: 'uppercase' } }],
      edges: [{ source: 'slow', target: 'after' }],
    });
    expect(result.status).toBe('error');
    expect(result.error).toEqual({ code: 'WORKFLOW_TIMEOUT', message: 'workflow execution timeout: exceeded 50 ms' });
    expect(aborted).toEqual(['slow']);
    expect(result.nodes.map((node) => node.status)).toEqual(['error', 'skipped']);
  });

  it('a run may set its own deadline; a bad one is FLOWPOOL_INVALID_OPTIONS naming it', async () => {
    const { runner } = holdingRunner();
    const executor = createExecutor(runner);
    const result = await executor.run({ nodes: [http('slow', 'http://127.0.0.1/slow')] }, { timeoutMs: 20 });
    expect(result.error?.code).toBe('WORKFLOW_TIMEOUT');
    expect(() => createExecutor(runner, { timeoutMs: 0 })).toThrow(FlowpoolError);
    await expect(executor.run({ nodes: [http('a', 'http://127.0.0.1/')] }, { timeoutMs: 1.5 })).rejects.toMatchObject({
      code: 'FLOWPOOL_INVALID_OPTIONS',
      message: 'run options: timeoutMs: expected an integer from 1 to 2147483647 (ms), received 1.5',
    });
  });
});

describe('many HTTP nodes in flight (issue 15 item 6)', () => {
  it('gives each job its own signal: no MaxListenersExceededWarning with 12 nodes running at once', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const { runner, jobsHeld, release } = holdingRunner();
      const nodes = Array.from({ length: 12 }, (_, i) => http(`n${i}`, `http://127.0.0.1/${i}`));
      const running = createExecutor(runner).run({ nodes });
      await jobsHeld(12);
      release();
      const result = await running;
      expect(result.status).toBe('success');
      // process warnings are emitted on a later tick
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a failing node still aborts every other running job', async () => {
    const { runner, jobsHeld, aborted } = holdingRunner();
    const failing: JobRunner = {
      run: (job, options) =>
        job.url.endsWith('/fail')
          ? Promise.reject(new FlowpoolError('FLOWPOOL_TIMEOUT', 'late'))
          : runner.run(job, options),
    };
    const nodes = [
      ...Array.from({ length: 11 }, (_, i) => http(`n${i}`, `http://127.0.0.1/${i}`)),
      http('bad', 'http://127.0.0.1/fail'),
    ];
    const running = createExecutor(failing).run({ nodes });
    await jobsHeld(11);
    const result = await running;
    expect(result).toMatchObject({ status: 'error', failedNode: 'bad', error: { code: 'FLOWPOOL_TIMEOUT' } });
    expect(aborted.sort()).toEqual(
      nodes
        .slice(0, 11)
        .map((node) => node.id)
        .sort(),
    );
  });
});

describe('context nodes and templates into jobs', () => {
  it('fills url, headers and body from constants, variables and an upstream JSON body', async () => {
    const jobs: HttpJob[] = [];
    const runner: JobRunner = {
      run: (job) => {
        jobs.push(job);
        return Promise.resolve(answer(job, job.url.endsWith('/list') ? '{"items":[{"id":"a/1"}]}' : 'done'));
      },
    };
    const result = await createExecutor(runner).run({
      nodes: [
        http('use', '{{ const.base }}/items/{{ nodes.list.output.items[0].id }}?by={{ variable.who }}', {
          method: 'POST',
          headers: { 'x-user': '{{ variable.who }}' },
          json: { id: '{{ nodes.list.output.items[0].id }}', note: 'from {{ input }}' },
        }),
        { id: 'base', data: { context_name: 'base', context_value: 'http://127.0.0.1:9' }, type: 'context_constant' },
        {
          id: 'who',
          type: 'context_variable',
          data: { context_values: [{ name: 'who', value: 'ada lovelace', type: 'string' }] },
        },
        http('list', '{{ const.base }}/list', { responseType: 'json' }),
      ],
      edges: [{ source: 'list', target: 'use' }],
    });
    expect(result.status).toBe('success');
    const used = jobs.find((job) => job.id === 'use');
    expect(used?.url).toBe('http://127.0.0.1:9/items/a%2F1?by=ada%20lovelace');
    expect(used?.headers).toEqual({ 'x-user': 'ada lovelace' });
    expect(used?.json).toEqual({ id: 'a/1', note: 'from {"items":[{"id":"a/1"}]}' });
    expect(result.nodes.find((node) => node.id === 'base')?.output).toEqual({
      type: 'const',
      name: 'base',
      value: 'http://127.0.0.1:9',
    });
    expect(result.nodes.find((node) => node.id === 'who')?.output).toEqual({
      type: 'variable',
      variables: { who: 'ada lovelace' },
    });
  });

  it('a missing reference fails the node before any job is sent, naming it', async () => {
    const { runner, jobs } = holdingRunner();
    const result = await createExecutor(runner).run({
      nodes: [{ id: 'first', data: { text: 'x' } }, http('use', 'http://127.0.0.1/{{ nodes.first.output.id }}')],
      edges: [{ source: 'first', target: 'use' }],
    });
    expect(result).toMatchObject({
      status: 'error',
      failedNode: 'use',
      error: {
        code: 'TEMPLATE_MISSING_REFERENCE',
        message: 'template {{ nodes.first.output.id }}: nothing at .id (a string there)',
      },
    });
    expect(jobs).toEqual([]);
  });
});

describe('the Go result shape', () => {
  it('execution id, node_results keyed by id, final_output from the terminal non-context node, errors', async () => {
    const { runner } = holdingRunner();
    const executor = createExecutor(runner, { format: 'thaiyyal' });
    const ok = await executor.run({
      workflow_id: 'wf-1',
      nodes: [
        { id: 'c', data: { context_name: 'greet', context_value: 'hello' } },
        { id: '1', data: { text: '{{ variable.greet }} world' } },
        { id: '2', data: { text_op: 'titlecase' } },
      ],
      edges: [{ id: 'e1', source: '1', target: '2' }],
    });
    expect(ok).toEqual({
      execution_id: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown,
      workflow_id: 'wf-1',
      node_results: { c: { type: 'variable', name: 'greet', value: 'hello' }, '1': 'hello world', '2': 'Hello World' },
      final_output: 'Hello World',
      errors: [],
    });
    const failed = await executor.run({
      nodes: [
        { id: '1', data: { value: 42 } },
        { id: '2', data: { text_op: 'uppercase' } },
      ],
      edges: [{ source: '1', target: '2' }],
    });
    expect(failed.errors).toEqual(['error executing node 2: text operation input must be text/string']);
    expect(failed.node_results).toEqual({ '1': 42 });
    expect(failed.final_output).toBeNull();
  });
});
