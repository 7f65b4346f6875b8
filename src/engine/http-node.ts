/**
 * The `http` node: one job through the runtime (its pool, its policy, its limits). Output: the response
 * body, text or parsed JSON. A status outside 2xx fails the node with `HTTP_STATUS` (redirects are
 * followed first, each hop checked by the policy, unless `followRedirects` is false); any `FlowpoolError`
 * (blocked destination, timeout, too large, ...) fails it with the error's own code.
 *
 * Inputs only order the node (it starts after them); their values are not used.
 */
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { jobSchema, type HttpJob } from '../index.js';
import { NodeError } from './errors.js';
import { defineNodeType } from './registry.js';

/** A response status outside 200-299. */
export const HTTP_STATUS = 'HTTP_STATUS';

const headerValue = z.union([z.string(), z.number()]);

// Types only here: the semantic checks are the runtime's own job schema, applied below, so a workflow
// is refused for exactly what a job would be refused for (bad URL, CONNECT, a `host` header, ...).
const fields = z.strictObject({
  url: z.string().meta({ format: 'uri', description: 'Absolute http: or https: URL.' }),
  method: z.string().optional().describe('HTTP method (default GET).'),
  headers: z
    .record(z.string(), z.union([headerValue, z.array(headerValue)]))
    .optional()
    .describe('Request headers.'),
  body: z.string().optional().describe('Request body (not with GET or HEAD; exclusive with json).'),
  json: z.unknown().optional().describe('A value sent as a JSON body, with content-type application/json.'),
  responseType: z.enum(['text', 'json']).optional().describe('Output the body as text (default) or parsed JSON.'),
  timeoutMs: z
    .int()
    .min(1)
    .max(2_147_483_647)
    .optional()
    .describe("Total deadline in ms (default: the runtime's timeoutMs)."),
  followRedirects: z
    .boolean()
    .optional()
    .describe('Follow redirects (default true); a 3xx not followed is a node error.'),
});

export const httpNodeSchema = fields.check((ctx) => {
  const flagged = new Set(ctx.issues.map((issue) => issue.path?.[0]));
  const job = toJob(ctx.value, undefined);
  const parsed = jobSchema.safeParse(job);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (flagged.has(issue.path[0])) continue;
      flagged.add(issue.path[0]);
      // A refused header name arrives wrapped ("Invalid key in record"): keep the inner reason.
      const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
      const input = issue.code === 'invalid_key' ? issue.path[issue.path.length - 1] : valueAt(job, issue.path);
      ctx.issues.push({ code: 'custom', message, path: [...issue.path], input });
    }
  }
  const method = (ctx.value.method ?? 'GET').toUpperCase();
  if (
    (method === 'GET' || method === 'HEAD') &&
    (ctx.value.body !== undefined || ctx.value.json !== undefined) &&
    !flagged.has('body')
  ) {
    const key = ctx.value.body === undefined ? 'json' : 'body';
    ctx.issues.push({ code: 'custom', message: `expected no body with ${method}`, path: [key], input: ctx.value[key] });
  }
});

export type HttpNodeData = z.output<typeof httpNodeSchema>;

export const httpNode = defineNodeType({
  type: 'http',
  description: 'An HTTP request through the flowpool runtime; outputs the response body.',
  schema: httpNodeSchema,
  async execute(_inputs, data, context) {
    const result = await context.runtime.run(toJob(data, context.nodeId), { signal: context.signal });
    if (result.status < 200 || result.status > 299) {
      const method = (data.method ?? 'GET').toUpperCase();
      throw new NodeError(
        HTTP_STATUS,
        `${method} ${withoutQuery(result.url)} answered ${result.status} ${STATUS_CODES[result.status] ?? ''}`.trimEnd(),
        {
          status: result.status,
        },
      );
    }
    return data.responseType === 'json' ? parseJson(result.body) : result.body;
  },
});

function parseJson(body: unknown): unknown {
  const text = typeof body === 'string' ? body : '';
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new NodeError('FLOWPOOL_INVALID_RESPONSE', `response is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * The body always comes back as text and JSON is parsed here, after the status check: the runtime rejects
 * a body that is not JSON with FLOWPOOL_INVALID_RESPONSE whatever the status, which would hide the
 * HTTP_STATUS of an HTML error page behind a parse error.
 */
function toJob(data: z.output<typeof fields>, id: string | undefined): HttpJob {
  const job: HttpJob = { url: data.url, responseType: 'text' };
  if (data.method !== undefined) job.method = data.method;
  if (data.headers !== undefined) job.headers = data.headers;
  if (data.body !== undefined) job.body = data.body;
  if (data.json !== undefined) job.json = data.json;
  if (data.timeoutMs !== undefined) job.timeoutMs = data.timeoutMs;
  if (data.followRedirects !== undefined) job.followRedirects = data.followRedirects;
  if (id !== undefined) job.id = id;
  return job;
}

/** Query strings often carry tokens: keep them out of messages that end up in logs. */
function withoutQuery(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
