import { describe, expect, it } from 'vitest';
import { DestinationPolicy, isLoopbackName, normaliseHostname } from '../../dist/src/policy/index.js';

const LOOPBACK_NAME = { allowed: false, reason: 'loopback name (localhost, *.localhost)', nameAllowed: false };

const loopbackNames: readonly string[] = [
  'localhost',
  'LOCALHOST',
  'LocalHost.',
  'localhost.',
  'foo.localhost',
  'a.b.localhost',
  'FOO.LOCALHOST.',
  'localhost.localdomain',
  'LOCALHOST.LOCALDOMAIN.',
  'ip6-localhost',
  'ip6-loopback',
  'localhost6',
];

const notLoopbackNames: readonly string[] = [
  'localhost.example.com',
  'mylocalhost',
  'localhostx.com',
  'localhost-1',
  'example.com',
];

describe('loopback names are blocked by name', () => {
  const policy = DestinationPolicy.compile();

  it.each(loopbackNames)('%s is a loopback name', (name) => {
    expect(policy.checkHostname(name)).toEqual(LOOPBACK_NAME);
    expect(isLoopbackName(normaliseHostname(name))).toBe(true);
  });

  it.each(notLoopbackNames)('%s is not', (name) => {
    expect(policy.checkHostname(name)).toEqual({ allowed: true, nameAllowed: false });
    expect(isLoopbackName(normaliseHostname(name))).toBe(false);
  });

  it.each([
    ['[::1]', 'loopback address (::1/128)'],
    ['127.0.0.1', 'loopback address (127.0.0.0/8)'],
    ['', 'missing host'],
  ] as const)('checkHostname(%j) judges an IP literal as an address', (host, reason) => {
    expect(policy.checkHostname(host)).toEqual({ allowed: false, reason, nameAllowed: false });
  });

  it('a loopback name in checkAddress blocks even a public address', () => {
    expect(policy.checkAddress('8.8.8.8', 'localhost')).toEqual({
      allowed: false,
      reason: 'loopback name (localhost, *.localhost)',
    });
  });
});

describe('normaliseHostname', () => {
  it.each([
    ['Example.COM.', 'example.com'],
    ['example.com', 'example.com'],
    ['[::1]', '::1'],
    ['[FE80::1]', 'fe80::1'],
    ['a..', 'a.'],
    ['.', '.'],
  ] as const)('%j -> %j', (input, output) => {
    expect(normaliseHostname(input)).toBe(output);
  });
});
