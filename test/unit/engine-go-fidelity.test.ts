/**
 * Where a stored Go workflow would notice a difference, flowpool does what the reference Go engine does
 * (yesoreyeram/thaiyyal 488dcb5, the last commit that interpolates templates), in both result formats.
 * Each case names the Go file it follows. No HTTP here: the runner refuses every job.
 */
import { describe, expect, it } from 'vitest';
import {
  createExecutor,
  createRegistry,
  inversecase,
  NodeRegistry,
  titlecase,
  type JobRunner,
} from '../../dist/src/engine/index.js';

const noHttp: JobRunner = { run: () => Promise.reject(new Error('these workflows make no HTTP call')) };
const goShaped = createExecutor(noHttp, { format: 'thaiyyal' });
const flowpool = createExecutor(noHttp);

describe('type inference: text before text_op (backend/pkg/engine/engine.go@488dcb5 inferNodeTypeFromData)', () => {
  // Go infers text_input (data.Text is checked before data.TextOp) and input_text.go outputs the text.
  const payload = { nodes: [{ id: '1', data: { text: 'Hello World', text_op: 'uppercase' } }], edges: [] };

  it('Go shape: node_results and final_output are the text', async () => {
    expect(await goShaped.run(payload)).toMatchObject({
      node_results: { '1': 'Hello World' },
      final_output: 'Hello World',
      errors: [],
    });
  });

  it('flowpool shape: a text_input node that succeeded', async () => {
    expect((await flowpool.run(payload)).nodes).toMatchObject([
      { id: '1', type: 'text_input', status: 'success', output: 'Hello World' },
    ]);
  });

  it.each([
    [{ boolean_value: true }, 'boolean_input'],
    [{ date_value: '2025-01-01' }, 'date_input'],
    [{ datetime_value: '2025-01-01T00:00:00Z' }, 'datetime_input'],
  ])('%j is inferred as %s (refused: flowpool has no such type)', async (data, type) => {
    await expect(flowpool.run({ nodes: [{ id: 'n', data }] })).rejects.toThrow(`unknown node type "${type}"`);
  });
});

describe('an empty workflow runs (backend/pkg/engine/custom_executor_test.go@488dcb5 TestNewWithRegistry)', () => {
  // "empty registry works for workflows with no nodes": payload verbatim, FinalOutput must be nil.
  const payload = JSON.parse(`{"nodes": [], "edges": []}`) as unknown;

  it('with an empty registry, in the Go shape: final_output null', async () => {
    const executor = createExecutor(noHttp, { format: 'thaiyyal', registry: new NodeRegistry() });
    expect(await executor.run(payload)).toMatchObject({ node_results: {}, final_output: null, errors: [] });
  });

  it('in the flowpool shape: success with no nodes', async () => {
    expect(await flowpool.run(payload)).toMatchObject({ status: 'success', nodes: [] });
  });
});

describe('final_output on failure (backend/pkg/engine/engine.go@488dcb5 Execute sets it only on success)', () => {
  it('is null even when a context node is terminal', async () => {
    const result = await goShaped.run({
      nodes: [
        { id: 'c', data: { context_name: 'greeting', context_value: 'hi' } },
        { id: '1', data: { value: 42 } },
        { id: '2', data: { text_op: 'uppercase' } },
      ],
      edges: [{ id: 'e1', source: '1', target: '2' }],
    });
    expect(result.final_output).toBeNull();
    expect(result.errors).toEqual(['error executing node 2: text operation input must be text/string']);
  });
});

describe('number context values from strings: strconv.ParseFloat (backend/pkg/executor/helpers.go@488dcb5)', () => {
  const withNumber = (value: unknown): unknown => ({
    nodes: [{ id: 'c', type: 'context_variable', data: { context_values: [{ name: 'n', value, type: 'number' }] } }],
    edges: [],
  });

  it.each([
    ['1e5', 100000],
    ['.5', 0.5],
    ['+1', 1],
    ['1_000', 1000],
    ['0x1p-2', 0.25],
    ['Inf', Infinity],
    [7, 7],
  ])('%j -> %s', async (value, number) => {
    expect(await goShaped.run(withNumber(value))).toMatchObject({
      node_results: { c: { type: 'variable', variables: { n: number } } },
      errors: [],
    });
  });

  it.each([
    [' 1', 'cannot convert " 1" to number: strconv.ParseFloat: parsing " 1": invalid syntax'],
    ['0x10', 'cannot convert "0x10" to number: strconv.ParseFloat: parsing "0x10": invalid syntax'],
    ['0b101', 'cannot convert "0b101" to number: strconv.ParseFloat: parsing "0b101": invalid syntax'],
    ['1e400', 'cannot convert "1e400" to number: strconv.ParseFloat: parsing "1e400": value out of range'],
    [true, 'cannot convert type bool to number'],
  ])("%j fails the node with Go's message", async (value, message) => {
    const result = await goShaped.run(withNumber(value));
    expect(result.errors).toEqual([
      `error executing node c: context_variable node: error converting n (number): ${message}`,
    ]);
  });
});

describe('numbers written as text: %v (helpers.go@488dcb5 convertTypedValue "string", engine.go@488dcb5 interpolateTemplate)', () => {
  it.each([
    [1234567, '1.234567e+06'],
    [1e6, '1e+06'],
    [100000, '100000'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [42, '42'],
  ])('%d: as a string context value and in {{ variable.n }} / {{ const.n }}', async (value, text) => {
    const result = await goShaped.run({
      nodes: [
        { id: 's', type: 'context_constant', data: { context_values: [{ name: 's', value, type: 'string' }] } },
        { id: 'v', type: 'context_variable', data: { context_name: 'n', context_value: value } },
        { id: 'k', type: 'context_constant', data: { context_name: 'n', context_value: value } },
        { id: 't', data: { text: 'n={{ variable.n }} k={{ const.n }}' } },
      ],
      edges: [],
    });
    expect(result.node_results.s).toEqual({ type: 'const', constants: { s: text } });
    expect(result.node_results.t).toBe(`n=${text} k=${text}`);
  });

  it("flowpool's own {{ input }} writes a number as JSON does (it has no Go counterpart)", async () => {
    const result = await goShaped.run({
      nodes: [
        { id: 'n', data: { value: 1000000 } },
        { id: 't', data: { text: 'n={{ input }}' } },
      ],
      edges: [{ source: 'n', target: 't' }],
    });
    expect(result.final_output).toBe('n=1000000');
  });
});

describe('case mapping of letters that are neither upper nor lower (helpers.go@488dcb5 toInverseCase, toTitleCase)', () => {
  it.each([
    ['\u01C5', '\u01C5'], // ǅ is Lt: unicode.IsUpper and IsLower are both false, so Go leaves it
    ['\u01C4\u01C6', '\u01C6\u01C4'],
    ['a\u0345b', 'A\u0345B'], // a combining mark (Mn) with a case mapping: left as it is
    ['Hello World', 'hELLO wORLD'],
  ])('inversecase %j -> %j', (text, expected) => {
    expect(inversecase(text)).toBe(expected);
  });

  it('titlecase keeps a leading U+FEFF and title-cases the word after it (case-ignorable, not a break)', () => {
    expect(titlecase('\uFEFFhello world')).toBe('\uFEFFHello World');
  });
});

describe('executor options are checked once, naming the option', () => {
  it.each([
    [{ maxHttpCallsPerRun: -1 }, 'maxHttpCallsPerRun: expected an integer from 0 to 9007199254740991, received -1'],
    [{ maxHttpCallsPerRun: 1.5 }, 'maxHttpCallsPerRun: expected an integer from 0 to 9007199254740991, received 1.5'],
    [{ maxRedirects: 101 }, 'maxRedirects: expected an integer from 0 to 100, received 101'],
    [{ bodyDecoding: 'utf8' }, 'bodyDecoding: expected "charset" or "go", received "utf8"'],
  ])('%j', (options, message) => {
    expect(() => createExecutor(noHttp, { registry: createRegistry(), ...(options as object) })).toThrow(message);
  });
});
