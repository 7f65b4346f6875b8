/**
 * run() is typed by the job: each case runs a real job and checks both the static type of `body`
 * (expectTypeOf, checked by `npm run typecheck`) and its value at run time, so the types cannot drift
 * from what the worker actually returns.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createRuntime, type HttpJob, type HttpResult, type Runtime, type SavedFile } from '../../dist/src/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };

interface Item {
  readonly id: number;
  readonly name: string;
}

describe('payload: typed results', () => {
  let server: CountingServer;
  let runtime: Runtime;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowpool-types-'));
    server = await startCountingServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify([{ id: 1, name: 'one' }]));
    });
    runtime = createRuntime({ workers: 1, policy: LOOPBACK });
  });
  afterAll(async () => {
    await runtime.destroy();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('types a text job (the default and explicit) as string', async () => {
    const implicit = await runtime.run({ url: `${server.origin}/` });
    expectTypeOf(implicit.body).toEqualTypeOf<string>();
    expect(typeof implicit.body).toBe('string');
    const explicit = await runtime.run({ url: `${server.origin}/`, responseType: 'text' });
    expectTypeOf(explicit.body).toEqualTypeOf<string>();
    expectTypeOf(explicit.status).toEqualTypeOf<number>();
  });

  it('types a JSON body by run<T>(), unknown without it', async () => {
    const items = await runtime.run<Item[]>({ url: `${server.origin}/`, responseType: 'json' });
    expectTypeOf(items.body).toEqualTypeOf<Item[]>();
    expect(items.body[0]?.name).toBe('one');
    const untyped = await runtime.run({ url: `${server.origin}/`, responseType: 'json' });
    expectTypeOf(untyped.body).toBeUnknown();
  });

  it('types bytes as Uint8Array and saveTo as { path, bytes }', async () => {
    const bytes = await runtime.run({ url: `${server.origin}/`, responseType: 'bytes' });
    expectTypeOf(bytes.body).toEqualTypeOf<Uint8Array>();
    expect(bytes.body).toBeInstanceOf(Uint8Array);
    const saved = await runtime.run({ url: `${server.origin}/`, saveTo: join(dir, 'f.json') });
    expectTypeOf(saved.body).toEqualTypeOf<SavedFile>();
    expect(saved.body.bytes).toBe(bytes.body.length);
  });

  it('types a stream job as a web ReadableStream of bytes', async () => {
    const streamed = await runtime.run({ url: `${server.origin}/`, responseType: 'stream' });
    expectTypeOf(streamed.body).toEqualTypeOf<ReadableStream<Uint8Array>>();
    const text = await new Response(streamed.body).text();
    expect(JSON.parse(text)).toEqual([{ id: 1, name: 'one' }]);
  });

  it('falls back to the untyped result for a job only known as HttpJob', async () => {
    const job: HttpJob = { url: `${server.origin}/`, responseType: 'json' };
    const result = await runtime.run(job);
    expectTypeOf(result).toEqualTypeOf<HttpResult>();
    expectTypeOf(result.body).toBeUnknown();
    expect(result.status).toBe(200);
  });
});
