/**
 * The job as callers write it: a written interface, so the main entry's declarations carry no zod type.
 * `jobSchema` (job.ts) is what checks it at run time; test/unit/public-types.test.ts holds the two together
 * (each assignable to the other), so they cannot drift.
 */
import type { StreamBody } from '../threads/request-stream.js';
import type { AuthOptions, JobRetryOptions } from '../config/runtime-options.js';
import type { CookieJarLike } from './cookie-jar.js';

/** A value of a `form` or `query` field; an array repeats its key. */
export type FormValue = string | number | boolean;

/** One HTTP job: plain data, validated by `run()` before it is queued (`FLOWPOOL_INVALID_JOB` names the field). */
/** Every field a job may carry, each on its own (see {@link HttpJob} for the combinations allowed). */
export interface HttpJobFields {
  /** Absolute http(s) URL, or one relative to `baseUrl`. */
  url: string;
  /**
   * HTTP method, any case; CONNECT, TRACE and TRACK are refused.
   * @default 'GET'
   */
  method?: string;
  /** Request headers; names are case-insensitive; an array value sends one line per item. */
  headers?: Record<string, string | number | (string | number)[]>;
  /**
   * Request body: a string, Uint8Array/Buffer, ArrayBuffer, Blob, URLSearchParams (sent as
   * `application/x-www-form-urlencoded`), FormData (sent as multipart/form-data, files included), or a
   * stream (Node Readable, web ReadableStream, async iterable of Uint8Array) sent chunked as it is read.
   * Exclusive with `json` and `form`.
   */
  body?: string | Uint8Array | ArrayBuffer | Blob | URLSearchParams | FormData | StreamBody;
  /** Fields sent as an `application/x-www-form-urlencoded` body. Exclusive with `body` and `json`. */
  form?: Record<string, FormValue | FormValue[]>;
  /** Query parameters appended to the URL's own query. */
  query?: Record<string, FormValue | FormValue[]>;
  /**
   * Writes the response body to this absolute file path in the worker instead of returning it; the
   * result's body is `{ path, bytes }`. Not with `responseType` or `transform`.
   */
  saveTo?: string;
  /**
   * Cookies for this job: `true` gives it a jar of its own; a tough-cookie `CookieJar` (synchronous store)
   * is read and updated.
   * @default false
   */
  cookies?: boolean | CookieJarLike;
  /**
   * Base a relative `url` is resolved against (WHATWG rules).
   * @default the runtime's `baseUrl`
   */
  baseUrl?: string;
  /** A value sent as a JSON body with `content-type: application/json`. Exclusive with `body`. */
  json?: unknown;
  /**
   * How the response body is returned.
   * @default 'text'
   */
  responseType?: 'text' | 'json' | 'bytes' | 'stream';
  /**
   * Total deadline of this job in ms (connect, headers and body).
   * @default the runtime's `timeoutMs`
   */
  timeoutMs?: number;
  /**
   * Largest response body for this job, after decompression.
   * @default the runtime's `maxResponseBytes`
   */
  maxResponseBytes?: number;
  /**
   * Follow redirects (each hop checked by the policy).
   * @default true
   */
  followRedirects?: boolean;
  /**
   * Redirects followed at most.
   * @default the runtime's `maxRedirects`
   */
  maxRedirects?: number;
  /** Name of a transform registered in the runtime's `transforms` option, run on the body in the worker. */
  transform?: string;
  /** Retry settings for this job, overriding the runtime's `retry` field by field. */
  retry?: JobRetryOptions;
  /**
   * Marks a job safe to run again (beyond GET, HEAD, OPTIONS, PUT, DELETE); `false` forbids any repeat.
   * @default undefined (decided by the method)
   */
  idempotent?: boolean;
  /**
   * Credentials sent as `authorization`, never to another origin on a redirect.
   * @default the runtime's `hostAuth` for the host, if any
   */
  auth?: AuthOptions;
  /**
   * Ask for compressed responses and decode them within the size limit; `false` sends no accept-encoding.
   * @default true
   */
  decompress?: boolean;
  /** The engine's own id for the job, echoed in errors. */
  id?: string;
  /**
   * Whose job it is: tenants share each origin's queue by the weights of the runtime's `tenants`.
   * @default 'default'
   */
  tenant?: string;
  /**
   * A profile of the runtime's `profiles` (or one added by `runtime.setProfile`): its TLS, proxy, policy,
   * default headers and credentials instead of the runtime's. An unknown name is `FLOWPOOL_INVALID_JOB`.
   * @default the runtime's own settings
   */
  profile?: string;
}

/**
 * Where the response body goes, and the combinations the runtime accepts: returned (text, json or bytes,
 * through a transform or not), streamed (no transform), or saved to a file (nothing else).
 */
export type JobResponseChoice =
  | {
      saveTo?: undefined;
      /** How the response body is returned. @default 'text' */
      responseType?: 'text' | 'json' | 'bytes' | undefined;
      /** Name of a transform registered in the runtime's `transforms` option, run on the body in the worker. */
      transform?: string | undefined;
    }
  | { saveTo?: undefined; responseType: 'stream'; transform?: undefined }
  | {
      /**
       * Writes the response body to this absolute file path in the worker instead of returning it; the
       * result's body is `{ path, bytes }`. Not with `responseType` or `transform`.
       */
      saveTo: string;
      responseType?: undefined;
      transform?: undefined;
    };

/** What the request carries: a `body`, a `json` value or `form` fields, one of them at most. */
export type JobBodyChoice =
  | { body?: HttpJobFields['body']; json?: undefined; form?: undefined }
  | {
      /** A value sent as a JSON body with `content-type: application/json`. */
      json: unknown;
      body?: undefined;
      form?: undefined;
    }
  | { form?: HttpJobFields['form']; body?: undefined; json?: undefined };

/**
 * A job as an engine writes it. Its type refuses what the runtime would refuse at run time: `saveTo` with
 * a `responseType` or a `transform`, `responseType: 'stream'` with a transform, more than one of `body`,
 * `json` and `form`.
 */
export type HttpJob = Omit<HttpJobFields, 'saveTo' | 'responseType' | 'transform' | 'body' | 'json' | 'form'> &
  JobResponseChoice &
  JobBodyChoice;
