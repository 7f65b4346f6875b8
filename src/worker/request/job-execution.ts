/**
 * One job in the worker, from its request to its outcome: every redirect hop within its origin (each checked
 * by the policy; a hop to another origin is handed back to the main thread's coordinator), the size limit on
 * the bytes the caller would receive, the exact deadlines, body decoding, and a plain-data outcome.
 *
 * A plain class with its state in fields, driven by its reader's calls: no async function, promise, closure
 * or timer per job on the plain path (a GET read into memory). Cookies, files, streams and transforms join
 * only when the job or the response asks for them. Never throws: every failure becomes an outcome.
 */
import type { Client, Dispatcher } from 'undici';
import { hasHeader, STALE_SOCKET_CODES, type ExecutionContext, type ExpiringJob } from './execution-context.js';
import { FlowpoolError, serializeError, type TimeoutPhase } from '../../errors/flowpool-error.js';
import type { JobRequest, WorkerOutcome } from '../../wire/protocol.js';
import { ConnectGuardError } from '../connect/address-guard.js';
import type { ProfileLane } from '../connect/profile-lanes.js';
import { tlsFailure } from '../connect/tls-errors.js';
import type { BodySink } from './body-sink.js';
import { CookieSession } from './cookie-session.js';
import type { Deadline } from '../../timing/deadlines.js';
import {
  CANCELLED,
  HEADERS_TIMEOUT,
  TOTAL_TIMEOUT,
  proxyAuthRefused,
  stoppedError,
  toFlowpoolError,
  type AbortCause,
} from './failures.js';
import { FileSink } from './file-sink.js';
import { hopUrl, isRedirectStatus, nextHop, resendsBody, wireHop, type Hop } from './redirects.js';
import { ResponseReader, type ReaderOwner } from './response-reader.js';
import { StreamSink } from './stream-sink.js';
import { successBody } from './success-body.js';

export type { ExecutionContext } from './execution-context.js';

export class JobExecution implements ReaderOwner, ExpiringJob {
  readonly job: JobRequest;
  /** The job's profile: the dispatcher its requests go on and the policy its redirects are judged by. */
  readonly lane: ProfileLane;
  readonly maxResponseBytes: number;
  readonly decode: boolean;
  // Deadline links (timing/deadlines.ts owns them).
  dueAt = 0;
  prevDue: Deadline | undefined;
  nextDue: Deadline | undefined;
  scheduled = false;
  readonly #context: ExecutionContext;
  readonly #started: number;
  readonly #totalDueAt: number;
  #headersDueAt = Infinity;
  #phase: TimeoutPhase = 'headers';
  #headersMs = 0;
  #cause: AbortCause | undefined;
  #reader: ResponseReader | undefined;
  /** A request of an earlier exchange of this dispatch was written to a socket. */
  #sentBefore = false;
  #hop: Hop;
  /** URLs this dispatch followed redirects to (within the origin; another origin's hop is handed back). */
  #redirects: string[] | undefined;
  #cookies: CookieSession | undefined;
  #file: FileSink | undefined;
  #stream: StreamSink | undefined;
  #options: Dispatcher.DispatchOptions | undefined;
  /** The stale-socket resend was used (once per hop at most). */
  #resent = false;
  /** The client the current exchange goes on when it must not reuse the pool's kept-alive sockets. */
  #fresh: Client | undefined;
  #hopInFlight = false;
  #done = false;

  constructor(job: JobRequest, context: ExecutionContext, lane: ProfileLane) {
    this.job = job;
    this.lane = lane;
    this.#context = context;
    this.maxResponseBytes = job.maxResponseBytes;
    // `decompress: false` travels as the absence of accept-encoding (the main thread adds one to every other job).
    this.decode = hasHeader(job.headers, 'accept-encoding');
    this.#started = performance.now();
    this.#totalDueAt = this.#started + job.timeoutMs;
    this.#hop = {
      origin: job.origin,
      path: job.path,
      url: undefined,
      method: job.method,
      headers: job.headers,
      body: job.body,
    };
  }

  /** Whether a request of this dispatch was written to a socket. */
  get sent(): boolean {
    return this.#sentBefore || this.#reader?.requestSent === true;
  }

  start(): void {
    // The total deadline runs from now, also while cookies load before the first hop.
    this.#schedule();
    const seed = this.job.payload?.cookies;
    if (seed === undefined) {
      this.#sendHop();
      return;
    }
    // tough-cookie loads on the first job that uses cookies: the only wait before the first hop.
    CookieSession.create(seed).then(
      (session) => {
        this.#cookies = session;
        this.#sendHop();
      },
      (error: unknown) => {
        this.#fail(error);
      },
    );
  }

  /** Stops the job (the first cause wins). */
  abort(cause: AbortCause): void {
    if (this.#cause !== undefined || this.#done) return;
    this.#cause = cause;
    const reader = this.#reader;
    if (reader !== undefined && !reader.settled) {
      reader.abort(this.#stoppedError(cause));
      return;
    }
    // Nothing in flight (cookies loading, a file being finished, a transform running): the job ends now,
    // and whatever that step brings later is dropped (#finish runs once).
    this.#fail(this.#stoppedError(cause));
  }

  /** timing/deadlines.ts: the nearer of the total and the headers deadline has passed. */
  expire(now: number): void {
    if (now >= this.#totalDueAt) this.abort(TOTAL_TIMEOUT);
    else this.abort(HEADERS_TIMEOUT);
  }

  // ---- one hop ------------------------------------------------------------------------------------------

  #sendHop(): void {
    if (this.#done) return;
    // A deadline that passed while nothing was in flight (cookies loading): nothing may be sent after it.
    const cause = this.#cause ?? (performance.now() >= this.#totalDueAt ? TOTAL_TIMEOUT : undefined);
    if (cause !== undefined) {
      this.#fail(this.#stoppedError(cause));
      return;
    }
    this.#phase = 'headers';
    const headersTimeoutMs = this.#context.headersTimeoutMs;
    this.#headersDueAt = headersTimeoutMs < this.job.timeoutMs ? performance.now() + headersTimeoutMs : Infinity;
    this.#schedule();
    const hop = this.#hop;
    const dispatcher = this.lane.dispatcher;
    // Through a proxy, an http: request goes in absolute form with the proxy's credentials.
    const { path, headers } = dispatcher.route(hop.origin, hop.path, hop.headers);
    const cookies = this.#cookies;
    this.#options = {
      origin: hop.origin,
      path,
      method: hop.method,
      headers: (cookies === undefined ? headers : cookies.headersFor(headers, this.#hopHref())) as string[],
      // undici sends a Blob with its size as content-length (client-h1 writeBody), though its types omit it.
      body: (hop.body ?? null) as Dispatcher.DispatchOptions['body'],
    };
    this.#resent = false;
    this.#fresh = undefined;
    dispatcher.hopStarted(hop.origin);
    this.#hopInFlight = true;
    this.#exchange();
  }

  /** One exchange of the hop: the first, or a resend on a new socket. */
  #exchange(): void {
    if (this.#reader?.requestSent === true) this.#sentBefore = true;
    const reader = new ResponseReader(this);
    this.#reader = reader;
    const dispatcher = this.#fresh ?? this.lane.dispatcher.agent;
    // undici calls the older handler interface's methods, which ResponseReader implements (see there).
    dispatcher.dispatch(this.#options as Dispatcher.DispatchOptions, reader);
  }

  #hopHref(): string {
    const hop = this.#hop;
    return (hop.url ?? hopUrl(hop)).href;
  }

  // ---- the reader's calls -------------------------------------------------------------------------------

  refuse(status: number): FlowpoolError | undefined {
    // Plain HTTP through a proxy: a 407 is the proxy refusing our credentials, not the server's answer (as for
    // a refused CONNECT, proxy.ts).
    if (status !== 407) return undefined;
    const proxy = this.lane.dispatcher.absoluteFormProxy(this.#hop.origin);
    return proxy === undefined ? undefined : proxyAuthRefused(proxy);
  }

  onReaderHeaders(reader: ResponseReader): boolean {
    this.#headersDueAt = Infinity;
    this.#schedule();
    this.#headersMs = performance.now() - this.#started;
    const status = reader.status;
    const hop = this.#hop;
    if (
      this.job.followRedirects &&
      isRedirectStatus(status) &&
      reader.headers?.get('location') !== undefined &&
      // A streamed request body was read once: a redirect that would send it again is the answer.
      !(hop.body instanceof ReadableStream && resendsBody(hop, status))
    )
      return true;
    this.#phase = 'body';
    return false;
  }

  sinkFor(reader: ResponseReader): BodySink | undefined {
    const saveTo = this.job.payload?.saveTo;
    if (saveTo !== undefined) {
      void this.#file?.discard();
      this.#file = new FileSink(saveTo, (error) => {
        this.#reader?.abort(error);
      });
      return this.#file;
    }
    if (this.job.responseType !== 'stream') return undefined;
    const headers = reader.headers;
    const stream = new StreamSink(reader.status, headers?.toObject() ?? {}, () => {
      this.abort(CANCELLED);
    });
    this.#stream = stream;
    // The stream's headers are in: hand it over now; the body, the deadline and the hop go on behind it.
    this.#cookies?.absorb(this.#hopHref(), headers?.all('set-cookie'));
    this.#context.complete(this, {
      ok: true,
      status: reader.status,
      headers: headers?.pack() ?? '',
      body: stream.port,
      headersMs: this.#headersMs,
      bytes: 0,
      ...this.#extras(),
    });
    return stream;
  }

  onReaderDone(reader: ResponseReader): void {
    // Called from inside undici's onComplete: a throw there would reach a reader already settled and be
    // lost, leaving the job without an outcome. Every failure becomes the job's.
    try {
      this.#readerDone(reader);
    } catch (error) {
      this.#fail(error);
    }
  }

  #readerDone(reader: ResponseReader): void {
    this.#hopEnded();
    if (this.#fresh !== undefined) void this.#fresh.close().catch(() => undefined);
    this.#fresh = undefined;
    const stream = this.#stream;
    if (stream !== undefined) {
      stream.close();
      this.#end();
      return;
    }
    const headers = reader.headers;
    if (this.#cookies !== undefined) this.#cookies.absorb(this.#hopHref(), headers?.all('set-cookie'));
    if (this.#phase === 'headers') {
      this.#followRedirect(reader);
      return;
    }
    const file = this.#file;
    if (file !== undefined) {
      file.finish().then(
        (saved) => {
          this.#succeed(reader, saved);
        },
        (error: unknown) => {
          this.#fail(error);
        },
      );
      return;
    }
    let body: unknown;
    try {
      body = successBody(reader, this.job.responseType);
    } catch (error) {
      this.#fail(error);
      return;
    }
    const transform = this.job.transform;
    if (transform === undefined) {
      this.#succeed(reader, body);
      return;
    }
    this.#context.transforms
      .apply(transform, body, {
        status: reader.status,
        headers: (headers?.toObject() ?? {}) as Record<string, string | string[]>,
      })
      .then(
        (value) => {
          this.#succeed(reader, value);
        },
        (error: unknown) => {
          this.#fail(error);
        },
      );
  }

  onReaderFailed(reader: ResponseReader, error: unknown): void {
    const onFresh = this.#fresh !== undefined;
    if (this.#fresh !== undefined) void this.#fresh.destroy().catch(() => undefined);
    this.#fresh = undefined;
    const stream = this.#stream;
    if (stream !== undefined) {
      // Handed over already: the stream itself fails.
      this.#hopEnded();
      stream.fail(serializeError(toFlowpoolError(error)));
      this.#end();
      return;
    }
    if (
      this.#cause === undefined &&
      !reader.started &&
      !(error instanceof FlowpoolError) &&
      this.#retryExchange(error, onFresh)
    )
      return;
    this.#hopEnded();
    if (error instanceof ConnectGuardError && error.code === 'FLOWPOOL_CONNECTION_CAP' && this.#cause === undefined) {
      this.#handBackNoConnection();
      return;
    }
    this.#fail(error);
  }

  /**
   * Sends the hop's request once more when that is safe. Refused by the connection cap before anything was
   * sent: always safe. Here if one of this worker's sockets is idle (undici gives it to the resend); otherwise
   * the units are held by other workers' sockets, and dialling again would be refused until they close: the
   * coordinator places the hop where a socket waits (the caller hands it back). A streamed body cannot
   * travel back: it waits here (each turn waits in the connector) until a unit frees or the deadline passes.
   * A stale kept-alive socket (closed by the server as we wrote): an idempotent request is sent once more on
   * a new socket (another kept-alive one may be just as stale); POST never is.
   */
  #retryExchange(error: unknown, onFresh: boolean): boolean {
    const dispatcher = this.lane.dispatcher;
    const hop = this.#hop;
    if (error instanceof ConnectGuardError && error.code === 'FLOWPOOL_CONNECTION_CAP') {
      if (!(hop.body instanceof ReadableStream) && !dispatcher.hasIdleSocket(hop.origin)) return false;
      // The keep-alive resend must not fall back onto the pool's kept-alive (possibly stale) sockets.
      if (onFresh) this.#fresh = dispatcher.freshClient(hop.origin);
      this.#exchange();
      return true;
    }
    const code = (error as { code?: unknown } | null)?.code;
    if (this.#resent || !this.job.repeatable || typeof code !== 'string' || !STALE_SOCKET_CODES.has(code)) return false;
    this.#resent = true;
    this.#context.onStaleRetry();
    this.#fresh = dispatcher.freshClient(hop.origin);
    this.#exchange();
    return true;
  }

  #followRedirect(reader: ResponseReader): void {
    const redirects = (this.#redirects ??= []);
    if (redirects.length >= this.job.maxRedirects) {
      this.#fail(new FlowpoolError('FLOWPOOL_TOO_MANY_REDIRECTS', `more than ${this.job.jobMaxRedirects} redirects`));
      return;
    }
    try {
      this.#hop = nextHop(this.#hop, reader.status, reader.headers?.get('location') ?? '', this.lane.policy);
    } catch (error) {
      this.#fail(error);
      return;
    }
    const hop = this.#hop;
    redirects.push(`${hop.origin}${hop.path}`);
    // Another origin: its cap, home worker and limits are the coordinator's. Hand the hop back.
    if (hop.origin !== this.job.origin) {
      this.#finish({ ok: 'redirect', next: wireHop(hop), redirects, ...this.#cookieExtras() });
      return;
    }
    this.#sendHop();
  }

  #handBackNoConnection(): void {
    const redirects = this.#redirects;
    const sent = this.sent;
    if (redirects === undefined || redirects.length === 0) {
      this.#finish({ ok: 'no-connection', sent, ...this.#cookieExtras() });
      return;
    }
    this.#finish({ ok: 'no-connection', next: wireHop(this.#hop), redirects, sent, ...this.#cookieExtras() });
  }

  #succeed(reader: ResponseReader, body: unknown): void {
    this.#finish({
      ok: true,
      status: reader.status,
      headers: reader.headers?.pack() ?? '',
      body,
      headersMs: this.#headersMs,
      bytes: reader.bytes,
      ...this.#extras(),
    });
  }

  #fail(error: unknown): void {
    if (this.#done) return;
    if (this.#hopInFlight) this.#hopEnded();
    const outcome: WorkerOutcome = {
      ok: false,
      error: serializeError(tlsFailure(error, this.job.origin) ?? toFlowpoolError(error)),
      sent: this.sent,
    };
    const file = this.#file;
    if (file === undefined) {
      this.#finish(outcome);
      return;
    }
    // The partial file is gone before the caller hears of the failure.
    this.#end();
    const answer = (): void => {
      this.#context.complete(this, outcome);
    };
    file.discard().then(answer, answer);
  }

  #finish(outcome: WorkerOutcome): void {
    if (this.#done) return;
    this.#end();
    this.#context.complete(this, outcome);
  }

  #end(): void {
    this.#done = true;
    this.#context.deadlines.remove(this);
  }

  #hopEnded(): void {
    if (!this.#hopInFlight) return;
    this.#hopInFlight = false;
    this.lane.dispatcher.hopEnded(this.#hop.origin);
  }

  /** Redirects and cookies seen, only when there were any (most outcomes carry neither). */
  #extras(): { redirects?: readonly string[]; setCookies?: readonly (readonly [string, string])[] } {
    const redirects = this.#redirects;
    const cookies = this.#cookieExtras();
    if (redirects === undefined || redirects.length === 0) return cookies;
    return { redirects, ...cookies };
  }

  #cookieExtras(): { setCookies?: readonly (readonly [string, string])[] } {
    const cookies = this.#cookies;
    return cookies === undefined || cookies.seen.length === 0 ? {} : { setCookies: cookies.seen };
  }

  #schedule(): void {
    if (this.#done) return;
    const due = Math.min(this.#totalDueAt, this.#headersDueAt);
    if (this.scheduled && due === this.dueAt) return;
    this.dueAt = due;
    this.#context.deadlines.add(this);
  }

  #stoppedError(cause: AbortCause): FlowpoolError {
    return stoppedError(cause, this.#phase, this.job.jobTimeoutMs, this.#context.headersTimeoutMs);
  }
}
