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
  it('follows curl: http_proxy lower case only, https_proxy then HTTPS_PROXY, NO_PROXY split on commas and spaces', () => {
    expect(
      resolveProxy('env', ['extra.test'], {
        HTTP_PROXY: 'http://upper:1',
        http_proxy: 'http://lower:1',
        NO_PROXY: 'a.test, b.test c.test',
      }),
    ).toEqual({ http: 'http://lower:1/', noProxy: ['a.test', 'b.test', 'c.test', 'extra.test'] });
    // Upper-case HTTP_PROXY is never read (httpoxy), and serves neither scheme.
    expect(resolveProxy('env', [], { HTTP_PROXY: 'http://upper:1' })).toBeUndefined();
    expect(resolveProxy('env', [], { HTTPS_PROXY: 'http://s:1' })).toEqual({ https: 'http://s:1/', noProxy: [] });
    expect(resolveProxy('env', [], { https_proxy: 'http://lo:1', HTTPS_PROXY: 'http://up:1' })).toEqual({
      https: 'http://lo:1/',
      noProxy: [],
    });
    expect(resolveProxy('env', [], {})).toBeUndefined();
    expect(resolveProxy(false, [], { http_proxy: 'http://x:1' })).toBeUndefined();
    expect(resolveProxy('http://p:3128', ['n.test'], {})).toEqual({
      http: 'http://p:3128',
      https: 'http://p:3128',
      noProxy: ['n.test'],
    });
  });

  it('counts an empty or blank variable as unset, so it never hides the upper-case one', () => {
    expect(resolveProxy('env', [], { https_proxy: '', HTTPS_PROXY: 'http://up:1' })).toEqual({
      https: 'http://up:1/',
      noProxy: [],
    });
    expect(
      resolveProxy('env', [], { https_proxy: '  ', HTTPS_PROXY: 'up:2', no_proxy: '', NO_PROXY: 'n.test' }),
    ).toEqual({ https: 'http://up:2/', noProxy: ['n.test'] });
  });

  it('reads a scheme-less host:port as http://host:port, as curl does', () => {
    expect(resolveProxy('env', [], { http_proxy: 'localhost:3128', https_proxy: '[::1]:8080' })).toEqual({
      http: 'http://localhost:3128/',
      https: 'http://[::1]:8080/',
      noProxy: [],
    });
    expect(resolveProxy('env', [], { https_proxy: 'https://u:p@proxy.test:443' })).toEqual({
      https: 'https://u:p@proxy.test/',
      noProxy: [],
    });
  });

  it.each([
    ['http_proxy', 'file:///etc/passwd', /received a file: URL/],
    ['http_proxy', 'socks5://127.0.0.1:1080', /received a socks5: URL/],
    ['HTTPS_PROXY', 'socks5h://user:hunter2@127.0.0.1:1080', /received a socks5h: URL/],
    ['https_proxy', 'not a url', /received a value that is not a URL/],
    ['http_proxy', 'file:/etc/passwd', /received a URL with a path or query/],
    ['https_proxy', 'http://proxy.test:3128/path', /received a URL with a path or query/],
  ])('refuses %s=%s naming the variable, never quoting the value', (variable, value, reason) => {
    let thrown: unknown;
    try {
      resolveProxy('env', [], { [variable]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FlowpoolError);
    const error = thrown as FlowpoolError;
    expect(error.code).toBe('FLOWPOOL_INVALID_OPTIONS');
    expect(error.details).toMatchObject({ field: 'options.proxy', variable });
    expect(error.message).toContain(variable);
    expect(error.message).toMatch(reason);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('/etc/passwd');
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

  it('applies a hostAuth key over https only, unless the key names http://', () => {
    const defaults = {
      hostAuth: {
        'good.test': { bearer: 'tls-only' },
        'https://*.tls.test': { bearer: 'tls-wild' },
        'http://plain.test:8080': { bearer: 'clear' },
      },
    };
    const sent = (href: string): string | undefined => {
      const headers: string[] = [];
      addDefaultHeaders(headers, new URL(href), undefined, false, defaults);
      return headers[0] === 'authorization' ? headers[1] : undefined;
    };
    expect(sent('https://good.test/')).toBe('Bearer tls-only');
    expect(sent('http://good.test/')).toBeUndefined();
    expect(sent('https://a.tls.test/')).toBe('Bearer tls-wild');
    expect(sent('http://a.tls.test/')).toBeUndefined();
    expect(sent('http://plain.test:8080/')).toBe('Bearer clear');
    expect(sent('https://plain.test:8080/')).toBeUndefined();
    expect(sent('http://plain.test/')).toBeUndefined();
    expect(optionsError({ hostAuth: { 'ftp://x.test': { bearer: 't' } } }).message).toMatch(/hostAuth/);
    expect(parseOptions({ hostAuth: { 'HTTP://X.test': { bearer: 't' } } }).hostAuth).toHaveProperty('HTTP://X.test');
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
