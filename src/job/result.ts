/** What `run()` resolves with, for any HTTP status. */
export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  /** text: string; json: the parsed value (null for an empty body); bytes: Uint8Array. */
  readonly body: unknown;
  /** The final URL, after redirects. */
  readonly url: string;
  /** Every URL redirected to, in order. */
  readonly redirects: readonly string[];
  /** Bytes of body received (after decompression). */
  readonly bytes: number;
  readonly timings: {
    /** Waiting in the coordinator for a worker or a connection, before the first dispatch. */
    readonly queuedMs: number;
    /**
     * From the first dispatch to the final hop's response headers (the final dispatch's part measured
     * in the worker; a redirect to another origin is dispatched again, its wait included).
     */
    readonly headersMs: number;
    /** From submission to the last body byte back on the caller's thread. */
    readonly totalMs: number;
  };
  /** Index of the worker that ran the job (its final hop, after a redirect to another origin). */
  readonly worker: number;
  /** Runs it took: 2 when a worker died under the first and the job was safe to repeat. */
  readonly attempts: number;
}
