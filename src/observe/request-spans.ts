/**
 * One OpenTelemetry CLIENT span per attempt of a job (the HTTP client conventions: `http.request.method`,
 * `url.full`, `server.address`, `server.port`, `http.request.resend_count`, then `http.response.status_code`
 * or `error.type`), made on the main thread, where the caller's context is. The span's context travels to
 * the server in the attempt's headers (`traceparent`), so the server's spans are its children.
 *
 * Cost: {@link RequestSpans.begin} runs once per job; without `@opentelemetry/api` it is one field check,
 * with the API but no registered provider a few property reads, and in both cases no object is made: the
 * job carries `undefined` and every later call site is `trace?.`.
 */
import type * as Otel from '@opentelemetry/api';
import { otelApi, TracerLookup, urlForSpan, type OtelApi } from './otel.js';

/** What a span needs of a job (job/job.ts's NormalizedJob). Headers: flat `[name, value, ...]`, names lower-case. */
export interface TracedJob {
  readonly method: string;
  /** The URL as the WHATWG parser writes it. */
  readonly href: string;
  readonly headers: readonly string[];
}

/** The tracer's name (the instrumentation scope) of the runtime's request spans. */
export const REQUEST_TRACER_NAME = 'flowpool';

const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'QUERY',
  'TRACE',
]);

const W3C_TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The runtime's source of request traces: looks the tracer provider up per job. */
export class RequestSpans {
  readonly #lookup: TracerLookup | undefined;

  constructor() {
    const api = otelApi();
    this.#lookup = api === undefined ? undefined : new TracerLookup(api, REQUEST_TRACER_NAME);
  }

  /**
   * A job's trace, to be called in the caller's context (inside `run()`); undefined when no tracer provider
   * is registered. A `traceparent` the caller put in the job's headers is the spans' parent (it names the
   * span the caller meant the request to belong to, even from another process); else the caller's active
   * context is.
   */
  begin(job: TracedJob): RequestTrace | undefined {
    const lookup = this.#lookup;
    if (lookup === undefined) return undefined;
    const tracer = lookup.tracer();
    if (tracer === undefined) return undefined;
    const api = lookup.api;
    return new RequestTrace(api, tracer, parentContext(api, job.headers));
  }
}

/** A job's spans: one per attempt, the current one open from the attempt's start to its outcome. */
export class RequestTrace {
  readonly #api: OtelApi;
  readonly #tracer: Otel.Tracer;
  readonly #parent: Otel.Context;
  #span: Otel.Span | undefined;
  /** What every attempt's span says of the job's URL, worked out at the first attempt. */
  #target: Otel.Attributes | undefined;
  /** The headers that carry the current span's context (`[name, value, ...]`); undefined when it records nothing. */
  #carried: string[] | undefined;

  constructor(api: OtelApi, tracer: Otel.Tracer, parent: Otel.Context) {
    this.#api = api;
    this.#tracer = tracer;
    this.#parent = parent;
  }

  /** Starts the span of attempt `attempt` (1 for the first). */
  startAttempt(job: TracedJob, attempt: number): void {
    // An attempt ends before the next starts; a span left open by a path that missed it must not leak.
    this.failed('FLOWPOOL_ABORTED', 'the attempt ended without an outcome');
    const api = this.#api;
    this.#target ??= targetAttributes(job.href);
    const known = KNOWN_METHODS.has(job.method);
    const attributes: Otel.Attributes = {
      'http.request.method': known ? job.method : '_OTHER',
      ...this.#target,
      'http.request.resend_count': attempt - 1,
    };
    if (!known) attributes['http.request.method_original'] = job.method;
    const span = this.#tracer.startSpan(
      known ? job.method : 'HTTP',
      { kind: api.SpanKind.CLIENT, attributes },
      this.#parent,
    );
    this.#span = span;
    this.#carried = span.isRecording() ? carrierOf(api, span, this.#parent) : undefined;
  }

  /**
   * The headers an attempt's request is sent with: `headers` with the current span's context in place of
   * any the caller set (the caller's `traceparent` is this span's parent already). Unchanged when the span
   * records nothing.
   */
  headers(headers: readonly string[]): readonly string[] {
    const carried = this.#carried;
    if (carried === undefined) return headers;
    const out: string[] = [];
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      if (!carries(carried, name)) out.push(name, headers[i + 1] as string);
    }
    out.push(...carried);
    return out;
  }

  /** The attempt was answered with `status` (4xx and 5xx mark the span failed, `error.type` the status). */
  answered(status: number): void {
    const span = this.#take();
    if (span === undefined) return;
    span.setAttribute('http.response.status_code', status);
    if (status >= 400) {
      span.setAttribute('error.type', String(status));
      span.setStatus({ code: this.#api.SpanStatusCode.ERROR });
    }
    span.end();
  }

  /** The attempt ended without a response: `error.type` is the error's code. */
  failed(code: string, message: string): void {
    const span = this.#take();
    if (span === undefined) return;
    span.setAttribute('error.type', code);
    span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message });
    span.end();
  }

  #take(): Otel.Span | undefined {
    const span = this.#span;
    this.#span = undefined;
    this.#carried = undefined;
    return span;
  }
}

/** `url.full`, `server.address` and `server.port` of a job's URL. */
function targetAttributes(href: string): Otel.Attributes {
  const url = new URL(href);
  return {
    'url.full': urlForSpan(url),
    'server.address': url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    'server.port': url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
  };
}

function carries(pairs: readonly string[], name: string): boolean {
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === name) return true;
  return false;
}

/** The job's own `traceparent`, when it has one, as a remote parent; else the caller's active context. */
function parentContext(api: OtelApi, headers: readonly string[]): Otel.Context {
  const active = api.context.active();
  let traceparent: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'traceparent') traceparent = headers[i + 1];
  }
  if (traceparent === undefined) return active;
  if (api.propagation.fields().length > 0) {
    return api.propagation.extract(active, headers, FLAT_HEADERS_GETTER);
  }
  // No propagator registered (the API's default): W3C trace context, the format flowpool writes then.
  const match = W3C_TRACEPARENT.exec(traceparent.trim());
  if (match === null) return active;
  const [, traceId = '', spanId = '', flags = '00'] = match;
  const context: Otel.SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true };
  return api.isSpanContextValid(context) ? api.trace.setSpanContext(active, context) : active;
}

/**
 * The headers that carry `span` (under `parent`): the registered propagator's, or W3C `traceparent` when
 * none is registered.
 */
function carrierOf(api: OtelApi, span: Otel.Span, parent: Otel.Context): string[] | undefined {
  if (api.propagation.fields().length > 0) {
    const carrier: Record<string, string> = {};
    api.propagation.inject(api.trace.setSpan(parent, span), carrier);
    const pairs: string[] = [];
    for (const [name, value] of Object.entries(carrier)) pairs.push(name.toLowerCase(), value);
    return pairs;
  }
  // No context object needed for the W3C header alone (a recording span's context is valid).
  const spanContext = span.spanContext();
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  return ['traceparent', `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`];
}

const FLAT_HEADERS_GETTER: Otel.TextMapGetter<readonly string[]> = {
  keys(headers) {
    const names: string[] = [];
    for (let i = 0; i < headers.length; i += 2) names.push(headers[i] as string);
    return names;
  },
  get(headers, key) {
    const name = key.toLowerCase();
    for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
    return undefined;
  },
};
