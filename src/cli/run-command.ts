/**
 * `flowpool run <workflow.json | ->`: validates a workflow (before any worker starts), runs it, prints
 * every node's result as JSON, a table, or the Go engine's result shape (`--format thaiyyal`). Exit 0
 * when the workflow succeeded, 1 when a node failed without an error edge (the node is named on stderr)
 * or the run was stopped (its deadline), 2 when the input is invalid.
 */
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import {
  createExecutor,
  createRegistry,
  DEFAULT_WORKFLOW_TIMEOUT_MS,
  toThaiyyalResult,
  validateWorkflow,
  type NodeResult,
  type WorkflowResult,
} from '../engine/index.js';
import { EXIT, EXIT_CODES_HELP, exitWith, UsageError } from './cli-errors.js';
import { addRuntimeFlags, openRuntime, type RuntimeFlags } from './runtime-flags.js';
import { addQueueFlags, asWorkflowRuntime, queueTarget, type QueueFlags } from './queue-flags.js';

interface RunFlags extends RuntimeFlags, QueueFlags {
  readonly format: 'json' | 'table' | 'thaiyyal';
  readonly workflowTimeout?: string;
}

/** One workflow is a handful of requests: one worker is plenty unless told otherwise. */
const RUN_DEFAULTS = { workers: 1 } as const;

export function registerRunCommand(program: Command): void {
  const command = program
    .command('run')
    .description("run a workflow and print each node's result")
    .argument('<workflow>', 'workflow JSON file, or - to read it from stdin')
    .addOption(
      new Option('--format <format>', "output format (thaiyyal: the Go engine's result shape)")
        .choices(['json', 'table', 'thaiyyal'])
        .default('json'),
    )
    .addOption(
      new Option(
        '--workflow-timeout <ms>',
        `deadline of the whole run in ms (default: ${DEFAULT_WORKFLOW_TIMEOUT_MS}, 5 minutes as in Go)`,
      ),
    );
  addRuntimeFlags(command, RUN_DEFAULTS);
  addQueueFlags(command, false);
  command.addHelpText(
    'after',
    `
A workflow is JSON: { "nodes": [{ "id", "type"?, "data" }], "edges": [{ "source", "target", "port"?: "success" | "error" }] },
the Go engine's format (a node without "type" gets it inferred from its data, as Go does).
Node types: http (data: url, method, headers, body, json, responseType, timeoutMs, followRedirects),
text_operation (data.text_op: uppercase, lowercase, titlecase, camelcase, inversecase, concat, repeat),
text_input (data.text), number (data.value), context_variable and context_constant (data.context_name +
context_value, or context_values); templates {{ input }}, {{ nodes.<id>.output.path }}, {{ variable.x }}, {{ const.x }}.
${EXIT_CODES_HELP}

Example (loopback destinations must be allowed explicitly):
  node dist/examples/serve.js &
  flowpool run examples/workflow.json --allow 127.0.0.1`,
  );
  command.action(exitWith((source: string, flags: RunFlags) => runCommand(source, flags)));
}

async function runCommand(source: string, flags: RunFlags): Promise<number> {
  const timeoutMs = parseWorkflowTimeout(flags.workflowTimeout);
  const registry = createRegistry();
  const workflow = validateWorkflow(await readWorkflow(source), registry);
  const queue = queueTarget(flags);
  let result: WorkflowResult;
  if (queue !== undefined) {
    // Queue mode: the http nodes run on the queue's workers; --allow / --deny are this client's early check.
    // Loaded only here: queue mode's packages are optional peers, and the other commands run without them.
    const { createQueueClient } = await import('../queue/index.js');
    const client = createQueueClient({
      ...queue,
      policy: { allow: [...(flags.allow ?? [])], deny: [...(flags.deny ?? [])] },
    });
    try {
      result = await createExecutor(asWorkflowRuntime(client), { registry, timeoutMs }).run(workflow);
    } finally {
      await client.close();
    }
  } else {
    const runtime = await openRuntime(flags, RUN_DEFAULTS);
    try {
      result = await createExecutor(runtime, { registry, timeoutMs }).run(workflow);
    } finally {
      await runtime.close();
    }
  }
  const shape = flags.format === 'thaiyyal' ? toThaiyyalResult(result, workflow) : result;
  process.stdout.write(flags.format === 'table' ? formatTable(result) : `${JSON.stringify(shape, null, 2)}\n`);
  if (result.status === 'success') return EXIT.ok;
  const error = result.error === undefined ? '' : `: ${result.error.code}: ${result.error.message}`;
  process.stderr.write(
    result.failedNode === undefined
      ? `flowpool: workflow stopped${error}\n`
      : `flowpool: workflow failed at node "${result.failedNode}"${error}\n`,
  );
  return EXIT.failure;
}

function parseWorkflowTimeout(value: string | undefined): number {
  if (value === undefined) return DEFAULT_WORKFLOW_TIMEOUT_MS;
  const ms = Number(value);
  if (!/^\d+$/.test(value) || ms < 1 || ms > 2_147_483_647)
    throw new UsageError(`--workflow-timeout: expected an integer from 1 to 2147483647 (ms), received "${value}"`);
  return ms;
}

async function readWorkflow(source: string): Promise<unknown> {
  const label = source === '-' ? 'stdin' : source;
  let text: string;
  try {
    text = source === '-' ? await readStdin() : await readFile(source, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read workflow ${label} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`workflow ${label} is not valid JSON (${(error as Error).message})`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const CELL = 60;

function formatTable(result: WorkflowResult): string {
  const rows = result.nodes.map((node) => [
    node.id,
    node.type,
    node.status,
    node.durationMs === undefined ? '' : node.durationMs.toFixed(1),
    shown(node),
  ]);
  const header = ['NODE', 'TYPE', 'STATUS', 'MS', 'OUTPUT / ERROR'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  const counts = { success: 0, error: 0, skipped: 0 };
  for (const node of result.nodes) counts[node.status]++;
  const verdict =
    result.status === 'success'
      ? 'success'
      : `error${result.failedNode === undefined ? '' : ` at node "${result.failedNode}"`}${result.error === undefined ? '' : ` (${result.error.code})`}`;
  return [
    line(header),
    ...rows.map(line),
    '',
    `workflow: ${verdict}; ${counts.success} succeeded, ${counts.error} failed, ${counts.skipped} skipped in ${result.durationMs.toFixed(1)} ms`,
    '',
  ].join('\n');
}

function shown(node: NodeResult): string {
  let text: string;
  if (node.status === 'error' && node.error !== undefined) text = `${node.error.code}: ${node.error.message}`;
  else if (node.status === 'success') text = shownValue(node.output);
  else text = '-';
  text = text.replace(/[\r\n\t]/g, ' ');
  return text.length > CELL ? `${text.slice(0, CELL - 3)}...` : text;
}

/** A short readable form of any value (`JSON.stringify` returns undefined for undefined and functions). */
function shownValue(value: unknown): string {
  const text: unknown = JSON.stringify(value);
  return typeof text === 'string' ? text : String(value);
}
