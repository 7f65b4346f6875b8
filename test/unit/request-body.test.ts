/** The pure parts of request payloads: body preparation, multipart encoding, query and baseUrl. */
import { describe, expect, it } from 'vitest';
import { appendQuery, encodeMultipart, prepareBody, resolveAgainstBase } from '../../dist/src/job/request-body.js';

describe('request bodies (pure)', () => {
  it('copies bytes so later writes by the caller do not change what is sent', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const prepared = prepareBody(bytes, undefined, undefined);
    bytes[0] = 9;
    expect(prepared.body).toEqual(new Uint8Array([1, 2, 3]));
    expect(prepared.contentType).toBeUndefined();
  });

  it('refuses a detached ArrayBuffer naming job.body', () => {
    const buffer = new ArrayBuffer(4);
    structuredClone(buffer, { transfer: [buffer] });
    expect(() => prepareBody(buffer, undefined, 'j1')).toThrow(/job\.body: .*detached/);
  });

  it('encodes multipart with CRLF line breaks and escaped names, files kept as Blobs', async () => {
    const form = new FormData();
    form.append('a"\nb', 'x\ny');
    form.append('f', new File(['data'], 'n.txt', { type: 'text/plain' }));
    const { body, contentType } = encodeMultipart(form);
    expect(body).toBeInstanceOf(Blob);
    const boundary = /boundary=(.+)$/.exec(contentType ?? '')?.[1] ?? '';
    expect(boundary).not.toBe('');
    const text = await (body as Blob).text();
    expect(text).toBe(
      `--${boundary}\r\nContent-Disposition: form-data; name="a%22%0D%0Ab"\r\n\r\nx\r\ny\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="n.txt"\r\nContent-Type: text/plain\r\n\r\ndata\r\n` +
        `--${boundary}--\r\n`,
    );
  });

  it('appends query without re-encoding the existing query', () => {
    const url = new URL('http://a.example/p?x=%7E&y');
    appendQuery(url, { z: ['1', 2], w: false });
    expect(url.search).toBe('?x=%7E&y&z=1&z=2&w=false');
    const empty = new URL('http://a.example/p');
    appendQuery(empty, {});
    expect(empty.href).toBe('http://a.example/p');
  });

  it('resolves a relative url against the job baseUrl first, then the runtime one; absolute URLs stay', () => {
    expect(resolveAgainstBase({ url: 'b' }, 'http://r.example/a/')).toEqual({ url: 'http://r.example/a/b' });
    expect(resolveAgainstBase({ url: 'b', baseUrl: 'http://j.example/' }, 'http://r.example/')).toEqual({
      url: 'http://j.example/b',
      baseUrl: 'http://j.example/',
    });
    const absolute = { url: 'http://x.example/' };
    expect(resolveAgainstBase(absolute, 'http://r.example/')).toBe(absolute);
    expect(resolveAgainstBase({ url: 'b' }, undefined)).toEqual({ url: 'b' });
  });
});
