/**
 * The one way flowpool reaches `@opentelemetry/api`, an optional peer dependency: loaded once, synchronously
 * (the first traced call must not miss its span while an import settles), and cached; undefined when it is
 * not installed. Shared by the runtime's request spans and the workflow layer's spans.
 *
 * The API keeps its registered providers on a global symbol, so a CommonJS and an ESM copy of it in one
 * process see the same provider: loading the CommonJS build here is safe whichever the application imports.
 */
import { createRequire } from 'node:module';
import type * as Otel from '@opentelemetry/api';

export type OtelApi = typeof Otel;

/** undefined: not looked for yet; null: not installed. */
let loaded: OtelApi | null | undefined;

export function otelApi(): OtelApi | undefined {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/**
 * A tracer of the application's registered provider, looked up per call (a provider registered after
 * flowpool loaded counts) for the price of a few property reads; undefined when none is registered (the
 * API's no-op provider), so an untraced job makes no span object at all.
 */
export class TracerLookup {
  readonly #api: OtelApi;
  readonly #name: string;
  #delegate: Otel.TracerProvider | undefined;
  #tracer: Otel.Tracer | undefined;

  constructor(api: OtelApi, name: string) {
    this.#api = api;
    this.#name = name;
  }

  get api(): OtelApi {
    return this.#api;
  }

  tracer(): Otel.Tracer | undefined {
    const provider = this.#api.trace.getTracerProvider() as Otel.TracerProvider & {
      getDelegate?: () => Otel.TracerProvider;
    };
    const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
    if (delegate !== this.#delegate) {
      this.#delegate = delegate;
      // Known by its class: each copy of the API (CommonJS beside ESM) has its own no-op object. A bundle that
      // renames classes only loses this shortcut: the no-op tracer's spans record nothing.
      const noop = delegate.constructor.name === 'NoopTracerProvider';
      this.#tracer = noop ? undefined : delegate.getTracer(this.#name);
    }
    return this.#tracer;
  }
}

/**
 * A URL as a span may carry it (OpenTelemetry's HTTP conventions): no user name or password, no fragment,
 * and every query value replaced by `REDACTED` (keys kept): tokens and signatures often travel in queries.
 */
export function urlForSpan(url: URL | string): string {
  let parsed: URL;
  if (typeof url === 'string') {
    if (!URL.canParse(url)) return '';
    parsed = new URL(url);
  } else {
    parsed = url;
  }
  const base = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  if (parsed.search === '') return base;
  const keys = [...parsed.searchParams.keys()];
  if (keys.length === 0) return base;
  return `${base}?${keys.map((key) => `${encodeURIComponent(key)}=REDACTED`).join('&')}`;
}
