import { z } from 'zod';
import { FlowpoolError, isFlowpoolError } from '../errors/flowpool-error.js';
import { refuseForbiddenKeys } from '../config/forbidden-keys.js';
import type { JobRequest } from '../wire/protocol.js';
import { DEFAULTS, retrySettingsSchema, type RetrySettings } from '../config/options.js';
import { describeKind } from '../errors/received-kind.js';
import { isRepeatable } from './repeatable.js';
import { HEADER_VALUE_INVALID, REFUSED_HEADERS, REFUSED_METHODS, TOKEN } from './header-rules.js';
import { addDefaultHeaders, type HeaderDefaults } from './request-headers.js';
import { authSchema } from '../config/transport-options.js';
import { DEFAULT_TENANT, tenantName } from '../scheduling/tenants.js';
import { toValidationError } from '../errors/validation.js';
import {
  appendQuery,
  formSchema,
  prepareBody,
  querySchema,
  requestBodySchema,
  resolveAgainstBase,
} from './request-body.js';
import { payloadOf, saveToSchema } from './job-payload.js';
import { cookiesSchema, jarFor, type CookieJarLike } from './cookies.js';

/** Fields whose values may be secrets: an error names them and says what kind of value, never the value. */
const CONCEALED_FIELDS: ReadonlySet<PropertyKey> = new Set(['headers', 'body', 'json']);
/** Records of a job whose keys are checked for `__proto__`, `constructor`, `prototype`. */
const JOB_RECORDS = ['headers', 'query', 'form'] as const;
/** Bytes a header line adds beyond its name and value: ": " and CRLF. */
const HEADER_LINE_OVERHEAD = 4;

const headerValue = z.union([z.string(), z.number()]).refine((v) => !HEADER_VALUE_INVALID.test(String(v)), {
  error: 'expected a header value of visible characters, spaces and tabs (no control characters, nothing above U+00FF)',
});

const urlString = z
  .string()
  .max(16_384)
  .refine((value) => URL.canParse(value), { error: 'expected an absolute http or https URL', abort: true })
  .refine(
    (value) => {
      const protocol = new URL(value).protocol;
      return protocol === 'http:' || protocol === 'https:';
    },
    { error: 'expected an http: or https: URL' },
  );

/** Schema of a job as an engine submits it. Plain data only. */
export const jobSchema = z
  .strictObject({
    /** Absolute http(s) URL. */
    url: urlString,
    /** HTTP method, any case. @default 'GET' */
    method: z
      .string()
      .regex(TOKEN, { error: 'expected an HTTP method token' })
      .max(32)
      .refine((m) => !REFUSED_METHODS.has(m.toUpperCase()), {
        error: 'expected a method other than CONNECT, TRACE, TRACK',
      })
      .optional(),
    /** Request headers; names are case-insensitive. */
    headers: z
      .record(
        z
          .string()
          .regex(TOKEN, { error: 'expected a header name token' })
          .refine((name) => !REFUSED_HEADERS.has(name.toLowerCase()), {
            error: 'expected a header flowpool does not set itself (host, connection, content-length, ... are refused)',
          }),
        z.union([headerValue, z.array(headerValue).max(64)]),
      )
      .optional(),
    /**
     * Request body: a string, Uint8Array/Buffer, ArrayBuffer, Blob, URLSearchParams (sent as
     * `application/x-www-form-urlencoded`), FormData (sent as multipart/form-data, files included), or a
     * stream (Node Readable, web ReadableStream, async iterable of Uint8Array) sent chunked as it is read.
     * Exclusive with `json` and `form`.
     */
    body: requestBodySchema.optional(),
    /** Fields sent as an `application/x-www-form-urlencoded` body; an array repeats its key. Exclusive with `body` and `json`. */
    form: formSchema.optional(),
    /** Query parameters appended to the URL's own query; an array repeats its key. */
    query: querySchema.optional(),
    /**
     * Writes the response body to this absolute file path in the worker instead of returning it; the
     * result's body is `{ path, bytes }`. The file appears only once complete (a failure leaves no partial
     * file). Not with `responseType` or `transform`.
     */
    saveTo: saveToSchema.optional(),
    /**
     * Cookies for this job: `true` gives it a jar of its own (a Set-Cookie on one hop is sent on the next,
     * then forgotten); a tough-cookie `CookieJar` is read and updated, so later jobs with the same jar
     * carry its cookies. Jars are never shared between jobs implicitly. @default false
     */
    cookies: cookiesSchema.optional(),
    /** Base a relative `url` is resolved against (WHATWG rules). @default the runtime's `baseUrl` */
    baseUrl: urlString.optional(),
    /** A value sent as a JSON body with `content-type: application/json`. Exclusive with `body`. */
    json: z.unknown().optional(),
    /** How the response body is returned. @default 'text' */
    responseType: z.enum(['text', 'json', 'bytes', 'stream']).optional(),
    /** Total deadline of this job in ms (connect, headers and body). @default the runtime's `timeoutMs` */
    timeoutMs: z.int().min(1).max(2_147_483_647).optional(),
    /** Largest response body for this job. @default the runtime's `maxResponseBytes` */
    maxResponseBytes: z.int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    /** Follow redirects (each hop checked by the policy). @default true */
    followRedirects: z.boolean().optional(),
    /** Redirects followed at most. @default the runtime's `maxRedirects` */
    maxRedirects: z.int().min(0).max(100).optional(),
    /** Name of a transform registered in the runtime's `transforms` option, run on the body in the worker. */
    transform: z.string().max(64).optional(),
    /** Retry settings for this job, overriding the runtime's `retry` field by field. */
    retry: retrySettingsSchema.optional(),
    /** Marks a job safe to run again (beyond GET, HEAD, OPTIONS) if a worker dies under it. @default false */
    idempotent: z.boolean().optional(),
    /**
     * Credentials sent as `authorization` (basic or bearer), never to another origin on a redirect.
     * @default the runtime's `hostAuth` for the host, if any
     */
    auth: authSchema.optional(),
    /**
     * Ask for compressed responses (`accept-encoding: gzip, deflate, br`) and decode them within the size
     * limit. `false` sends no accept-encoding.
     * @default true
     */
    decompress: z.boolean().optional(),
    /** The engine's own id for the job, echoed in errors. */
    id: z.string().max(256).optional(),
    /** Whose job it is: tenants share each origin's queue by the weights of the runtime's `tenants`. @default 'default' */
    tenant: tenantName.optional(),
    /** A profile of the runtime's `profiles`: its transport settings, policy and default headers. @default none */
    profile: z.string().max(64).optional(),
  })
  .refine((job) => job.body === undefined || job.json === undefined, {
    error: 'expected either body or json, not both',
    path: ['json'],
  })
  .refine((job) => job.saveTo === undefined || (job.responseType === undefined && job.transform === undefined), {
    error: 'expected saveTo without responseType or transform (the body goes to the file)',
    path: ['saveTo'],
  })
  .refine((job) => job.responseType !== 'stream' || job.transform === undefined, {
    error: 'expected no transform with responseType stream (the body is handed over as it arrives)',
    path: ['transform'],
  })
  .refine((job) => job.form === undefined || (job.body === undefined && job.json === undefined), {
    error: 'expected form alone, not with body or json',
    path: ['form'],
  });

/** A job as an engine writes it: a written interface (http-job.ts) that `jobSchema` checks. */
export type { HttpJob } from './http-job.js';

/** Runtime-level defaults a job falls back to. */
export interface JobDefaults extends HeaderDefaults {
  readonly retry: RetrySettings;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly maxRedirects: number;
  /** Names a job's `transform` may take. */
  readonly transforms: Readonly<Record<string, string>>;
  /** Header lines a job may send at most (array values count one line each). @default 100 */
  readonly maxRequestHeaders?: number;
  /** Bytes of header lines (name, value, ": " and CRLF) a job may send at most. @default 16384 */
  readonly maxRequestHeaderBytes?: number;
  /** Base a relative job URL is resolved against. */
  readonly baseUrl?: string | undefined;
  /** A profile's index and header defaults by name; undefined for a name the runtime does not know. */
  readonly profileNamed?: (name: string) => JobProfile | undefined;
}

/** What a job's profile changes on the main thread: the header defaults, and the index the worker knows it by. */
export interface JobProfile {
  readonly index: number;
  readonly defaults: HeaderDefaults;
}

/**
 * A validated job with every default applied, ready for the coordinator. The fields a worker needs keep
 * the wire record's types ({@link JobRequest}, built from this per dispatch with an id, the path, the
 * time left and the origin's counter row).
 */
export interface NormalizedJob extends Pick<
  JobRequest,
  | 'origin'
  | 'method'
  | 'headers'
  | 'body'
  | 'responseType'
  | 'maxResponseBytes'
  | 'followRedirects'
  | 'maxRedirects'
  | 'payload'
> {
  readonly id: string | undefined;
  /** The URL as the WHATWG parser writes it (what the result's `url` says when nothing redirected). */
  readonly href: string;
  /** The URL's hostname (`[::1]` for an IPv6 literal): the key of per-host traffic rules. */
  readonly hostname: string;
  /** Path and query, as sent on the request line. */
  readonly path: string;
  /** The job's whole deadline (a dispatch sends what is left of it). */
  readonly timeoutMs: number;
  readonly transform: string | undefined;
  /** The retry settings in force for this job: its own fields over the runtime's, merged once here. */
  readonly retry: RetrySettings;
  /** Safe to run a second time if the worker died before anything reached the caller. */
  readonly repeatable: boolean;
  /** The job's cookie jar (its own, or the caller's); stays on the main thread. */
  readonly cookieJar: CookieJarLike | undefined;
  /** Whose job it is (`'default'` when the job named none). */
  readonly tenant: string;
  /** The job's profile index; 0 for the runtime's own settings. */
  readonly profile: number;
  /** The job's profile name, as it named it (for observers); undefined for the runtime's own settings. */
  readonly profileName: string | undefined;
}

/**
 * Validates and normalises a job; throws `FLOWPOOL_INVALID_JOB` naming the field, and nothing else: a job
 * is a stranger's input, and a getter or Proxy trap that throws while it is read is an invalid job too
 * (the thrown error is kept as `cause`, its message is not quoted).
 */
export function normalizeJob(input: unknown, defaults: JobDefaults): NormalizedJob {
  try {
    return normalizeValidJob(parseJob(input, defaults), defaults);
  } catch (error) {
    if (isFlowpoolError(error)) throw error;
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_JOB',
      `invalid job: job: expected plain data, received an object that threw while being read (${errorName(error)})`,
      { field: 'job' },
      { cause: error },
    );
  }
}

function parseJob(input: unknown, defaults: JobDefaults): z.output<typeof jobSchema> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_JOB',
      `invalid job: job: expected a job object ({ url, ... }), received ${describeKind(input)}`,
      { field: 'job' },
    );
  }
  const rawId = Object.hasOwn(input, 'id') ? (input as { id?: unknown }).id : undefined;
  const jobId = typeof rawId === 'string' ? rawId : undefined;
  refuseForbiddenKeys('FLOWPOOL_INVALID_JOB', 'job', input, JOB_RECORDS, jobId);
  // Refuse a huge header record before zod walks every entry of it.
  const maxHeaders = defaults.maxRequestHeaders ?? DEFAULTS.maxRequestHeaders;
  const rawHeaders = (input as { headers?: unknown }).headers;
  if (typeof rawHeaders === 'object' && rawHeaders !== null) {
    const count = Reflect.ownKeys(rawHeaders).length;
    if (count > maxHeaders) throw tooManyHeaders(maxHeaders, `${String(count)} headers`, jobId);
  }
  const result = jobSchema.safeParse(resolveAgainstBase(input, defaults.baseUrl));
  if (!result.success) {
    throw toValidationError('FLOWPOOL_INVALID_JOB', 'job', result.error.issues, input, {
      jobId,
      concealed: CONCEALED_FIELDS,
      schema: jobSchema,
    });
  }
  return result.data;
}

function normalizeValidJob(job: z.output<typeof jobSchema>, defaults: JobDefaults): NormalizedJob {
  const url = new URL(job.url);
  if (job.query !== undefined) appendQuery(url, job.query);
  const method = (job.method ?? 'GET').toUpperCase();
  const headers: string[] = [];
  let hasContentType = false;
  if (job.headers !== undefined) {
    for (const [name, value] of Object.entries(job.headers)) {
      const lower = name.toLowerCase();
      if (lower === 'content-type') hasContentType = true;
      if (Array.isArray(value)) for (const item of value) headers.push(lower, String(item));
      else headers.push(lower, String(value));
    }
    checkHeaderSize(headers, defaults, job.id);
  }
  if (job.auth !== undefined && headers.some((value, i) => i % 2 === 0 && value === 'authorization')) {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_JOB',
      'invalid job: job.auth: expected either auth or an authorization header, not both',
      {
        field: 'job.auth',
        ...(job.id === undefined ? {} : { jobId: job.id }),
      },
    );
  }
  const prepared = prepareBody(job.body, job.form, job.id);
  let body = prepared.body;
  if (prepared.contentType !== undefined && !hasContentType) headers.push('content-type', prepared.contentType);
  if (job.json !== undefined) {
    body = encodeJson(job.json, job.id);
    if (!hasContentType) headers.push('content-type', 'application/json');
  }
  const profile = job.profile === undefined ? undefined : profileOf(job.profile, defaults, job.id);
  // Under everything the job set itself (src/job/request-headers.ts).
  addDefaultHeaders(headers, url, job.auth, job.decompress ?? true, profile?.defaults ?? defaults);
  // GET may carry a body (Elasticsearch-style search); a HEAD response has none to answer it with.
  if (body !== undefined && method === 'HEAD') {
    throw new FlowpoolError('FLOWPOOL_INVALID_JOB', `invalid job: job.body: expected no body with ${method}`, {
      field: 'job.body',
      ...(job.id === undefined ? {} : { jobId: job.id }),
    });
  }
  const streamed = body instanceof ReadableStream || job.responseType === 'stream';
  if (job.transform !== undefined && !Object.hasOwn(defaults.transforms, job.transform)) {
    const known = Object.keys(defaults.transforms);
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_JOB',
      `invalid job: job.transform: expected one of the registered transforms (${known.length === 0 ? 'none registered' : known.join(', ')}), received ${JSON.stringify(job.transform)}`,
      { field: 'job.transform', ...(job.id === undefined ? {} : { jobId: job.id }) },
    );
  }
  return {
    id: job.id,
    href: url.href,
    hostname: url.hostname,
    path: `${url.pathname}${url.search}`,
    origin: url.origin,
    method,
    headers,
    body,
    responseType: job.responseType ?? 'text',
    timeoutMs: job.timeoutMs ?? defaults.timeoutMs,
    maxResponseBytes: job.maxResponseBytes ?? defaults.maxResponseBytes,
    followRedirects: job.followRedirects ?? true,
    maxRedirects: job.maxRedirects ?? defaults.maxRedirects,
    transform: job.transform,
    retry: mergeRetry(defaults.retry, job.retry),
    // A streamed request body can be read once, and a streamed response is handed over as it arrives:
    // neither is sent again (no retry, no resend, no re-run).
    repeatable: isRepeatable(method, job.idempotent) && !streamed,
    payload: payloadOf(job),
    cookieJar: jarFor(job.cookies),
    tenant: job.tenant ?? DEFAULT_TENANT,
    profile: profile?.index ?? 0,
    profileName: profile === undefined ? undefined : job.profile,
  };
}

/** The job's profile; an unknown name is the caller's mistake, named like any other field. */
function profileOf(name: string, defaults: JobDefaults, jobId: string | undefined): JobProfile {
  const profile = defaults.profileNamed?.(name);
  if (profile !== undefined) return profile;
  throw new FlowpoolError(
    'FLOWPOOL_INVALID_JOB',
    `invalid job: job.profile: expected the name of a profile of the runtime (profiles or setProfile), received ${JSON.stringify(name)}`,
    { field: 'job.profile', ...(jobId === undefined ? {} : { jobId }) },
  );
}

/** Caps the header lines a caller sends: count and bytes, both known before anything is queued. */
function checkHeaderSize(flat: readonly string[], defaults: JobDefaults, jobId: string | undefined): void {
  const maxHeaders = defaults.maxRequestHeaders ?? DEFAULTS.maxRequestHeaders;
  const maxBytes = defaults.maxRequestHeaderBytes ?? DEFAULTS.maxRequestHeaderBytes;
  const lines = flat.length / 2;
  if (lines > maxHeaders) throw tooManyHeaders(maxHeaders, `${String(lines)} header lines`, jobId);
  let bytes = 0;
  // Every value passed HEADER_VALUE_INVALID (no character above U+00FF), so one character is one byte.
  for (const part of flat) bytes += part.length;
  bytes += lines * HEADER_LINE_OVERHEAD;
  if (bytes > maxBytes) {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_JOB',
      `invalid job: job.headers: expected at most ${String(maxBytes)} bytes of header lines (maxRequestHeaderBytes), received ${String(bytes)} bytes`,
      jobId === undefined ? { field: 'job.headers' } : { field: 'job.headers', jobId },
    );
  }
}

function tooManyHeaders(max: number, received: string, jobId: string | undefined): FlowpoolError {
  return new FlowpoolError(
    'FLOWPOOL_INVALID_JOB',
    `invalid job: job.headers: expected at most ${String(max)} header lines (maxRequestHeaders), received ${received}`,
    jobId === undefined ? { field: 'job.headers' } : { field: 'job.headers', jobId },
  );
}

/** The name of whatever was thrown, never its message (it may quote the caller's data). */
function errorName(error: unknown): string {
  try {
    return error instanceof Error ? error.name : describeKind(error);
  } catch {
    // A thrown Proxy can throw again from its getPrototypeOf or get trap.
    return 'an exception';
  }
}

function encodeJson(value: unknown, id: string | undefined): string {
  let text: string | undefined;
  try {
    text = stringifyJson(value);
  } catch (error) {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_JOB',
      `invalid job: job.json: expected a JSON-serialisable value, received one that failed (${(error as Error).message})`,
      { field: 'job.json', ...(id === undefined ? {} : { jobId: id }) },
    );
  }
  if (text === undefined) {
    throw new FlowpoolError('FLOWPOOL_INVALID_JOB', 'invalid job: job.json: expected a JSON-serialisable value', {
      field: 'job.json',
      ...(id === undefined ? {} : { jobId: id }),
    });
  }
  return text;
}

/** JSON.stringify gives undefined for undefined, a function or a symbol, whatever its declared type says. */
function stringifyJson(value: unknown): string | undefined {
  return JSON.stringify(value);
}

/** The job's retry fields over the runtime's, field by field (an absent or undefined field keeps the runtime's). */
function mergeRetry(runtime: RetrySettings, own: z.output<typeof retrySettingsSchema> | undefined): RetrySettings {
  if (own === undefined) return runtime;
  return {
    attempts: own.attempts ?? runtime.attempts,
    minDelayMs: own.minDelayMs ?? runtime.minDelayMs,
    maxDelayMs: own.maxDelayMs ?? runtime.maxDelayMs,
    statuses: own.statuses ?? runtime.statuses,
    errorCodes: own.errorCodes ?? runtime.errorCodes,
  };
}
