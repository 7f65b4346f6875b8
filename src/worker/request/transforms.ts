/**
 * Registered transforms: user modules that process a response body inside the worker, so CPU-heavy
 * work (parsing and reshaping large JSON) never runs on the engine's thread. Each module is imported
 * once per worker, on first use; a module that fails to load fails the jobs that ask for it, never
 * the worker.
 */
import { FlowpoolError } from '../../errors/flowpool-error.js';

/** What a transform module's default export receives besides the body. */
export interface TransformResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
}

export type Transform = (body: unknown, response: TransformResponse) => unknown;

export class TransformRegistry {
  readonly #specifiers: ReadonlyMap<string, string>;
  readonly #loaded = new Map<string, Promise<Transform>>();

  constructor(specifiers: Readonly<Record<string, string>>) {
    this.#specifiers = new Map(Object.entries(specifiers));
  }

  async apply(name: string, body: unknown, response: TransformResponse): Promise<unknown> {
    const transform = await this.#load(name);
    try {
      return await transform(body, response);
    } catch (error) {
      throw new FlowpoolError(
        'FLOWPOOL_TRANSFORM_FAILED',
        `transform "${name}" threw: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  #load(name: string): Promise<Transform> {
    let loading = this.#loaded.get(name);
    if (loading === undefined) {
      const specifier = this.#specifiers.get(name);
      if (specifier === undefined)
        return Promise.reject(new FlowpoolError('FLOWPOOL_TRANSFORM_FAILED', `no transform named "${name}"`));
      const url = specifier.startsWith('file:') ? specifier : new URL(`file://${specifier}`).href;
      loading = import(url).then((module: { default?: unknown }) => {
        if (typeof module.default !== 'function') {
          throw new FlowpoolError(
            'FLOWPOOL_TRANSFORM_FAILED',
            `transform "${name}" (${specifier}) has no default-exported function`,
          );
        }
        return module.default as Transform;
      });
      loading.catch(() => this.#loaded.delete(name));
      this.#loaded.set(name, loading);
    }
    return loading.catch((error: unknown) => {
      if (error instanceof FlowpoolError) throw error;
      throw new FlowpoolError(
        'FLOWPOOL_TRANSFORM_FAILED',
        `transform "${name}" could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  }
}
