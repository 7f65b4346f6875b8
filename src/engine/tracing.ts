/**
 * Optional OpenTelemetry spans for workflow runs. `@opentelemetry/api` is an optional peer dependency,
 * loaded once by observe/otel.ts (shared with the runtime's request spans); when it is not installed
 * every span is a no-op. No SDK is
 * bundled: spans go wherever the application registered its tracer provider (none registered: the
 * API's own no-op spans, which record nothing).
 *
 * Shape: `workflow.run` (one per run) > `workflow.node` (one per node that runs) > `<method>` (the
 * runtime's CLIENT span per attempt, observe/request-spans.ts). An http node's job carries its node span's
 * W3C `traceparent`, which the runtime takes as its request spans' parent and replaces with theirs.
 */
import type * as Otel from '@opentelemetry/api';
import { otelApi, type OtelApi } from '../observe/otel.js';

export { urlForSpan } from '../observe/otel.js';

export type SpanAttributes = Record<string, string | number | boolean>;

/** A span, or a no-op stand-in. Only the workflow layer's own calls; no OpenTelemetry types leak out. */
export interface TraceSpan {
  /** False for a span that records nothing (no tracer provider, or not sampled): skip costly attributes. */
  readonly recording: boolean;
  /** A child span, started now. `client`: an outgoing request (span kind CLIENT). */
  child(name: string, attributes?: SpanAttributes, client?: boolean): TraceSpan;
  set(attributes: SpanAttributes): void;
  /** Marks the span failed: status ERROR with the message, `error.type` set to the code. */
  fail(code: string, message: string): void;
  end(): void;
  /** This span's W3C `traceparent` header value; undefined when there is no valid span context. */
  traceparent(): string | undefined;
}

export const NO_SPAN: TraceSpan = Object.freeze({
  recording: false,
  child: () => NO_SPAN,
  set: () => undefined,
  fail: () => undefined,
  end: () => undefined,
  traceparent: () => undefined,
});

type Api = OtelApi;

/**
 * Starts a run's root span under the caller's active context (so a run inside the application's own
 * span joins its trace). NO_SPAN when `@opentelemetry/api` is not installed.
 */
export function startRootSpan(tracerName: string, name: string, attributes: SpanAttributes): TraceSpan {
  const api = otelApi();
  if (api === undefined) return NO_SPAN;
  const tracer = api.trace.getTracer(tracerName);
  return new OtelSpan(api, tracer, tracer.startSpan(name, { attributes }, api.context.active()));
}

class OtelSpan implements TraceSpan {
  readonly #api: Api;
  readonly #tracer: Otel.Tracer;
  readonly #span: Otel.Span;

  constructor(api: Api, tracer: Otel.Tracer, span: Otel.Span) {
    this.#api = api;
    this.#tracer = tracer;
    this.#span = span;
  }

  get recording(): boolean {
    return this.#span.isRecording();
  }

  child(name: string, attributes: SpanAttributes = {}, client = false): TraceSpan {
    const parent = this.#api.trace.setSpan(this.#api.context.active(), this.#span);
    const kind = client ? this.#api.SpanKind.CLIENT : this.#api.SpanKind.INTERNAL;
    return new OtelSpan(this.#api, this.#tracer, this.#tracer.startSpan(name, { attributes, kind }, parent));
  }

  set(attributes: SpanAttributes): void {
    this.#span.setAttributes(attributes);
  }

  fail(code: string, message: string): void {
    this.#span.setAttribute('error.type', code);
    this.#span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message });
  }

  end(): void {
    this.#span.end();
  }

  traceparent(): string | undefined {
    const context = this.#span.spanContext();
    if (!this.#api.isSpanContextValid(context)) return undefined;
    const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
    return `00-${context.traceId}-${context.spanId}-${flags}`;
  }
}
