/**
 * runMany() is typed by its jobs as run() is (issue 22, item 5): text jobs yield `string` bodies, JSON jobs
 * `unknown` or the caller's `T`, bytes jobs `Uint8Array`, a mixed input the union. Each case runs real jobs
 * against a loopback server (which counts them) and checks the static type (expectTypeOf, checked by
 * `npm run typecheck`) and the value at run time, so the types cannot drift from what the worker returns.
 */
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  createRuntime,
  type HttpJob,
  type HttpResult,
  type RunManyResult,
  type Runtime,
} from '../../dist/src/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

interface Item {
  readonly id: number;
}

async function collect<R>(results: AsyncIterable<R>): Promise<R[]> {
  const out: R[] = [];
  for await (const result of results) out.push(result);
  return out;
}

describe('runMany: results typed by the jobs', () => {
  let server: CountingServer;
  let runtime: Runtime;

  beforeAll(async () => {
    server = await startCountingServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"id":7}');
    });
    runtime = createRuntime({ workers: 1, policy: { allow: ['127.0.0.0/8'] } });
  });
  afterAll(async () => {
    await runtime.destroy();
    await server.close();
  });

  it('text jobs (default and explicit) yield string bodies', async () => {
    const before = server.requests;
    const results = await collect(
      runtime.runMany([{ url: `${server.origin}/a` }, { url: `${server.origin}/b`, responseType: 'text' }]),
    );
    expect(server.requests - before).toBe(2);
    for (const result of results) {
      if (!result.ok) throw result.error;
      expectTypeOf(result.value.body).toEqualTypeOf<string>();
      expect(result.value.body).toBe('{"id":7}');
    }
  });

  it("JSON jobs yield unknown bodies, or the caller's T", async () => {
    const jobs = [{ url: `${server.origin}/`, responseType: 'json' as const }];
    for (const result of await collect(runtime.runMany(jobs))) {
      if (!result.ok) throw result.error;
      expectTypeOf(result.value.body).toBeUnknown();
      expect(result.value.body).toEqual({ id: 7 });
    }
    for (const result of await collect(runtime.runMany<(typeof jobs)[number], Item>(jobs))) {
      if (!result.ok) throw result.error;
      expectTypeOf(result.value.body).toEqualTypeOf<Item>();
      expect(result.value.body.id).toBe(7);
    }
  });

  it('bytes jobs yield Uint8Array bodies, from an async iterable too', async () => {
    async function* bytesJobs(): AsyncGenerator<{ url: string; responseType: 'bytes' }> {
      for (const path of ['/1', '/2']) {
        await Promise.resolve(); // as an async source (a cursor, a stream) hands out its items
        yield { url: `${server.origin}${path}`, responseType: 'bytes' };
      }
    }
    const before = server.requests;
    const results = await collect(runtime.runMany(bytesJobs()));
    expect(server.requests - before).toBe(2);
    for (const result of results) {
      if (!result.ok) throw result.error;
      expectTypeOf(result.value.body).toEqualTypeOf<Uint8Array>();
      expect(result.value.body).toBeInstanceOf(Uint8Array);
    }
  });

  it('a mixed input yields the union; jobs only known as HttpJob the untyped result', async () => {
    const mixed = await collect(
      runtime.runMany([{ url: `${server.origin}/` }, { url: `${server.origin}/`, responseType: 'bytes' as const }]),
    );
    for (const result of mixed) {
      if (!result.ok) throw result.error;
      expectTypeOf(result.value.body).toEqualTypeOf<string | Uint8Array>();
      expect(result.index === 0 ? typeof result.value.body : result.value.body instanceof Uint8Array).toBe(
        result.index === 0 ? 'string' : true,
      );
    }
    const untyped: HttpJob[] = [{ url: `${server.origin}/` }];
    for (const result of await collect(runtime.runMany(untyped))) {
      expectTypeOf(result).toEqualTypeOf<RunManyResult>();
      if (!result.ok) throw result.error;
      expectTypeOf(result.value.body).toBeUnknown();
      expectTypeOf(result.value).toExtend<HttpResult>();
    }
  });

  it('a failed job is typed as a FlowpoolError whatever the jobs', async () => {
    const [result] = await collect(runtime.runMany([{ url: 'http://10.255.255.1/' }]));
    expect(result?.ok).toBe(false);
    if (result !== undefined && !result.ok) {
      expectTypeOf(result.error.code).toExtend<string>();
      expect(result.error.code).toBe('FLOWPOOL_BLOCKED_DESTINATION');
    }
  });
});
