/**
 * Request payloads as an engine passes them (strings, bytes, Blobs, forms, multipart FormData), turned
 * into what crosses to the worker: a string, a Uint8Array copy, or a Blob. Blobs are immutable and
 * structured clone shares their data instead of copying it, so a multipart body built here as a Blob of
 * its parts (files included) costs no copy on this thread; the worker hands it to undici, which streams
 * it with its exact content-length. Also the URL helpers: `baseUrl` and `query`.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { FlowpoolError } from '../errors/flowpool-error.js';
import { isStreamBody, toByteStream, type StreamBody } from '../threads/request-stream.js';

import type { WireBody } from '../wire/protocol.js';

export type { WireBody } from '../wire/protocol.js';

/** A FormData from the global (undici's) class or from another copy of undici: both iterate entries. */
function isFormDataLike(value: unknown): value is FormData {
  if (value instanceof FormData) return true;
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'FormData' &&
    typeof (value as { entries?: unknown }).entries === 'function'
  );
}

/** Every body kind accepted without a stream. */
export const requestBodySchema = z.custom<
  string | Uint8Array | ArrayBuffer | Blob | URLSearchParams | FormData | StreamBody
>(
  (value) =>
    isStreamBody(value) ||
    typeof value === 'string' ||
    value instanceof Uint8Array ||
    value instanceof ArrayBuffer ||
    value instanceof Blob ||
    value instanceof URLSearchParams ||
    isFormDataLike(value),
  {
    error:
      'expected a string, Uint8Array, ArrayBuffer, Blob, URLSearchParams, FormData, Readable, ReadableStream or async iterable of Uint8Array',
  },
);

const formValue = z.union([z.string(), z.number(), z.boolean()]);

/** `form: { k: v }`: sent as `application/x-www-form-urlencoded`; an array repeats its key. */
export const formSchema = z.record(z.string(), z.union([formValue, z.array(formValue).max(10_000)]));

/** `query: { k: v | v[] }`: appended to the URL's query; an array repeats its key. */
export const querySchema = formSchema;

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded;charset=UTF-8';

export interface PreparedBody {
  readonly body: WireBody | undefined;
  /** The content-type the body implies, used when the job's headers set none. */
  readonly contentType: string | undefined;
}

/**
 * Turns a validated `body` or `form` into its wire form. Bytes are copied now, so a caller that reuses
 * or transfers its buffer after run() cannot change or break what is sent.
 */
export function prepareBody(
  body: z.output<typeof requestBodySchema> | undefined,
  form: z.output<typeof formSchema> | undefined,
  jobId: string | undefined,
): PreparedBody {
  if (form !== undefined) return { body: toSearchParams(form).toString(), contentType: FORM_CONTENT_TYPE };
  if (body === undefined || typeof body === 'string') return { body, contentType: undefined };
  if (body instanceof Uint8Array) return { body: copyBytes(body, jobId), contentType: undefined };
  if (body instanceof ArrayBuffer) return { body: copyBytes(body, jobId), contentType: undefined };
  if (body instanceof Blob) return { body, contentType: body.type === '' ? undefined : body.type };
  if (body instanceof URLSearchParams) return { body: body.toString(), contentType: FORM_CONTENT_TYPE };
  if (isStreamBody(body)) return { body: toByteStream(body), contentType: undefined };
  return encodeMultipart(body);
}

/** `query` appended to the URL; the URL's own query is kept byte for byte (signed URLs stay valid). */
export function appendQuery(url: URL, query: z.output<typeof querySchema>): void {
  const extra = toSearchParams(query).toString();
  if (extra === '') return;
  url.search = url.search.length > 1 ? `${url.search}&${extra}` : extra;
}

/**
 * The job's URL resolved against a base (the job's `baseUrl`, else the runtime's), the way a browser
 * resolves a link: `items` under `https://api/v1/` is `https://api/v1/items`, `/items` is
 * `https://api/items`. An absolute URL is left as it is; an unresolvable one is left for the schema to
 * refuse with its own message.
 */
export function resolveAgainstBase(input: unknown, runtimeBaseUrl: string | undefined): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const job = input as { url?: unknown; baseUrl?: unknown };
  const base = typeof job.baseUrl === 'string' ? job.baseUrl : runtimeBaseUrl;
  if (base === undefined || typeof job.url !== 'string' || URL.canParse(job.url)) return input;
  if (!URL.canParse(job.url, base)) return input;
  return { ...job, url: new URL(job.url, base).href };
}

function toSearchParams(record: z.output<typeof formSchema>): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(record)) {
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item));
    else params.append(key, String(value));
  }
  return params;
}

function copyBytes(bytes: Uint8Array | ArrayBuffer, jobId: string | undefined): Uint8Array {
  try {
    // Viewing a detached ArrayBuffer throws too, so the view is made inside the guard.
    return new Uint8Array(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes);
  } catch {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_JOB',
      'invalid job: job.body: expected readable bytes, received a buffer whose ArrayBuffer is detached',
      { field: 'job.body', ...(jobId === undefined ? {} : { jobId }) },
    );
  }
}

/**
 * multipart/form-data (RFC 7578) as one Blob: the part headers as strings and the files as the caller's
 * own Blobs, never read here. Names, filenames and text values follow the HTML encoding rules (line
 * breaks as CRLF; CR, LF and `"` in names percent-escaped).
 */
export function encodeMultipart(form: FormData): PreparedBody {
  const boundary = `----flowpool-${randomUUID()}`;
  const parts: (string | Blob)[] = [];
  for (const [name, value] of form.entries()) {
    const disposition = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"`;
    if (typeof value === 'string') {
      parts.push(`${disposition}\r\n\r\n${normalizeLineBreaks(value)}\r\n`);
    } else {
      const type = value.type === '' ? 'application/octet-stream' : value.type;
      const filename = (value as { name?: unknown }).name;
      parts.push(
        `${disposition}; filename="${escapeName(typeof filename === 'string' ? filename : 'blob')}"\r\nContent-Type: ${type}\r\n\r\n`,
        value,
        '\r\n',
      );
    }
  }
  parts.push(`--${boundary}--\r\n`);
  const contentType = `multipart/form-data; boundary=${boundary}`;
  return { body: new Blob(parts, { type: contentType }), contentType };
}

function normalizeLineBreaks(value: string): string {
  return value.replace(/\r\n|\r|\n/g, '\r\n');
}

function escapeName(name: string): string {
  return normalizeLineBreaks(name).replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
}
