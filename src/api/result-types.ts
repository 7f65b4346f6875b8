/**
 * What `run()` resolves with, typed by the job: the body is a string for text jobs, `T` for JSON (the
 * caller's `run<T>()`, unchecked at run time: validate it if it comes from strangers), a Uint8Array for
 * bytes, a web ReadableStream for streams, `{ path, bytes }` for `saveTo`, and the transform's result
 * (typed by the caller) when a transform runs. A job whose type is only known as `HttpJob` gets the
 * untyped {@link HttpResult}.
 */
import type { HttpJob } from '../job/http-job.js';
import type { HttpResult } from '../job/result.js';

/** The body of a `saveTo` job: where the file is and how many bytes it holds. */
export interface SavedFile {
  readonly path: string;
  readonly bytes: number;
}

export interface RunOptions {
  /** Aborts this job only (queued or running); it rejects with `FLOWPOOL_ABORTED`. */
  readonly signal?: AbortSignal;
}

/** {@link HttpResult} with its body typed. */
export type TypedHttpResult<B> = Omit<HttpResult, 'body'> & { readonly body: B };

/** A job with a transform: the body is what the transform returned. */
export type TransformJob = HttpJob & { readonly transform: string };
/** A job whose body goes to a file. */
export type SaveToJob = HttpJob & { readonly saveTo: string };
export type JsonJob = HttpJob & { readonly responseType: 'json' };
export type BytesJob = HttpJob & { readonly responseType: 'bytes' };
export type StreamJob = HttpJob & { readonly responseType: 'stream' };
/** The default: text, decoded by the response's charset. */
export type TextJob = HttpJob & { readonly responseType?: 'text' | undefined };

/**
 * The body a job of type `J` resolves with, as `run()`'s overloads type it: `T` for a JSON job or a
 * transform (the caller's, `unknown` by default), `SavedFile` for `saveTo`, `Uint8Array` for bytes, a
 * stream for streams, `string` for text (the default). Distributes over a union of job types; a job only
 * known as `HttpJob` gets `unknown`.
 */
export type BodyOf<J, T = unknown> = J extends { readonly transform: string }
  ? T
  : J extends { readonly saveTo: string }
    ? SavedFile
    : J extends { readonly responseType: 'json' }
      ? T
      : J extends { readonly responseType: 'bytes' }
        ? Uint8Array
        : J extends { readonly responseType: 'stream' }
          ? ReadableStream<Uint8Array>
          : J extends { readonly responseType?: 'text' | undefined }
            ? string
            : unknown;

/** The result a job of type `J` resolves with: {@link HttpResult} with its body typed by {@link BodyOf}. */
export type ResultOf<J, T = unknown> = TypedHttpResult<BodyOf<J, T>>;

/** `run()`'s overloads, in the order TypeScript tries them. */
export interface TypedRun {
  /** A JSON body, or a transform's result: typed by the caller's `T`. */
  <T = unknown>(job: TransformJob | JsonJob, options?: RunOptions): Promise<TypedHttpResult<T>>;
  (job: SaveToJob, options?: RunOptions): Promise<TypedHttpResult<SavedFile>>;
  (job: BytesJob, options?: RunOptions): Promise<TypedHttpResult<Uint8Array>>;
  (job: StreamJob, options?: RunOptions): Promise<TypedHttpResult<ReadableStream<Uint8Array>>>;
  (job: TextJob, options?: RunOptions): Promise<TypedHttpResult<string>>;
  (job: HttpJob, options?: RunOptions): Promise<HttpResult>;
}
