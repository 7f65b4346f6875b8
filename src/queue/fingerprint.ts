/**
 * The fingerprint an idempotency key is bound to (Stripe's rule: a key names one request; reusing it for
 * another is an error, FLOWPOOL_IDEMPOTENCY_CONFLICT, and returns nothing of the first). Client and worker
 * compute it alike, from the job as the engine wrote it and as the worker decoded it.
 *
 * In it: the method; the URL (normalised) and `query`; a digest of the body (`body` bytes or text, `json`,
 * `form`); `responseType` and `saveTo` (they change what the result is); and digests of the values of the
 * headers that change what the request does or who it acts for: `content-type`, `content-encoding`,
 * `authorization` and `cookie`, plus the job's `auth`. Credentials are in so that a second caller with
 * other credentials never receives the first caller's response. Left out: every other header (trace
 * context, request ids, user agents, dates), which an engine changes on each attempt of the same
 * request and which would turn every retry into a conflict. Only digests are stored, never values.
 */
import { createHash } from 'node:crypto';
import type { HttpJob } from '../index.js';

/** Header names (lower case) whose values are part of the fingerprint. */
export const FINGERPRINT_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'content-encoding',
  'content-type',
  'cookie',
]);

export function jobFingerprint(job: HttpJob): string {
  const fields = job as unknown as Record<string, unknown>;
  const headers: Record<string, string> = {};
  if (isRecord(fields.headers)) {
    for (const [name, value] of Object.entries(fields.headers)) {
      const lower = name.toLowerCase();
      if (FINGERPRINT_HEADERS.has(lower)) headers[lower] = digest(canonical(value));
    }
  }
  const method = typeof fields.method === 'string' ? fields.method.toUpperCase() : 'GET';
  const url = typeof fields.url === 'string' && URL.canParse(fields.url) ? new URL(fields.url).href : fields.url;
  return digest(
    canonical({
      method,
      url,
      query: fields.query ?? null,
      body: bodyDigest(fields),
      headers,
      auth: fields.auth === undefined ? null : digest(canonical(fields.auth)),
      responseType: fields.responseType ?? null,
      saveTo: fields.saveTo ?? null,
    }),
  );
}

function bodyDigest(fields: Record<string, unknown>): string | null {
  const { body, json, form } = fields;
  if (body instanceof Uint8Array) return digest(body);
  if (typeof body === 'string') return digest(Buffer.from(body, 'utf8'));
  if (json !== undefined) return digest(`json:${canonical(json)}`);
  if (form !== undefined) return digest(`form:${canonical(form)}`);
  return null;
}

/** JSON with object keys sorted, after a JSON round trip (the job crosses Redis as JSON). */
function canonical(value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? 'undefined' : JSON.stringify(sortKeys(JSON.parse(text)));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isRecord(value)) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key]);
  return sorted;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function digest(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
