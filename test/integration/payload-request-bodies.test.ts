/**
 * Request bodies of every non-stream kind reach the server byte for byte with the right framing and
 * content-type; forms and multipart are parsed by the server; `query` and `baseUrl` shape the URL the
 * server sees; GET and DELETE may carry a body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type HttpJob, type Runtime } from '../../dist/src/index.js';
import {
  filePart,
  parseMultipart,
  startEchoServer,
  type EchoServer,
  type SeenRequest,
} from '../fixtures/echo-server.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
/** Every byte value, twice: a file body that text handling anywhere would damage. */
const BINARY = Uint8Array.from({ length: 512 }, (_, i) => i % 256);

describe('payload: request bodies', () => {
  let server: EchoServer;
  let runtime: Runtime;

  beforeAll(async () => {
    server = await startEchoServer();
    runtime = createRuntime({ workers: 1, policy: LOOPBACK, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await runtime.destroy();
    await server.close();
  });

  /** Runs a job and returns what the server saw for it. */
  async function sent(job: Parameters<Runtime['run']>[0]): Promise<SeenRequest> {
    const before = server.seen.length;
    const result = await runtime.run(job);
    expect(result.status).toBe(200);
    expect(server.seen.length).toBe(before + 1);
    return server.seen[before] as SeenRequest;
  }

  it('sends a string with its UTF-8 byte length', async () => {
    const seen = await sent({ url: `${server.origin}/s`, method: 'POST', body: 'héllo' });
    expect(seen.body.toString('utf8')).toBe('héllo');
    expect(seen.headers['content-length']).toBe('6');
  });

  it('sends a Buffer, a Uint8Array view (only its window) and an ArrayBuffer', async () => {
    const buffer = await sent({ url: `${server.origin}/b`, method: 'PUT', body: Buffer.from(BINARY) });
    expect(new Uint8Array(buffer.body)).toEqual(BINARY);
    const window = new Uint8Array(BINARY.buffer, 10, 20);
    const view = await sent({ url: `${server.origin}/v`, method: 'POST', body: window });
    expect(new Uint8Array(view.body)).toEqual(BINARY.slice(10, 30));
    expect(view.headers['content-length']).toBe('20');
    const arrayBuffer = await sent({ url: `${server.origin}/a`, method: 'POST', body: BINARY.slice().buffer });
    expect(new Uint8Array(arrayBuffer.body)).toEqual(BINARY);
  });

  it('sends a Blob with its type as content-type and its size as content-length', async () => {
    const blob = new Blob([BINARY, 'tail'], { type: 'application/x-test' });
    const seen = await sent({ url: `${server.origin}/blob`, method: 'POST', body: blob });
    expect(seen.headers['content-type']).toBe('application/x-test');
    expect(seen.headers['content-length']).toBe(String(BINARY.length + 4));
    expect(seen.body.subarray(BINARY.length).toString()).toBe('tail');
  });

  it('sends URLSearchParams and the form helper as application/x-www-form-urlencoded', async () => {
    const params = new URLSearchParams([
      ['q', 'a b&c'],
      ['q', 'é'],
    ]);
    const fromParams = await sent({ url: `${server.origin}/f`, method: 'POST', body: params });
    expect(fromParams.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(new URLSearchParams(fromParams.body.toString()).getAll('q')).toEqual(['a b&c', 'é']);

    const fromForm = await sent({
      url: `${server.origin}/f`,
      method: 'POST',
      form: { user: 'ann', n: 3, tags: ['x', 'y'], ok: true },
    });
    expect(fromForm.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    const parsed = new URLSearchParams(fromForm.body.toString());
    expect(parsed.get('user')).toBe('ann');
    expect(parsed.get('n')).toBe('3');
    expect(parsed.getAll('tags')).toEqual(['x', 'y']);
    expect(parsed.get('ok')).toBe('true');
  });

  it('sends FormData with files as multipart/form-data the server parses, file bytes intact', async () => {
    const form = new FormData();
    form.append('title', 'line one\nline "two"');
    form.append('upload', new File([BINARY], 'data.bin', { type: 'application/octet-stream' }));
    form.append('note', new File(['plain text'], 'ré"sumé.txt', { type: 'text/plain' }));
    form.append('bare', new Blob(['no name']));
    const seen = await sent({ url: `${server.origin}/upload`, method: 'POST', body: form });
    expect(seen.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen.headers['content-length']).toBe(String(seen.body.length));
    const parts = await parseMultipart(seen);
    expect(parts.get('title')).toBe('line one\r\nline "two"');
    const upload = await filePart(parts, 'upload');
    expect(upload.name).toBe('data.bin');
    expect(upload.bytes).toEqual(BINARY);
    const note = await filePart(parts, 'note');
    expect(note.type).toBe('text/plain');
    expect(Buffer.from(note.bytes).toString()).toBe('plain text');
    // Escaped on the wire (a quote would end the parameter), decoded back by the server's parser.
    expect(seen.body.includes(Buffer.from('filename="ré%22sumé.txt"'))).toBe(true);
    expect(note.name).toBe('ré"sumé.txt');
    const bare = await filePart(parts, 'bare');
    expect(Buffer.from(bare.bytes).toString()).toBe('no name');
  });

  it("keeps the caller's content-type over the one the body implies", async () => {
    const seen = await sent({
      url: `${server.origin}/ct`,
      method: 'POST',
      headers: { 'Content-Type': 'text/x-custom' },
      body: new URLSearchParams({ a: '1' }),
    });
    expect(seen.headers['content-type']).toBe('text/x-custom');
  });

  it('lets GET and DELETE carry a body (search-style APIs)', async () => {
    const get = await sent({ url: `${server.origin}/_search`, json: { query: { match_all: {} } } });
    expect(get.method).toBe('GET');
    expect(JSON.parse(get.body.toString())).toEqual({ query: { match_all: {} } });
    expect(get.headers['content-type']).toBe('application/json');
    const del = await sent({ url: `${server.origin}/items`, method: 'DELETE', body: 'ids=1,2' });
    expect(del.method).toBe('DELETE');
    expect(del.body.toString()).toBe('ids=1,2');
  });

  it("appends query to the URL's own query, keeping its bytes, and repeats array keys", async () => {
    const seen = await sent({ url: `${server.origin}/q?sig=a%2Fb%20c`, query: { page: 2, tag: ['x y', 'z'] } });
    expect(seen.url).toBe('/q?sig=a%2Fb%20c&page=2&tag=x+y&tag=z');
    const bare = await sent({ url: `${server.origin}/q`, query: { only: 'one' } });
    expect(bare.url).toBe('/q?only=one');
  });

  it('resolves relative URLs against the runtime baseUrl, and a job baseUrl overrides it', async () => {
    const scoped = createRuntime({ workers: 1, policy: LOOPBACK, baseUrl: `${server.origin}/api/v1/` });
    try {
      await scoped.run({ url: 'items?x=1' });
      expect(server.seen.at(-1)?.url).toBe('/api/v1/items?x=1');
      await scoped.run({ url: '/root' });
      expect(server.seen.at(-1)?.url).toBe('/root');
      await scoped.run({ url: 'other', baseUrl: `${server.origin}/v2/` });
      expect(server.seen.at(-1)?.url).toBe('/v2/other');
    } finally {
      await scoped.destroy();
    }
    await runtime.run({ url: 'rel', baseUrl: `${server.origin}/job/` });
    expect(server.seen.at(-1)?.url).toBe('/job/rel');
  });

  it('refuses a body kind it does not know, naming job.body and what it accepts', async () => {
    const before = server.requests;
    const error = await runtime.run({ url: `${server.origin}/`, method: 'POST', body: { a: 1 } as never }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; details: { field?: string } },
    );
    expect(error?.code).toBe('FLOWPOOL_INVALID_JOB');
    expect(error?.details.field).toBe('job.body');
    expect(error?.message).toContain('URLSearchParams, FormData, Readable');
    // The type refuses the pair too (test/unit/types-job-combinations.test.ts): this is an untyped caller.
    const untyped: unknown = { url: `${server.origin}/`, method: 'POST', body: 'x', form: { a: '1' } };
    const both = await runtime.run(untyped as HttpJob).then(
      () => undefined,
      (e: unknown) => e as { code: string; details: { field?: string } },
    );
    expect(both?.details.field).toBe('job.form');
    expect(server.requests).toBe(before);
  });
});
