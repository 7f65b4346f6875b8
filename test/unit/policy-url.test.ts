import { describe, expect, it } from 'vitest';
import { checkDestination, DestinationPolicy } from '../../dist/src/policy/index.js';

const LOOPBACK = 'loopback address (127.0.0.0/8)';
const INVALID = 'invalid URL';

// Node's WHATWG URL parser normalises every IPv4 spelling it accepts to a dotted quad in url.hostname; each
// trick must be judged by the address it parses to.
const parserTricks: readonly (readonly [string, string])[] = [
  ['http://127.0.0.1/', LOOPBACK],
  ['http://2130706433/', LOOPBACK],
  ['http://0x7f000001/', LOOPBACK],
  ['http://0x7f.1/', LOOPBACK],
  ['http://0177.0.0.1/', LOOPBACK],
  ['http://127.1/', LOOPBACK],
  ['http://%31%32%37.0.0.1/', LOOPBACK],
  ['http://127.0.0.1./', LOOPBACK],
  ['http://127.0.0.1:8080/x?y=z', LOOPBACK],
  ['http:\\\\127.0.0.1\\', LOOPBACK],
  ['http://0/', 'unspecified address (0.0.0.0/8)'],
  ['http://0.0.0.0:80/', 'unspecified address (0.0.0.0/8)'],
  ['http://10.0.0.1/', 'private address (10.0.0.0/8)'],
  ['http://012.0.0.1/', 'private address (10.0.0.0/8)'],
  ['http://192.168.0.1:8443/', 'private address (192.168.0.0/16)'],
  ['http://0xc0.0xa8.0.1/', 'private address (192.168.0.0/16)'],
  ['http://[::]/', 'unspecified address (::/128)'],
  ['http://[::1]/', 'loopback address (::1/128)'],
  ['http://[0:0:0:0:0:0:0:1]:8080/', 'loopback address (::1/128)'],
  ['http://[::ffff:127.0.0.1]/', 'IPv4-mapped IPv6 address embedding a loopback address (127.0.0.0/8)'],
  ['http://[0:0:0:0:0:ffff:7f00:1]/', 'IPv4-mapped IPv6 address embedding a loopback address (127.0.0.0/8)'],
  ['http://[::127.0.0.1]/', 'IPv4-compatible IPv6 address embedding a loopback address (127.0.0.0/8)'],
  ['http://[64:ff9b::10.0.0.1]/', 'NAT64 address embedding a private address (10.0.0.0/8)'],
  ['http://[2002:7f00:1::1]/', '6to4 address embedding a loopback address (127.0.0.0/8)'],
  ['http://[fe80::1]/', 'link-local address (fe80::/10)'],
  ['http://[fd00::1]/', 'unique local address (fc00::/7)'],
  ['http://0251.0376.0251.0376/', 'cloud metadata endpoint'],
  ['http://[::ffff:a9fe:a9fe]/latest/meta-data/', 'cloud metadata endpoint'],
  ['http://LOCALHOST/', 'loopback name (localhost, *.localhost)'],
  ['http://localhost./', 'loopback name (localhost, *.localhost)'],
  ['http://ｌｏｃａｌｈｏｓｔ/', 'loopback name (localhost, *.localhost)'],
  ['http://app.localhost:3000/', 'loopback name (localhost, *.localhost)'],
];

const schemes: readonly (readonly [string, string])[] = [
  ['javascript:alert(1)', 'scheme "javascript:" is not allowed (http and https only)'],
  ['file:///etc/passwd', 'scheme "file:" is not allowed (http and https only)'],
  ['ftp://example.com/', 'scheme "ftp:" is not allowed (http and https only)'],
  ['gopher://example.com:70/_x', 'scheme "gopher:" is not allowed (http and https only)'],
  ['ws://example.com/', 'scheme "ws:" is not allowed (http and https only)'],
  ['data:text/plain,hello', 'scheme "data:" is not allowed (http and https only)'],
  ['dict://127.0.0.1:11211/', 'scheme "dict:" is not allowed (http and https only)'],
];

const portsAndCredentials: readonly (readonly [string, string])[] = [
  ['http://example.com:0/', 'port 0 is not allowed (1-65535)'],
  ['https://8.8.8.8:0/', 'port 0 is not allowed (1-65535)'],
  ['http://user:pass@example.com/', "credentials in the URL are not allowed (use the job's auth option)"],
  ['http://user@example.com/', "credentials in the URL are not allowed (use the job's auth option)"],
  ['http://:pass@example.com/', "credentials in the URL are not allowed (use the job's auth option)"],
  ['https://u:p@127.0.0.1/', "credentials in the URL are not allowed (use the job's auth option)"],
];

// The URL parser refuses these itself.
const unparseable: readonly string[] = [
  'http://example.com:65536/',
  'http://example.com:99999/',
  'http://[fe80::1%25eth0]/',
  'http://1.2.3.4.5/',
  'http://foo.123/',
  'http://256.0.0.1/',
  'http://exa mple.com/',
  'http://127.0.0.1%00.evil.com/',
  'http://',
  '//example.com/',
  'not a url',
  '',
];

const allowed: readonly string[] = [
  'https://example.com/',
  'http://example.com:1/',
  'http://example.com:65535/',
  'https://example.com:443/path?q=1#frag',
  'https://API.Example.COM./v1',
  'http://ex%41mple.com/',
  'http://8.8.8.8/',
  'http://1.1.1.1:8080/x?y=z',
  'http://134744072/', // 8.8.8.8 in decimal
  'http://[2606:4700:4700::1111]/',
  'http://[::ffff:8.8.8.8]/',
  'http://[64:ff9b::8.8.8.8]/',
  'http://localhost.example.com/',
  'http://my-svc.ns.svc.cluster.local/', // judged by its addresses at connect time
];

describe('checkDestination: URL parser tricks are judged by the address they parse to', () => {
  it.each(parserTricks)('%s -> %s', (url, reason) => {
    expect(checkDestination(url)).toEqual({ allowed: false, reason });
  });
});

describe('checkDestination: schemes other than http and https', () => {
  it.each(schemes)('%s -> %s', (url, reason) => {
    expect(checkDestination(url)).toEqual({ allowed: false, reason });
  });
});

describe('checkDestination: ports and credentials', () => {
  it.each(portsAndCredentials)('%s -> %s', (url, reason) => {
    expect(checkDestination(url)).toEqual({ allowed: false, reason });
  });
});

describe('checkDestination: unparseable URLs', () => {
  it.each(unparseable)('%j -> invalid URL', (url) => {
    expect(checkDestination(url)).toEqual({ allowed: false, reason: INVALID });
  });

  it('never throws on a non-string input', () => {
    expect(checkDestination(42 as unknown as string)).toEqual({ allowed: false, reason: INVALID });
  });
});

describe('checkDestination: public destinations pass', () => {
  it.each(allowed)('%s is allowed', (url) => {
    expect(checkDestination(url)).toEqual({ allowed: true });
  });

  it('accepts a URL object and a compiled policy', () => {
    const policy = DestinationPolicy.compile();
    expect(checkDestination(new URL('https://example.com/'), policy)).toEqual({ allowed: true });
    expect(policy.checkUrl(new URL('http://127.1/'))).toEqual({ allowed: false, reason: LOOPBACK });
  });

  it('compile() without input returns one shared default policy', () => {
    expect(DestinationPolicy.compile()).toBe(DestinationPolicy.compile(undefined));
  });
});
