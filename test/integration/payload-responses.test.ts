/**
 * Responses: text decoded by its charset (BOM first), `responseType: 'json'` failing on a non-JSON body
 * whatever the status with status, headers and the first bytes in details, and `saveTo` writing the
 * body to a file in the worker (complete or not at all).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type HttpJob, type Runtime } from '../../dist/src/index.js';
import { startCountingServer, type CountingServer } from '../fixtures/counting-server.js';

const LOOPBACK = { allow: ['127.0.0.0/8'] };
const MIB = 1024 * 1024;

/** Deterministic bytes, so a file can be compared with what the server sent without keeping it. */
function patterned(size: number): Buffer {
  const buffer = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) buffer.writeUInt32LE(i, i);
  return buffer;
}

describe('payload: responses', () => {
  let server: CountingServer;
  let runtime: Runtime;
  let dir: string;
  const big = patterned(8 * MIB);
  /** Bodies the "/cut" route promised and then abandoned mid-way (socket destroyed). */
  let cuts = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowpool-payload-'));
    server = await startCountingServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const send = (type: string, bytes: Buffer | string): void => {
        res.setHeader('content-type', type);
        res.end(bytes);
      };
      switch (url.pathname) {
        case '/latin1':
          send('text/plain; charset=ISO-8859-1', Buffer.from([0x63, 0x61, 0x66, 0xe9]));
          return;
        case '/cp1252':
          send('text/plain; charset="windows-1252"', Buffer.from([0x80, 0x20, 0x93, 0x71, 0x94]));
          return;
        case '/sjis':
          send('text/plain; charset=Shift_JIS', Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea]));
          return;
        case '/bom':
          // The BOM says UTF-8 and wins over the header's latin1.
          send('text/plain; charset=latin1', Buffer.from([0xef, 0xbb, 0xbf, 0xc3, 0xa9]));
          return;
        case '/utf16':
          send('text/plain', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hé', 'utf16le')]));
          return;
        case '/unknown-charset':
          send('text/plain; charset=no-such-thing', Buffer.from('née'));
          return;
        case '/json-latin1':
          send('application/json; charset=iso-8859-1', Buffer.from([0x22, 0xe9, 0x22]));
          return;
        case '/html': {
          res.statusCode = Number(url.searchParams.get('status') ?? 200);
          send('text/html', `<html>${'x'.repeat(5000)}</html>`);
          return;
        }
        case '/empty':
          res.statusCode = 204;
          res.end();
          return;
        case '/big':
          res.setHeader('content-length', big.length);
          send('application/octet-stream', big);
          return;
        case '/cut':
          // Promises 8 MiB, sends 2 MiB, then the connection dies.
          res.setHeader('content-length', big.length);
          res.write(big.subarray(0, 2 * MIB), () => {
            cuts++;
            res.destroy();
          });
          return;
        default:
          res.statusCode = 404;
          res.end();
          return;
      }
    });
    runtime = createRuntime({ workers: 1, policy: LOOPBACK, timeoutMs: 15_000 });
  });
  afterAll(async () => {
    await runtime.destroy();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const text = async (path: string): Promise<unknown> => (await runtime.run({ url: `${server.origin}${path}` })).body;

  it('decodes latin1, windows-1252 and shift_jis by the charset parameter', async () => {
    expect(await text('/latin1')).toBe('café');
    expect(await text('/cp1252')).toBe('€ “q”');
    expect(await text('/sjis')).toBe('日本語');
  });

  it('lets a byte order mark win over the declared charset, and strips it', async () => {
    expect(await text('/bom')).toBe('é');
    expect(await text('/utf16')).toBe('hé');
  });

  it('falls back to UTF-8 for an unknown label, and decodes JSON by its charset too', async () => {
    expect(await text('/unknown-charset')).toBe('née');
    const json = await runtime.run({ url: `${server.origin}/json-latin1`, responseType: 'json' });
    expect(json.body).toBe('é');
  });

  it('fails json on a non-JSON body whatever the status, with status, headers and the first bytes', async () => {
    for (const status of [200, 404, 500]) {
      const error = await runtime.run({ url: `${server.origin}/html?status=${status}`, responseType: 'json' }).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string; details: Record<string, unknown> },
      );
      expect(error?.code).toBe('FLOWPOOL_INVALID_RESPONSE');
      expect(error?.details.status).toBe(status);
      expect((error?.details.headers as Record<string, string>)['content-type']).toBe('text/html');
      const preview = error?.details.bodyPreview as string;
      expect(preview.startsWith('<html>xxx')).toBe(true);
      expect(preview.length).toBe(1024);
    }
    const empty = await runtime.run({ url: `${server.origin}/empty`, responseType: 'json' });
    expect(empty.body).toBeNull();
  });

  it('saves a body to a file in the worker and resolves with its path and byte count', async () => {
    const target = join(dir, 'big.bin');
    const result = await runtime.run({ url: `${server.origin}/big`, saveTo: target, maxResponseBytes: 16 * MIB });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ path: target, bytes: big.length });
    const written = await readFile(target);
    expect(createHash('sha256').update(written).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
    expect(await readdir(dir)).toEqual(['big.bin']);
  });

  it('removes the partial file when the connection dies mid-body, and keeps what was at the target', async () => {
    const target = join(dir, 'cut.bin');
    await writeFile(target, 'previous');
    const before = cuts;
    const error = await runtime.run({ url: `${server.origin}/cut`, saveTo: target, maxResponseBytes: 16 * MIB }).then(
      () => undefined,
      (e: unknown) => e as { code: string },
    );
    expect(cuts).toBe(before + 1);
    expect(error?.code).toBe('FLOWPOOL_CONNECTION_FAILED');
    expect(await readFile(target, 'utf8')).toBe('previous');
    expect((await readdir(dir)).filter((name) => name.startsWith('cut.bin'))).toEqual(['cut.bin']);
  });

  it('removes the partial file when the body passes maxResponseBytes', async () => {
    const target = join(dir, 'limited.bin');
    const error = await runtime.run({ url: `${server.origin}/big`, saveTo: target, maxResponseBytes: 3 * MIB }).then(
      () => undefined,
      (e: unknown) => e as { code: string },
    );
    expect(error?.code).toBe('FLOWPOOL_RESPONSE_TOO_LARGE');
    expect((await readdir(dir)).filter((name) => name.startsWith('limited.bin'))).toEqual([]);
  });

  it('fails with FLOWPOOL_SAVE_FAILED naming the path and the system code when the file cannot be created', async () => {
    const target = join(dir, 'no', 'such', 'dir', 'f');
    const error = await runtime.run({ url: `${server.origin}/latin1`, saveTo: target }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; details: { causeCode?: string; path?: string } },
    );
    expect(error?.code).toBe('FLOWPOOL_SAVE_FAILED');
    expect(error?.details.causeCode).toBe('ENOENT');
    expect(error?.details.path).toBe(target);
    expect(error?.message).toContain(target);
    // The runtime keeps serving.
    expect(await text('/latin1')).toBe('café');
  });

  it('refuses saveTo with a relative path or with responseType, naming job.saveTo', async () => {
    // saveTo with responseType is a type error too (test/unit/types-job-combinations.test.ts): untyped callers.
    const jobs: unknown[] = [
      { url: `${server.origin}/big`, saveTo: 'relative/file' },
      { url: `${server.origin}/big`, saveTo: join(dir, 'x'), responseType: 'bytes' },
    ];
    for (const job of jobs) {
      const error = await runtime.run(job as HttpJob).then(
        () => undefined,
        (e: unknown) => e as { code: string; details: { field?: string } },
      );
      expect(error?.code).toBe('FLOWPOOL_INVALID_JOB');
      expect(error?.details.field).toBe('job.saveTo');
    }
  });
});
