/**
 * Every shape that crosses the thread boundary, and nothing else. All of it is plain data: a class
 * instance, a function or an Error would lose its identity (or crash the worker) in structured clone.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SerializedError } from '../errors/flowpool-error.js';

/**
 * A request body as a job carries it: text, bytes or a Blob are copied or shared by structured clone; a
 * stream crosses as the port of its chunks (transfer-list.ts) and is a ReadableStream again on each side.
 */
export type WireBody = string | Uint8Array | Blob | ReadableStream<Uint8Array>;

export type ResponseType = 'text' | 'json' | 'bytes' | 'stream';

/** On a stream's own port (chunk-port.ts), sender to receiver: bytes (a view of a transferred buffer), then the end or a failure. */
export type ChunkMessage =
  | { readonly type: 'chunk'; readonly bytes: Uint8Array }
  | { readonly type: 'end' }
  | { readonly type: 'error'; readonly error: SerializedError };

/** On a stream's own port, receiver to sender: room for this many more chunks, and a buffer to reuse (transferred). */
export interface ChunkCredit {
  readonly chunks: number;
  readonly buffer?: ArrayBuffer;
}

/** Sent once to each worker as piscina's `workerData`. */
export interface WorkerBootData {
  readonly shard: number;
  readonly counters: SharedArrayBuffer;
  readonly slots: number;
  readonly workers: number;
  readonly policy: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  readonly resolve: Readonly<Record<string, readonly string[]>>;
  /** Transform name -> module specifier, imported lazily by the worker. */
  readonly transforms: Readonly<Record<string, string>>;
  /** TLS, proxy and HTTP/2 settings (src/config/transport-options.ts builds it). */
  readonly transport: WorkerTransport;
  readonly agent: {
    readonly connectionsPerHost: number;
    readonly headersTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    readonly connectTimeoutMs: number;
    readonly maxHeaderBytes: number;
  };
}

/** A worker's transport settings, plain data: PEM material is copied once into each worker. */
export interface WorkerTransport {
  readonly tls: WorkerTlsSettings;
  readonly tlsReplaceRoots: boolean;
  /** Host pattern (as in `hostLimits`) -> settings merged over `tls`. */
  readonly hostTls: Readonly<Record<string, WorkerTlsSettings & { readonly allowH2?: boolean }>>;
  readonly allowH2: boolean;
  /** Absent: every request goes direct. */
  readonly proxy: { readonly http?: string; readonly https?: string; readonly noProxy: readonly string[] } | undefined;
}

/** One profile's settings as a worker builds its dispatcher from them (config/profile-options.ts makes it). */
export interface WorkerProfile {
  readonly policy: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  readonly transport: WorkerTransport;
}

/**
 * Profiles installed or replaced, sent on the job port (ahead of any job that names them, so a worker always
 * knows a job's profile): at a worker's load every profile there is, then each change once. Index 0 is the
 * runtime's own settings, never sent. A replaced profile's dispatcher closes once its jobs have ended.
 */
export interface ProfilesMessage {
  readonly type: 'profiles';
  readonly profiles: readonly (readonly [index: number, settings: WorkerProfile])[];
}

export interface WorkerTlsSettings {
  readonly ca?: string | Uint8Array | readonly (string | Uint8Array)[];
  readonly cert?: string | Uint8Array;
  readonly key?: string | Uint8Array;
  readonly passphrase?: string;
  readonly servername?: string;
  readonly rejectUnauthorized?: boolean;
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/** One job, as the worker runs it: validated and normalised on the main thread already. */
export interface JobRequest {
  /** Runtime-internal id, unique per runtime; used for cancel. */
  readonly id: number;
  /** `scheme://host[:port]`, as `URL.origin` gives it. */
  readonly origin: string;
  /** Path and query, as sent on the request line. */
  readonly path: string;
  readonly method: string;
  /** Flat `[name, value, name, value, ...]`, names lower-case. */
  readonly headers: readonly string[];
  /** A streamed body is a ReadableStream on the main thread and crosses as the port of its chunks. */
  readonly body: WireBody | MessagePort | undefined;
  readonly responseType: ResponseType;
  /** Milliseconds left of the job's total deadline when it was sent. */
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly followRedirects: boolean;
  /** Redirects this dispatch may still follow (the job's maxRedirects less the hops before it). */
  readonly maxRedirects: number;
  /** The job's own timeoutMs and maxRedirects, for error messages: the caller set those, not the shares above. */
  readonly jobTimeoutMs: number;
  readonly jobMaxRedirects: number;
  /** The origin's row in the connection counters; -1 when the origin is not capped. */
  readonly slot: number;
  /** The job's profile (its dispatcher and policy in the worker); 0 for the runtime's own settings. */
  readonly profile: number;
  /** A registered transform to run on the decoded body, if any. */
  readonly transform?: string | undefined;
  /**
   * Safe to send more than once (job/repeatable.ts: an idempotent method or a job marked so, never a streamed
   * body): resent once if a reused socket fails before any response byte.
   */
  readonly repeatable: boolean;
  /** Payload options beyond the request itself (saveTo, cookies, streams); absent for most jobs. */
  readonly payload?: JobPayload | undefined;
}

/** What a job asks of the worker beyond sending the request and reading the body into memory. */
export interface JobPayload {
  /** Absolute path the body is written to, in the worker; the result's body is `{ path, bytes }`. */
  readonly saveTo?: string;
  /** The caller's jar's cookies for the dispatch's origin (tough-cookie's JSON form); present when the job uses cookies. */
  readonly cookies?: readonly CookieRecord[];
}

/** One cookie as tough-cookie's `Cookie.toJSON()` gives it: plain data. */
export type CookieRecord = Readonly<Record<string, unknown>>;

/** `[url, Set-Cookie value]` pairs a dispatch saw, for the main thread's jar; absent when none. */
export type SeenSetCookies = readonly (readonly [url: string, header: string])[];

/**
 * A finished request. Kept lean because one crosses the thread boundary per job: fields the main
 * thread already knows are left out when they add nothing (the URL when nothing redirected).
 */
export interface JobSuccess {
  readonly ok: true;
  readonly status: number;
  /** Built on the main thread from the packed string the worker sent (wire/headers.ts). */
  readonly headers: Record<string, string | string[]>;
  /** text: string; json: the parsed value; bytes: Uint8Array. */
  readonly body: unknown;
  /** Every URL redirected to in this dispatch, in order; absent when there was none. */
  readonly redirects?: readonly string[];
  /** From the worker receiving this dispatch to the response headers of its final hop, in ms. */
  readonly headersMs: number;
  /** Bytes of body received (after decompression). */
  readonly bytes: number;
  readonly setCookies?: SeenSetCookies;
}

export interface JobFailure {
  readonly ok: false;
  readonly error: SerializedError;
  /**
   * Whether a byte of this dispatch's request may have reached the network: true once undici began writing
   * a request of it to a socket (its `onRequestStart` passed without an abort). False is a promise: nothing
   * was written, and nothing of this dispatch will be.
   */
  readonly sent: boolean;
}

/** One request of a job: the job's own, or a redirect hop (checked by the policy, rewritten for the hop). */
export type HopRequest = Pick<JobRequest, 'origin' | 'path' | 'method' | 'headers' | 'body'>;

/**
 * A redirect to another origin, handed back instead of followed. That origin's connection cap, home
 * worker and per-host limits live with the coordinator, so the main thread dispatches the next hop as it
 * would a job to that origin. Redirects within the job's origin are followed in the worker.
 */
export interface JobRedirect {
  readonly ok: 'redirect';
  readonly next: HopRequest;
  /** Every URL redirected to in this dispatch, in order; the last is `next`'s. */
  readonly redirects: readonly string[];
  readonly setCookies?: SeenSetCookies;
}

/**
 * A hop this worker could not start: every connection unit of its origin is held by other workers' sockets
 * (the cap is global), none of this worker's own sockets to it is idle, and a dial waited for a unit in vain.
 * Nothing of the hop was written. The main thread places it again, where a socket waits, instead of this
 * worker dialling in vain until the deadline (seen when two workers' first dials raced for the last units).
 */
export interface JobNoConnection {
  readonly ok: 'no-connection';
  /** The hop to place again when it is a redirect followed in this worker; absent for the dispatch's own request. */
  readonly next?: HopRequest;
  /** URLs redirected to (within the origin) before `next`; absent when there was none. */
  readonly redirects?: readonly string[];
  readonly setCookies?: SeenSetCookies;
  /** Whether an earlier hop of this dispatch was written (a redirect followed within the origin). */
  readonly sent: boolean;
}

/** What the main thread receives for every job. */
export type JobOutcome = JobSuccess | JobFailure | JobRedirect | JobNoConnection;

/** A success as the worker sends it: its headers packed into one string (wire/headers.ts). */
export type WireSuccess = Omit<JobSuccess, 'headers'> & { readonly headers: string };

/** What a worker sends for every job: never throws, never a non-cloneable value. */
export type WorkerOutcome = WireSuccess | JobFailure | JobRedirect | JobNoConnection;

/** Per-origin view of a worker's undici Agent (`agent.stats`). */
export interface OriginAgentStats {
  readonly connected: number;
  readonly free: number;
  readonly pending: number;
  readonly queued: number;
  readonly running: number;
  readonly size: number;
}

export interface WorkerStats {
  readonly shard: number;
  readonly threadId: number;
  readonly jobsRunning: number;
  readonly jobsCompleted: number;
  /** Sockets this worker dialled (undici:client:connected). */
  readonly connectionsOpened: number;
  /** Requests sent on a socket that had already carried one (undici:client:sendHeaders). */
  readonly requestsOnReusedConnections: number;
  /** Idempotent requests resent after a kept-alive socket failed before any response byte. */
  readonly staleConnectionRetries: number;
  readonly origins: Record<string, OriginAgentStats>;
  readonly heapUsedBytes: number;
}

/**
 * The control surface each worker exposes over comlink: request/response calls that need no ordering with
 * jobs. Cancels are not here: they travel on the job port, behind the jobs they cancel.
 */
export interface WorkerControl {
  stats(): WorkerStats;
}

/**
 * Posted on `parentPort` once at worker load; piscina re-emits it as the pool's 'message' event. It
 * carries the worker's two ports: comlink's control surface, and the job port that batches go out on
 * and outcomes come back on.
 */
export interface ControlPortMessage {
  readonly type: 'flowpool:control-port';
  readonly threadId: number;
  readonly port: MessagePort;
  readonly jobs: MessagePort;
}

export function isControlPortMessage(value: unknown): value is ControlPortMessage {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'flowpool:control-port';
}
