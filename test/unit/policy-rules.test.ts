import { describe, expect, it } from 'vitest';
import { validatePolicyEntry } from '../../dist/src/policy/index.js';

const valid: readonly string[] = [
  'api.example.com',
  'API.Example.COM',
  'example.com.',
  'localhost',
  '_dmarc.example.com',
  'xn--nxasmq6b.example',
  '*.example.com',
  '*.com',
  '*.Example.com.',
  '10.0.0.1',
  '::1',
  '[::1]',
  '[FD00::1]',
  '::ffff:10.0.0.1',
  '10.0.0.0/8',
  '0.0.0.0/0',
  '10.1.2.3/32',
  '::1/128',
  'fd00::/8',
  '::/0',
  '::ffff:10.0.0.0/104',
  '2001:db8::/32',
];

// [entry, a part of the message]: every message says what was expected and quotes what was received.
const invalid: readonly (readonly [string, string])[] = [
  ['', 'expected a hostname, *.suffix wildcard, IP address or CIDR, received ""'],
  [' example.com', 'without surrounding whitespace, received " example.com"'],
  ['exa mple.com', 'expected a hostname, *.suffix wildcard, IP address or CIDR, received "exa mple.com"'],
  ['-bad.example', 'received "-bad.example"'],
  ['bad-.example', 'received "bad-.example"'],
  [`${'a'.repeat(64)}.example`, 'expected a hostname'],
  ['http://example.com', '(no scheme, port or path), received "http://example.com"'],
  ['example.com:8080', '(no scheme, port or path), received "example.com:8080"'],
  ['ünicode.example', 'expected an ASCII hostname (write an internationalised name in punycode, xn--...)'],
  ['*', 'expected "*." followed by a domain suffix (e.g. *.example.com), received "*"'],
  ['*.', 'expected "*." followed by a domain suffix'],
  ['*example.com', 'expected "*." followed by a domain suffix'],
  ['**.example.com', 'expected "*." followed by a domain suffix (e.g. *.example.com), received "**.example.com"'],
  ['a.*.example.com', 'expected a wildcard only as a leading "*."'],
  ['10.0.0.0/33', 'expected a prefix length of 0-32 after an IPv4 address, received "10.0.0.0/33"'],
  ['::/129', 'expected a prefix length of 0-128 after an IPv6 address, received "::/129"'],
  ['10.0.0.0/08', 'expected a prefix length of 0-32'],
  ['10.0.0.0/', 'expected a prefix length of 0-32'],
  ['10.0.0.1/8', 'expected a network address with no host bits set (10.0.0.0/8), received "10.0.0.1/8"'],
  ['fd00::1/8', 'expected a network address with no host bits set (fd00::/8), received "fd00::1/8"'],
  ['10/8', 'expected a CIDR: an IPv4 (dotted quad) or IPv6 network address'],
  ['127.1/8', 'expected a CIDR: an IPv4 (dotted quad) or IPv6 network address'],
  ['[::1]/128', 'expected a CIDR without brackets (e.g. fd00::/8), received "[::1]/128"'],
  ['fe80::/10%eth0', 'expected a prefix length of 0-128'],
  ['127.1', 'expected a dotted-quad IPv4 address or a hostname whose last label is not numeric, received "127.1"'],
  ['0x7f.0.0.1', 'expected a dotted-quad IPv4 address or a hostname whose last label is not numeric'],
  ['2130706433', 'expected a dotted-quad IPv4 address or a hostname whose last label is not numeric'],
  ['010.0.0.1', 'expected a dotted-quad IPv4 address or a hostname whose last label is not numeric'],
  ['1.2.3.256', 'expected a dotted-quad IPv4 address or a hostname whose last label is not numeric'],
  ['foo.123', 'expected a dotted-quad IPv4 address or a hostname whose last label is not numeric'],
  ['fe80::1%eth0', 'expected an IP address without a zone index, received "fe80::1%eth0"'],
  ['[10.0.0.1]', 'expected brackets only around an IPv6 address (e.g. [::1]), received "[10.0.0.1]"'],
  ['[::1', 'expected brackets only around an IPv6 address'],
  ['1::2::3', 'expected a hostname, *.suffix wildcard, IP address or CIDR'],
];

describe('validatePolicyEntry', () => {
  it.each(valid)('%j is valid', (entry) => {
    expect(validatePolicyEntry(entry)).toBeUndefined();
  });

  it.each(invalid)('%j is refused: %s', (entry, message) => {
    expect(validatePolicyEntry(entry)).toContain(message);
  });
});
