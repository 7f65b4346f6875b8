/**
 * Transport options, pure: the schema's messages name the field, `'env'` proxy resolution follows curl's
 * rules, default headers and auth are added under the job's own, and TLS failures map to words and codes.
 */
import { describe, expect, it } from 'vitest';
import { FlowpoolError } from '../../dist/src/errors/flowpool-error.js';
import { normalizeJob } from '../../dist/src/job/job.js';
import { parseOptions, retrySchema } from '../../dist/src/config/options.js';
import { addDefaultHeaders, DEFAULT_USER_AGENT } from '../../dist/src/job/request-headers.js';
import { resolveProxy } from '../../dist/src/config/transport-options.js';
import { tlsFailure } from '../../dist/src/worker/connect/tls-errors.js';

function optionsError(input: unknown): FlowpoolError {
  try {
    parseOptions(input);
  } catch (error) {
    return error as FlowpoolError;
  }
  throw new Error('expected the options to be refused');
}

describe('transport options schema', () => {
  it.each([
    [{ tls: { ca: 42 } }, 'tls.ca'],
    [{ tls: { minVersion: 'TLSv1' } }, 'tls.minVersion'],
    [{ tls: { verify: false } }, 'tls'],
    [{ hostTls: { 'bad pattern': {} } }, 'hostTls'],
    [{ proxy: 'socks5://127.0.0.1:1080' }, 'proxy'],
    [{ proxy: true }, 'proxy'],
    [{ noProxy: ['a b'] }, 'noProxy[0]'],
    [{ headers: { 'x-bad': 'a\r\nb' } }, 'headers.x-bad'],
    [{ hostAuth: { '*': { username: 'a:b', password: 'p' } } }, 'hostAuth.*'],
  ])('refuses %j naming %s', (input, field) => {
    const error = optionsError(input);
    expect(error.code).toBe('FLOWPOOL_INVALID_OPTIONS');
    expect(error.message).toContain(field);
  });

  it('never echoes a header value or a proxy password in a message', () => {
    expect(optionsError({ headers: { authorization: 'Bearer zq9\nx' } }).message).not.toContain('zq9');
    expect(optionsError({ proxy: 'ftp://user:hunter2@proxy' }).message).not.toContain('hunter2');
    expect(optionsError({ hostAuth: { '*': { username: 'a:hunter2', password: '' } } }).message).not.toContain(
      'hunter2',
    );
  });

  it('fills the defaults', () => {
    const options = parseOptions({});
    expect(options).toMatchObject({ proxy: false, noProxy: [], allowH2: false, tlsReplaceRoots: false, headers: {} });
  });
});

describe("proxy: 'env'", () => {
  it('prefers lower case, lets HTTP_PROXY serve both schemes, splits NO_PROXY on commas and spaces', () => {
    expect(
      resolveProxy('env', ['extra.test'], {
        HTTP_PROXY: 'http://upper:1',
        http_proxy: 'http://lower:1',
        NO_PROXY: 'a.test, b.test c.test',
      }),
    ).toEqual({
      http: 'http://lower:1',
      https: 'http://lower:1',
      noProxy: ['a.test', 'b.test', 'c.test', 'extra.test'],
    });
    expect(resolveProxy('env', [], { HTTPS_PROXY: 'http://s:1' })).toEqual({ https: 'http://s:1', noProxy: [] });
    expect(resolveProxy('env', [], {})).toBeUndefined();
    expect(resolveProxy(false, [], { http_proxy: 'http://x:1' })).toBeUndefined();
    expect(resolveProxy('http://p:3128', ['n.test'], {})).toEqual({
      http: 'http://p:3128',
      https: 'http://p:3128',
      noProxy: ['n.test'],
    });
    expect(() => resolveProxy('env', [], { http_proxy: 'not a url' })).toThrow(/HTTP_PROXY/);
  });
});

describe('default headers and auth', () => {
  const url = new URL('https://api.example.com/x');

  it('adds under what is there; decompress false adds no accept-encoding', () => {
    const headers = ['user-agent', 'mine'];
    addDefaultHeaders(headers, url, undefined, true, { headers: { 'x-a': '1', 'user-agent': 'runtime' } });
    expect(headers).toEqual(['user-agent', 'mine', 'x-a', '1', 'accept-encoding', 'gzip, deflate, br']);
    const bare: string[] = [];
    addDefaultHeaders(bare, url, undefined, false, {});
    expect(bare).toEqual(['user-agent', DEFAULT_USER_AGENT]);
  });

  it('picks hostAuth and hostHeaders by pattern, the job auth first', () => {
    const defaults = {
      hostAuth: { '*.example.com': { bearer: 'pattern' } },
      hostHeaders: { 'api.example.com': { 'x-h': 'exact' }, '*': { 'x-h': 'fallback' } },
    };
    const headers: string[] = [];
    addDefaultHeaders(headers, url, undefined, false, defaults);
    expect(headers.slice(0, 4)).toEqual(['authorization', 'Bearer pattern', 'x-h', 'exact']);
    const own: string[] = [];
    addDefaultHeaders(own, url, { username: 'u', password: 'p' }, false, defaults);
    expect(own[1]).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('normalizeJob applies them and refuses auth beside an authorization header', () => {
    const job = normalizeJob(
      { url: 'http://h.test/', auth: { bearer: 't' } },
      { timeoutMs: 1, maxResponseBytes: 1, maxRedirects: 1, transforms: {}, retry: retrySchema.parse({}) },
    );
    expect(job.headers).toContain('Bearer t');
    expect(() =>
      normalizeJob(
        { url: 'http://h.test/', auth: { bearer: 't' }, headers: { Authorization: 'x' } },
        { timeoutMs: 1, maxResponseBytes: 1, maxRedirects: 1, transforms: {}, retry: retrySchema.parse({}) },
      ),
    ).toThrow(/job\.auth/);
  });
});

describe('TLS failures', () => {
  it.each([
    ['CERT_HAS_EXPIRED', /expired/],
    ['SELF_SIGNED_CERT_IN_CHAIN', /not trusted/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', /hostname mismatch/],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', /requires a client certificate/],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', /refused the client certificate/],
    ['ERR_SSL_SOMETHING_NEW', /TLS handshake failed/],
  ])('%s reads %s, names the host and keeps the code', (code, reason) => {
    const error = tlsFailure(Object.assign(new Error('x'), { code }), 'https://api.example.com:8443');
    expect(error?.code).toBe('FLOWPOOL_TLS_FAILED');
    expect(error?.message).toMatch(reason);
    expect(error?.message).toContain('api.example.com:8443');
    expect(error?.details.tlsCode).toBe(code);
  });

  it('leaves other failures alone', () => {
    expect(tlsFailure(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'https://a.test')).toBeUndefined();
    expect(tlsFailure(new Error('plain'), 'https://a.test')).toBeUndefined();
  });
});
