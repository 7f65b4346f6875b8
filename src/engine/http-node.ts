/**
 * The `http` node: one job through the runtime (its pool, its policy, its limits). Output: the response
 * body, text or parsed JSON. A status outside 2xx fails the node with `HTTP_STATUS` (redirects are
 * followed first, each hop checked by the policy, unless `followRedirects` is false); any `FlowpoolError`
 * (blocked destination, timeout, too large, ...) fails it with the error's own code.
 *
 * Inputs order the node (it starts after them) and feed its templates: `url`, `headers` values, `body`
 * and the strings of `json` may use `{{ input }}`, `{{ nodes.<id>.output.path }}`, `{{ variable.x }}`
 * and `{{ const.x }}` (templates.ts). Values are URL-encoded where they land in the URL's path or query;
 * the origin (scheme, host, port) may come from a template only as the whole start of the URL and only from
 * `const` / `variable`, checked at validation (url-template-rule.ts) and again when filled (url-origin.ts);
 * the runtime validates the final job and the SSRF policy judges the final URL. When tracing is on, the
 * job carries the node span's `traceparent` header: the runtime's request spans become its children. With the executor's
 * `bodyDecoding: 'go'` the body is read as the Go engine reads it (go-body.ts).
 */
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { FlowpoolError, type HttpJob, type JobBodyChoice } from '../index.js';
import { jobSchema } from '../schema.js';
import { NodeError } from './errors.js';
import { decodeGoBody } from './go-body.js';
import { jsonText } from './json-text.js';
import { defineNodeType, type NodeContext } from './registry.js';
import { urlTemplateProblem } from './url-template-rule.js';

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
  label: z.string().optional().describe('A name for people; ignored.'),
});

const hasTemplate = (value: unknown): boolean => jsonText(value)?.includes('{{') === true;

export const httpNodeSchema = fields.check((ctx) => {
  const flagged = new Set(ctx.issues.map((issue) => issue.path?.[0]));
  // Fields with templates are judged once filled, at run time (the runtime validates every job).
  for (const key of ['url', 'headers', 'body', 'json'] as const) if (hasTemplate(ctx.value[key])) flagged.add(key);
  // ... except where a template stands in the URL: that is known now and never depends on data.
  const originProblem = flagged.has('url') ? urlTemplateProblem(ctx.value.url) : undefined;
  if (originProblem !== undefined)
    ctx.issues.push({ code: 'custom', message: originProblem, path: ['url'], input: ctx.value.url });
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
    const job = toJob(fill(data, context), context.nodeId);
    // Go's reading of a body needs its bytes: the runtime would decode them by charset and drop a BOM.
    if (context.bodyDecoding === 'go') job.responseType = 'bytes';
    const method = (data.method ?? 'GET').toUpperCase();
    const result = await runTraced(job, context);
    if (result.status < 200 || result.status > 299) {
      throw new NodeError(
        HTTP_STATUS,
        `${method} ${withoutQuery(result.url)} answered ${result.status} ${STATUS_CODES[result.status] ?? ''}`.trimEnd(),
        {
          status: result.status,
        },
      );
    }
    const body = result.body instanceof Uint8Array ? decodeGoBody(result.body) : result.body;
    return data.responseType === 'json' ? parseJson(body) : body;
  },
});

/** The data with its templates filled (only the fields that have any are copied). */
function fill(data: HttpNodeData, context: NodeContext): HttpNodeData {
  if (!hasTemplate(data)) return data;
  const filled = { ...data, url: context.render(data.url, 'url') };
  if (data.headers !== undefined && hasTemplate(data.headers)) {
    filled.headers = Object.fromEntries(
      Object.entries(data.headers).map(([name, value]) => {
        const render = (item: string | number): string | number => {
          if (typeof item !== 'string') return item;
          const rendered = context.render(item);
          // Checked here so that the message never shows the value (it may carry a token).
          if (/[\r\n\0]/.test(rendered))
            throw new FlowpoolError(
              'FLOWPOOL_INVALID_JOB',
              `headers.${name}: expected a header value without CR, LF or NUL after filling its templates (value not shown)`,
            );
          return rendered;
        };
        return [name, Array.isArray(value) ? value.map(render) : render(value)];
      }),
    );
  }
  if (data.body !== undefined) filled.body = context.render(data.body);
  if (data.json !== undefined) filled.json = context.renderValue(data.json);
  return filled;
}

/**
 * The job through the runner, under the node's span: the node span's `traceparent` rides in the job's
 * headers, and the runtime makes its request spans (one CLIENT span per attempt) children of the span a
 * job's `traceparent` names, in this process or, in queue mode, in the worker's (docs/observability.md).
 */
async function runTraced(job: HttpJob, context: NodeContext): ReturnType<NodeContext['runtime']['run']> {
  const span = context.span;
  const traceparent = span.traceparent();
  if (traceparent !== undefined) {
    const headers = Object.entries(job.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'traceparent');
    job.headers = { ...Object.fromEntries(headers), traceparent };
  }
  const result = await context.runtime.run(job, { signal: context.signal });
  if (span.recording)
    span.set({
      'http.response.status_code': result.status,
      'flowpool.attempts': result.attempts,
      'flowpool.worker': result.worker,
    });
  return result;
}

function parseJson(body: unknown): unknown {
  // A byte order mark is kept by Go's decoding; JSON parsers may ignore it (RFC 8259 section 8.1).
  const text = typeof body === 'string' ? body.replace(/^\uFEFF/, '') : '';
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new NodeError('FLOWPOOL_INVALID_RESPONSE', `response is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * The body always comes back as text (as bytes for `bodyDecoding: 'go'`, decoded here) and JSON is parsed
 * here, after the status check: the runtime rejects
 * a body that is not JSON with FLOWPOOL_INVALID_RESPONSE whatever the status, which would hide the
 * HTTP_STATUS of an HTML error page behind a parse error.
 */
function toJob(data: z.output<typeof fields>, id: string | undefined): HttpJob {
  // A fresh object every time: the tracing step adds a header to it.
  // Both body and json are passed on when a node gives both, though HttpJob's type refuses the pair: the
  // job schema then refuses this very job ("either body or json"), naming the node's field.
  const payload = {
    ...(data.body === undefined ? {} : { body: data.body }),
    ...(data.json === undefined ? {} : { json: data.json }),
  } as JobBodyChoice;
  const job: HttpJob = { url: data.url, responseType: 'text', ...payload };
  if (data.method !== undefined) job.method = data.method;
  if (data.headers !== undefined) job.headers = data.headers;
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
