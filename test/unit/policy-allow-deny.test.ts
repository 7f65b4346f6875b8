import { describe, expect, it } from 'vitest';
import type { DestinationPolicyInput, PolicyVerdict } from '../../dist/src/policy/index.js';
import { checkAddress, checkDestination, DestinationPolicy } from '../../dist/src/policy/index.js';

const ALLOWED: PolicyVerdict = { allowed: true };
const BY_RULE: PolicyVerdict = { allowed: true, reason: 'allowed by policy.allow' };
const DENIED: PolicyVerdict = { allowed: false, reason: 'denied by policy.deny' };
const PRIVATE_10: PolicyVerdict = { allowed: false, reason: 'private address (10.0.0.0/8)' };
const LOOPBACK_NAME: PolicyVerdict = { allowed: false, reason: 'loopback name (localhost, *.localhost)' };

// [policy, url, verdict]
const urlVectors: readonly (readonly [DestinationPolicyInput, string, PolicyVerdict])[] = [
  [{ deny: ['example.com'] }, 'https://example.com/', DENIED],
  [{ deny: ['example.com'] }, 'https://EXAMPLE.com./', DENIED],
  [{ deny: ['example.com'] }, 'https://www.example.com/', ALLOWED],
  [{ deny: ['*.example.com'] }, 'https://a.b.example.com/', DENIED],
  [{ deny: ['*.example.com'] }, 'https://example.com/', ALLOWED],
  [{ deny: ['*.example.com'] }, 'https://badexample.com/', ALLOWED],
  [{ deny: ['8.8.8.0/24'] }, 'http://8.8.8.8/', DENIED],
  [{ deny: ['8.8.8.0/24'] }, 'http://134744072/', DENIED],
  [{ deny: ['8.8.8.0/24'] }, 'http://[::ffff:8.8.8.8]/', DENIED],
  [{ deny: ['2606:4700::/32'] }, 'http://[2606:4700:4700::1111]/', DENIED],
  [{ allow: ['10.0.0.0/8'] }, 'http://10.0.0.1:8080/', BY_RULE],
  [{ allow: ['10.0.0.0/8'] }, 'http://012.0.0.1/', BY_RULE],
  [{ allow: ['10.0.0.0/8'] }, 'http://172.16.0.1/', { allowed: false, reason: 'private address (172.16.0.0/12)' }],
  [{ allow: ['127.0.0.0/8'] }, 'http://127.0.0.1:3000/', BY_RULE],
  [{ allow: ['127.0.0.0/8'] }, 'http://127.1:3000/', BY_RULE],
  // An address allow entry does not allow the loopback NAME: allow `localhost` for that.
  [{ allow: ['127.0.0.0/8'] }, 'http://localhost:3000/', LOOPBACK_NAME],
  [{ allow: ['localhost'] }, 'http://localhost:3000/', BY_RULE],
  [{ allow: ['localhost'] }, 'http://LOCALHOST./', BY_RULE],
  [{ allow: ['[::1]'] }, 'http://[::1]:8080/', BY_RULE],
  [{ allow: ['::1/128'] }, 'http://[::1]/', BY_RULE],
  [{ allow: ['*.localhost'] }, 'http://app.localhost/', BY_RULE],
  [{ allow: ['*.localhost'] }, 'http://localhost/', LOOPBACK_NAME],
  [{ allow: ['10.0.0.0/8'], deny: ['10.0.0.5'] }, 'http://10.0.0.5/', DENIED],
  [{ allow: ['10.0.0.0/8'], deny: ['10.0.0.5'] }, 'http://10.0.0.6/', BY_RULE],
  [{ allow: ['*.example.com'], deny: ['bad.example.com'] }, 'https://bad.example.com/', DENIED],
  [{ allow: ['*.example.com'], deny: ['bad.example.com'] }, 'https://good.example.com/', BY_RULE],
  [{ allow: ['localhost'], deny: ['localhost'] }, 'http://localhost/', DENIED],
  // A scheme, credential or port problem is reported before any host rule, even an allowed host.
  [
    { allow: ['example.com'] },
    'ftp://example.com/',
    { allowed: false, reason: 'scheme "ftp:" is not allowed (http and https only)' },
  ],
  [
    { allow: ['example.com'] },
    'http://u:p@example.com/',
    { allowed: false, reason: "credentials in the URL are not allowed (use the job's auth option)" },
  ],
];

// [policy, ip, hostname it was resolved from, verdict]
const addressVectors: readonly (readonly [DestinationPolicyInput, string, string | undefined, PolicyVerdict])[] = [
  [{ allow: ['internal.example.com'] }, '10.0.0.5', 'internal.example.com', BY_RULE],
  [{ allow: ['internal.example.com'] }, '10.0.0.5', 'INTERNAL.example.com.', BY_RULE],
  [{ allow: ['internal.example.com'] }, '10.0.0.5', 'other.example.com', PRIVATE_10],
  [{ allow: ['internal.example.com'] }, '10.0.0.5', undefined, PRIVATE_10],
  [{ allow: ['*.corp.example'] }, '10.1.2.3', 'svc.corp.example', BY_RULE],
  [{ allow: ['*.corp.example'] }, '10.1.2.3', 'a.b.svc.corp.example', BY_RULE],
  [
    { allow: ['*.corp.example'] },
    '10.1.2.3',
    'corp.example',
    { allowed: false, reason: 'private address (10.0.0.0/8)' },
  ],
  [{ allow: ['10.0.0.0/8'] }, '10.1.2.3', undefined, BY_RULE],
  [{ allow: ['10.0.0.0/8'] }, '::ffff:10.1.2.3', undefined, BY_RULE],
  [{ allow: ['10.0.0.0/8'] }, '::ffff:a01:203', undefined, BY_RULE],
  [{ allow: ['10.0.0.0/8'] }, '11.0.0.1', undefined, ALLOWED],
  [
    { allow: ['10.0.0.0/8'] },
    '64:ff9b::a01:203',
    undefined,
    { allowed: false, reason: 'NAT64 address embedding a private address (10.0.0.0/8)' },
  ],
  [{ allow: ['::ffff:10.0.0.0/104'] }, '10.1.2.3', undefined, BY_RULE],
  [{ allow: ['::ffff:10.1.2.3'] }, '10.1.2.3', undefined, BY_RULE],
  [{ allow: ['fd00::/8'] }, 'fd12::1', undefined, BY_RULE],
  [{ allow: ['fd00::/8'] }, 'fc00::1', undefined, { allowed: false, reason: 'unique local address (fc00::/7)' }],
  [{ allow: ['127.0.0.0/8'] }, '127.0.0.1', 'localhost', BY_RULE],
  [{ allow: ['localhost'] }, '127.0.0.1', 'localhost', BY_RULE],
  [{ allow: ['localhost'] }, '::1', 'localhost', BY_RULE],
  [{ allow: ['api.example.com'], deny: ['10.0.0.0/8'] }, '10.0.0.1', 'api.example.com', DENIED],
  [{ deny: ['evil.example'] }, '8.8.8.8', 'evil.example', DENIED],
  [{ deny: ['*.evil.example'] }, '8.8.8.8', 'x.evil.example', DENIED],
  [{ deny: ['8.8.8.8'] }, '::ffff:8.8.8.8', undefined, DENIED],
  [{ deny: ['8.8.8.8'] }, '64:ff9b::808:808', undefined, DENIED],
  [{ deny: ['8.8.8.8'] }, '8.8.4.4', undefined, ALLOWED],
  [{}, '8.8.8.8', 'dns.google', ALLOWED],
  [{}, '2606:4700:4700::1111', undefined, ALLOWED],
  [{}, 'not-an-ip', undefined, { allowed: false, reason: 'not an IP address' }],
  [{}, '127.1', undefined, { allowed: false, reason: 'not an IP address' }],
  [{ allow: ['0.0.0.0/0'] }, '2130706433', undefined, { allowed: false, reason: 'not an IP address' }],
];

describe('allow and deny: URLs', () => {
  it.each(urlVectors)('%j: %s', (policy, url, verdict) => {
    expect(checkDestination(url, policy)).toEqual(verdict);
    expect(DestinationPolicy.compile(policy).checkUrl(new URL(url))).toEqual(verdict);
  });
});

describe('allow and deny: dialled addresses', () => {
  it.each(addressVectors)('%j: %s from %s', (policy, ip, hostname, verdict) => {
    expect(DestinationPolicy.compile(policy).checkAddress(ip, hostname)).toEqual(verdict);
    if (hostname === undefined) expect(checkAddress(ip, policy)).toEqual(verdict);
  });
});

describe('allow and deny: names', () => {
  it.each([
    [{ allow: ['api.example.com'] }, 'api.example.com', { ...BY_RULE, nameAllowed: true }],
    [{ allow: ['*.example.com'] }, 'a.api.example.com', { ...BY_RULE, nameAllowed: true }],
    [{ allow: ['*.example.com'] }, 'example.com', { ...ALLOWED, nameAllowed: false }],
    [{ deny: ['api.example.com'], allow: ['api.example.com'] }, 'api.example.com', { ...DENIED, nameAllowed: false }],
    [{}, 'api.example.com', { ...ALLOWED, nameAllowed: false }],
  ] as const)('%j: %s', (policy, hostname, verdict) => {
    expect(DestinationPolicy.compile(policy).checkHostname(hostname)).toEqual(verdict);
  });
});

describe('bad entries', () => {
  it.each([
    [{ allow: ['ok.example', 'bad entry'] }, /^policy\.allow\[1\]: expected a hostname.*received "bad entry"$/],
    [
      { allow: ['10.0.0.0/8'], deny: ['a.example', 'b.example', '10.0.0.1/8'] },
      /^policy\.deny\[2\]: expected a network address with no host bits set \(10\.0\.0\.0\/8\), received "10\.0\.0\.1\/8"$/,
    ],
    [{ allow: ['*'] }, /^policy\.allow\[0\]: expected "\*\." followed by a domain suffix/],
    [{ deny: [42] as unknown as string[] }, /^policy\.deny\[0\]: expected a string .*received number$/],
    [{ allow: 'example.com' as unknown as string[] }, /^policy\.allow: expected an array of strings, received string$/],
  ] as const)('%j throws naming the entry', (policy, message) => {
    expect(() => DestinationPolicy.compile(policy)).toThrow(TypeError);
    expect(() => DestinationPolicy.compile(policy)).toThrow(message);
  });

  it('checkDestination and checkAddress never throw on a bad policy: they fail closed', () => {
    expect(checkDestination('https://example.com/', { deny: ['10.0.0.0/33'] })).toEqual({
      allowed: false,
      reason:
        'invalid policy: policy.deny[0]: expected a prefix length of 0-32 after an IPv4 address, received "10.0.0.0/33"',
    });
    expect(checkAddress('8.8.8.8', { allow: [''] })).toEqual({
      allowed: false,
      reason:
        'invalid policy: policy.allow[0]: expected a hostname, *.suffix wildcard, IP address or CIDR, received ""',
    });
  });
});
