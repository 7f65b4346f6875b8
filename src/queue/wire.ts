/**
 * Every shape that crosses Redis between a queue client and a queue worker: the job payload (BullMQ job
 * data) and the outcome (BullMQ return value). BullMQ stores both as JSON, so bytes travel as base64 and
 * errors as `{ code, name, message, details }`. Nothing else crosses.
 */
import { z } from 'zod';
import { deserializeError, FlowpoolError, serializeError, type SerializedError } from '../errors/flowpool-error.js';
import type { HttpJob, HttpResult } from '../index.js';

/** Version of the payload; a worker refuses what it cannot read rather than guessing. */
export const WIRE_VERSION = 1;

/** The BullMQ job name a client gives every job; a worker refuses any other (someone else's job). */
export const QUEUE_JOB_NAME = 'http';

/** BullMQ job data. */
export interface JobPayload {
  readonly v: typeof WIRE_VERSION;
  /** The job as the engine wrote it, a `Uint8Array` body as base64 (then `bodyBase64` is true). */
  readonly job: Record<string, unknown>;
  readonly bodyBase64?: true;
  /** When the caller stops waiting (epoch ms): a worker never starts the job after it. */
  readonly deadline: number;
  /** The caller's idempotency key, if any. */
  readonly key?: string;
}

/**
 * What a worker returns for a job (BullMQ's return value), and what an idempotency record holds. `fp`: the
 * fingerprint of the keyed job it answers (fingerprint.ts); a waiter whose job has another never takes it.
 */
export type JobOutcome =
  | {
      readonly ok: true;
      /** The runtime's result; a `Uint8Array` body as base64 (then `bodyBase64` is true). */
      readonly result: Record<string, unknown>;
      readonly bodyBase64?: true;
      readonly by: string;
      readonly fp?: string;
    }
  | { readonly ok: false; readonly error: SerializedError; readonly by: string; readonly fp?: string };

/** A result from queue mode: the runtime's result, and which worker process produced it. */
export type QueueResult = HttpResult & {
  /** The name of the worker process that ran the job (`hostname:pid` unless named). */
  readonly processedBy: string;
};

export function encodeJob(job: HttpJob, key: string | undefined, deadline: number): JobPayload {
  const body = job.body;
  const bytes = body instanceof Uint8Array;
  const copy: Record<string, unknown> = bytes ? { ...job, body: encodeBytes(body) } : { ...job };
  return {
    v: WIRE_VERSION,
    job: copy,
    deadline,
    ...(bytes ? { bodyBase64: true as const } : {}),
    ...(key === undefined ? {} : { key }),
  };
}

const payloadSchema = z.strictObject({
  v: z.literal(WIRE_VERSION),
  job: z.record(z.string(), z.unknown()),
  bodyBase64: z.literal(true).optional(),
  deadline: z.number(),
  key: z.string().optional(),
});

/**
 * Reads job data back. The job itself is validated by the worker's runtime, as any job; this only
 * undoes the encoding. Throws FLOWPOOL_INVALID_JOB for data that is not a flowpool payload.
 */
export function decodeJob(data: unknown): {
  readonly job: HttpJob;
  readonly key: string | undefined;
  readonly deadline: number;
} {
  // Before zod, which drops an own `__proto__` key silently: BullMQ's JSON.parse makes one an own property.
  const proto = protoKeyPath(data, '');
  if (proto !== undefined) {
    const field = proto.startsWith('job.') ? proto.slice('job.'.length) : `payload${proto === '' ? '' : `.${proto}`}`;
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_JOB',
      `invalid queue job: ${field}: expected a key other than __proto__, received the key "__proto__"`,
      { field },
    );
  }
  const parsed = payloadSchema.safeParse(data);
  if (!parsed.success) {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_JOB',
      `invalid queue payload: expected { v: ${WIRE_VERSION}, job, deadline, key? } as a flowpool client writes it`,
      { field: 'payload' },
    );
  }
  const job: Record<string, unknown> = { ...parsed.data.job };
  if (parsed.data.bodyBase64 === true) {
    const bytes = typeof job.body === 'string' ? decodeBase64Strict(job.body) : undefined;
    if (bytes === undefined) {
      throw new FlowpoolError(
        'FLOWPOOL_INVALID_JOB',
        `invalid queue job: body: expected canonical base64 (bodyBase64 is set), received ${typeof job.body === 'string' ? 'text that is not' : typeof job.body}`,
        { field: 'body' },
      );
    }
    job.body = bytes;
  }
  // Plain data from Redis: runtime.run validates it as it would any caller's job.
  return { job: job as unknown as HttpJob, key: parsed.data.key, deadline: parsed.data.deadline };
}

export function encodeResult(result: HttpResult, by: string): JobOutcome {
  if (result.body instanceof Uint8Array) {
    return { ok: true, result: { ...result, body: encodeBytes(result.body) }, bodyBase64: true, by };
  }
  return { ok: true, result: { ...result }, by };
}

export function encodeError(error: unknown, by: string): JobOutcome {
  const flowpoolError =
    error instanceof FlowpoolError
      ? error
      : new FlowpoolError(
          'FLOWPOOL_CONNECTION_FAILED',
          `unexpected failure in the queue worker: ${error instanceof Error ? error.message : String(error)}`,
        );
  return { ok: false, error: serializeError(flowpoolError), by };
}

const outcomeSchema = z.union([
  z.object({
    ok: z.literal(true),
    result: z.record(z.string(), z.unknown()),
    bodyBase64: z.literal(true).optional(),
    by: z.string(),
    fp: z.string().optional(),
  }),
  z.object({
    ok: z.literal(false),
    error: z.object({
      code: z.string(),
      name: z.string(),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
    by: z.string(),
    fp: z.string().optional(),
  }),
]);

/** Reads an outcome (from an event, a stored job or an idempotency record); undefined if it is not one. */
export function parseOutcome(value: unknown): JobOutcome | undefined {
  const data = typeof value === 'string' ? safeJson(value) : value;
  const parsed = outcomeSchema.safeParse(data);
  return parsed.success ? (parsed.data as JobOutcome) : undefined;
}

/** The caller's side of an outcome: a result, or the error to reject with. */
export function settleOutcome(
  outcome: JobOutcome,
  totalMs: number,
): { readonly ok: true; readonly value: QueueResult } | { readonly ok: false; readonly error: FlowpoolError } {
  if (!outcome.ok) return { ok: false, error: deserializeError(outcome.error) };
  const result = { ...outcome.result };
  if (outcome.bodyBase64 === true && typeof result.body === 'string') result.body = decodeBytes(result.body);
  const timings = (result.timings ?? {}) as Record<string, unknown>;
  result.timings = { ...timings, totalMs };
  result.processedBy = outcome.by;
  return { ok: true, value: result as unknown as QueueResult };
}

function encodeBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function decodeBytes(base64: string): Uint8Array {
  const buffer = Buffer.from(base64, 'base64');
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * Base64 as a client writes it (Buffer's standard alphabet, padded), or undefined. Buffer's own decoder
 * skips what it cannot read, so "not base64!" would become some bytes and be sent.
 */
function decodeBase64Strict(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const buffer = Buffer.from(text, 'base64');
  // Non-zero padding bits decode too; a round trip rejects them.
  if (buffer.toString('base64') !== text) return undefined;
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** The dotted path of the first own `__proto__` key anywhere in `value` (depth-bounded), or undefined. */
function protoKeyPath(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value !== 'object' || value === null || depth > 64) return undefined;
  for (const key of Object.keys(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (key === '__proto__') return at;
    const found = protoKeyPath((value as Record<string, unknown>)[key], at, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
