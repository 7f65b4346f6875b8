import { describe, expect, it } from 'vitest';
import { classifyAddress, embeddedIpv4, formatIpv4, parseIp } from '../../dist/src/policy/index.js';

// [address, range, cidr, reason]: each vector names the exact range that must block it.
const blockedV4: readonly (readonly [string, string, string, string])[] = [
  ['0.0.0.0', 'unspecified', '0.0.0.0/8', 'unspecified address (0.0.0.0/8)'],
  ['0.255.255.255', 'unspecified', '0.0.0.0/8', 'unspecified address (0.0.0.0/8)'],
  ['10.0.0.1', 'private', '10.0.0.0/8', 'private address (10.0.0.0/8)'],
  ['10.255.255.255', 'private', '10.0.0.0/8', 'private address (10.0.0.0/8)'],
  ['100.64.0.1', 'carrierGradeNat', '100.64.0.0/10', 'carrier-grade NAT address (100.64.0.0/10)'],
  ['100.127.255.255', 'carrierGradeNat', '100.64.0.0/10', 'carrier-grade NAT address (100.64.0.0/10)'],
  ['127.0.0.1', 'loopback', '127.0.0.0/8', 'loopback address (127.0.0.0/8)'],
  ['127.255.255.254', 'loopback', '127.0.0.0/8', 'loopback address (127.0.0.0/8)'],
  ['169.254.0.1', 'linkLocal', '169.254.0.0/16', 'link-local address (169.254.0.0/16)'],
  ['172.16.0.1', 'private', '172.16.0.0/12', 'private address (172.16.0.0/12)'],
  ['172.31.255.255', 'private', '172.16.0.0/12', 'private address (172.16.0.0/12)'],
  ['192.0.0.1', 'ietfProtocolAssignments', '192.0.0.0/24', 'IETF protocol assignment address (192.0.0.0/24)'],
  ['192.0.0.9', 'ietfProtocolAssignments', '192.0.0.0/24', 'IETF protocol assignment address (192.0.0.0/24)'],
  ['192.0.2.1', 'documentation', '192.0.2.0/24', 'documentation address (192.0.2.0/24)'],
  ['192.88.99.1', '6to4Relay', '192.88.99.0/24', '6to4 relay anycast address (192.88.99.0/24)'],
  ['192.168.1.1', 'private', '192.168.0.0/16', 'private address (192.168.0.0/16)'],
  ['198.18.0.1', 'benchmarking', '198.18.0.0/15', 'benchmarking address (198.18.0.0/15)'],
  ['198.19.255.255', 'benchmarking', '198.18.0.0/15', 'benchmarking address (198.18.0.0/15)'],
  ['198.51.100.7', 'documentation', '198.51.100.0/24', 'documentation address (198.51.100.0/24)'],
  ['203.0.113.9', 'documentation', '203.0.113.0/24', 'documentation address (203.0.113.0/24)'],
  ['224.0.0.1', 'multicast', '224.0.0.0/4', 'multicast address (224.0.0.0/4)'],
  ['239.255.255.250', 'multicast', '224.0.0.0/4', 'multicast address (224.0.0.0/4)'],
  ['240.0.0.1', 'reserved', '240.0.0.0/4', 'reserved address (240.0.0.0/4)'],
  ['255.255.255.254', 'reserved', '240.0.0.0/4', 'reserved address (240.0.0.0/4)'],
  ['255.255.255.255', 'broadcast', '255.255.255.255/32', 'broadcast address (255.255.255.255/32)'],
];

const blockedV6: readonly (readonly [string, string, string, string])[] = [
  ['::', 'unspecified', '::/128', 'unspecified address (::/128)'],
  ['::1', 'loopback', '::1/128', 'loopback address (::1/128)'],
  ['[::1]', 'loopback', '::1/128', 'loopback address (::1/128)'],
  ['0:0:0:0:0:0:0:1', 'loopback', '::1/128', 'loopback address (::1/128)'],
  ['100::1', 'discard', '100::/64', 'discard-only address (100::/64)'],
  ['2001:2::1', 'benchmarking', '2001:2::/48', 'benchmarking address (2001:2::/48)'],
  ['2001:10::1', 'orchid', '2001:10::/28', 'ORCHID address (2001:10::/28)'],
  ['2001:20::1', 'orchidV2', '2001:20::/28', 'ORCHIDv2 address (2001:20::/28)'],
  ['2001:1::1', 'ietfProtocolAssignments', '2001::/23', 'IETF protocol assignment address (2001::/23)'],
  ['2001:1ff::1', 'ietfProtocolAssignments', '2001::/23', 'IETF protocol assignment address (2001::/23)'],
  ['2001:db8::1', 'documentation', '2001:db8::/32', 'documentation address (2001:db8::/32)'],
  ['3fff::1', 'documentation', '3fff::/20', 'documentation address (3fff::/20)'],
  ['3fff:fff:ffff::1', 'documentation', '3fff::/20', 'documentation address (3fff::/20)'],
  ['fc00::1', 'uniqueLocal', 'fc00::/7', 'unique local address (fc00::/7)'],
  ['fd12:3456:789a::1', 'uniqueLocal', 'fc00::/7', 'unique local address (fc00::/7)'],
  ['fe80::1', 'linkLocal', 'fe80::/10', 'link-local address (fe80::/10)'],
  ['fe80::1%eth0', 'linkLocal', 'fe80::/10', 'link-local address (fe80::/10)'],
  ['febf:ffff::1', 'linkLocal', 'fe80::/10', 'link-local address (fe80::/10)'],
  ['fec0::1', 'siteLocal', 'fec0::/10', 'site-local (deprecated) address (fec0::/10)'],
  ['ff02::1', 'multicast', 'ff00::/8', 'multicast address (ff00::/8)'],
  ['FF05::1:3', 'multicast', 'ff00::/8', 'multicast address (ff00::/8)'],
  ['5f00::1', 'notGlobalUnicast', '2000::/3', 'address outside global unicast (2000::/3)'],
  ['4000::1', 'notGlobalUnicast', '2000::/3', 'address outside global unicast (2000::/3)'],
  ['1000::1', 'notGlobalUnicast', '2000::/3', 'address outside global unicast (2000::/3)'],
  ['::ffff:0:7f00:1', 'notGlobalUnicast', '2000::/3', 'address outside global unicast (2000::/3)'],
  ['64:ff9b:2::1', 'notGlobalUnicast', '2000::/3', 'address outside global unicast (2000::/3)'],
  // Tunnels blocked outright even when the embedded IPv4 address is public.
  ['2002:808:808::1', '6to4', '2002::/16', '6to4 tunnel address (2002::/16)'],
  ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', 'teredo', '2001::/32', 'Teredo tunnel address (2001::/32)'],
  ['64:ff9b:1::8.8.8.8', 'nat64LocalUse', '64:ff9b:1::/48', 'NAT64 local-use address (64:ff9b:1::/48)'],
];

// [address, v6 range, v6 cidr, embedded range, embedded cidr, reason]
const embedded: readonly (readonly [string, string, string, string, string, string])[] = [
  [
    '::ffff:127.0.0.1',
    'ipv4Mapped',
    '::ffff:0:0/96',
    'loopback',
    '127.0.0.0/8',
    'IPv4-mapped IPv6 address embedding a loopback address (127.0.0.0/8)',
  ],
  [
    '::ffff:7f00:1',
    'ipv4Mapped',
    '::ffff:0:0/96',
    'loopback',
    '127.0.0.0/8',
    'IPv4-mapped IPv6 address embedding a loopback address (127.0.0.0/8)',
  ],
  [
    '[::FFFF:10.0.0.1]',
    'ipv4Mapped',
    '::ffff:0:0/96',
    'private',
    '10.0.0.0/8',
    'IPv4-mapped IPv6 address embedding a private address (10.0.0.0/8)',
  ],
  [
    '::ffff:0.0.0.0',
    'ipv4Mapped',
    '::ffff:0:0/96',
    'unspecified',
    '0.0.0.0/8',
    'IPv4-mapped IPv6 address embedding an unspecified address (0.0.0.0/8)',
  ],
  [
    '::ffff:a9fe:a9fe',
    'ipv4Mapped',
    '::ffff:0:0/96',
    'linkLocal',
    '169.254.0.0/16',
    'IPv4-mapped IPv6 address embedding a link-local address (169.254.0.0/16)',
  ],
  [
    '::127.0.0.1',
    'ipv4Compatible',
    '::/96',
    'loopback',
    '127.0.0.0/8',
    'IPv4-compatible IPv6 address embedding a loopback address (127.0.0.0/8)',
  ],
  [
    '::7f00:1',
    'ipv4Compatible',
    '::/96',
    'loopback',
    '127.0.0.0/8',
    'IPv4-compatible IPv6 address embedding a loopback address (127.0.0.0/8)',
  ],
  [
    '::192.168.0.1',
    'ipv4Compatible',
    '::/96',
    'private',
    '192.168.0.0/16',
    'IPv4-compatible IPv6 address embedding a private address (192.168.0.0/16)',
  ],
  [
    '::0.0.0.2',
    'ipv4Compatible',
    '::/96',
    'unspecified',
    '0.0.0.0/8',
    'IPv4-compatible IPv6 address embedding an unspecified address (0.0.0.0/8)',
  ],
  [
    '64:ff9b::127.0.0.1',
    'nat64',
    '64:ff9b::/96',
    'loopback',
    '127.0.0.0/8',
    'NAT64 address embedding a loopback address (127.0.0.0/8)',
  ],
  [
    '64:ff9b::a00:1',
    'nat64',
    '64:ff9b::/96',
    'private',
    '10.0.0.0/8',
    'NAT64 address embedding a private address (10.0.0.0/8)',
  ],
  [
    '64:ff9b:1::10.0.0.1',
    'nat64LocalUse',
    '64:ff9b:1::/48',
    'private',
    '10.0.0.0/8',
    'NAT64 local-use address embedding a private address (10.0.0.0/8)',
  ],
  [
    '2002:7f00:1::',
    '6to4',
    '2002::/16',
    'loopback',
    '127.0.0.0/8',
    '6to4 address embedding a loopback address (127.0.0.0/8)',
  ],
  [
    '2002:c0a8:101::1',
    '6to4',
    '2002::/16',
    'private',
    '192.168.0.0/16',
    '6to4 address embedding a private address (192.168.0.0/16)',
  ],
  [
    '2002:a9fe:a9fe::',
    '6to4',
    '2002::/16',
    'linkLocal',
    '169.254.0.0/16',
    '6to4 address embedding a link-local address (169.254.0.0/16)',
  ],
  // RFC 4380's example: client 192.0.2.45 stored inverted as 3fff:fdd2.
  [
    '2001:0000:4136:e378:8000:63bf:3fff:fdd2',
    'teredo',
    '2001::/32',
    'documentation',
    '192.0.2.0/24',
    'Teredo address embedding a documentation address (192.0.2.0/24)',
  ],
  [
    '2001:0:4136:e378:8000:63bf:80ff:fffe',
    'teredo',
    '2001::/32',
    'loopback',
    '127.0.0.0/8',
    'Teredo address embedding a loopback address (127.0.0.0/8)',
  ],
];

const publicAddresses: readonly string[] = [
  '8.8.8.8',
  '1.1.1.1',
  '9.255.255.255',
  '11.0.0.0',
  '100.63.255.255',
  '100.128.0.0',
  '126.255.255.255',
  '128.0.0.0',
  '169.253.255.255',
  '169.255.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '192.0.1.0',
  '192.0.3.0',
  '192.88.98.255',
  '192.167.255.255',
  '192.169.0.0',
  '198.17.255.255',
  '198.20.0.0',
  '223.255.255.255',
  '192.31.196.1', // AS112, globally reachable
  '192.52.193.1', // AMT, globally reachable
  '2606:4700:4700::1111',
  '2001:4860:4860::8888',
  '[2606:4700:4700::1001]',
  '::ffff:8.8.8.8',
  '::ffff:808:808',
  '64:ff9b::8.8.8.8',
  '64:ff9b::101:101',
  '::8.8.8.8', // IPv4-compatible: judged by the embedded address
  '2001:200::1', // first /23 above 2001::/23
  '2001:db9::1',
  '2003::1',
  '2620:4f:8000::1', // AS112-v6, globally reachable
  '3fff:1000::1', // just above 3fff::/20
  '3ffe::1',
];

const notAddresses: readonly string[] = [
  '',
  'localhost',
  'example.com',
  '127.1',
  '0x7f.0.0.1',
  '0x7f000001',
  '2130706433',
  '0177.0.0.1',
  '010.0.0.1',
  '1.2.3.04',
  '256.0.0.1',
  '1.2.3',
  '1.2.3.4.5',
  ' 1.2.3.4',
  '1.2.3.4 ',
  '1.2.3.4:80',
  '::ffff:127.1',
  '::ffff:0x7f.0.0.1',
  '1::2::3',
  ':::',
  '12345::1',
  '[::1',
  '::1]',
  '[1.2.3.4]',
  'fe80::1%',
  '::1/128',
  '1:2:3:4:5:6:7:8:9',
];

describe('classifyAddress: IPv4 special-purpose ranges', () => {
  it.each(blockedV4)('%s is blocked by %s (%s)', (ip, range, cidr, reason) => {
    expect(classifyAddress(ip)).toEqual({ public: false, range, cidr, reason });
  });
});

describe('classifyAddress: IPv6 special-purpose ranges', () => {
  it.each(blockedV6)('%s is blocked by %s (%s)', (ip, range, cidr, reason) => {
    expect(classifyAddress(ip)).toEqual({ public: false, range, cidr, reason });
  });
});

describe('classifyAddress: addresses that embed IPv4 are judged by it', () => {
  it.each(embedded)('%s: %s embedding %s', (ip, range, cidr, embeddedRange, embeddedCidr, reason) => {
    expect(classifyAddress(ip)).toEqual({
      public: false,
      range,
      cidr,
      embedded: { range: embeddedRange, cidr: embeddedCidr },
      reason,
    });
  });
});

describe('classifyAddress: public unicast', () => {
  it.each(publicAddresses)('%s is public', (ip) => {
    expect(classifyAddress(ip)).toEqual({ public: true });
  });
});

describe('parseIp: strict parsing', () => {
  it.each(notAddresses)('%j is not an IP address', (text) => {
    expect(parseIp(text)).toBeUndefined();
    expect(classifyAddress(text)).toBeUndefined();
  });

  it.each([
    ['1.2.3.4', 4, 0x01020304],
    ['255.255.255.255', 4, 0xffffffff],
    ['::ffff:1.2.3.4', 6, 0x01020304],
    ['::ffff:102:304', 6, 0x01020304],
    ['::1.2.3.4', 6, -1], // IPv4-compatible, not mapped (ipaddr.js alone reads it as mapped)
    ['2001:db8::1', 6, -1],
  ] as const)('%s parses as IPv%i with mapped value %i', (text, family, v4) => {
    const parsed = parseIp(text);
    expect(parsed?.family).toBe(family);
    expect(parsed?.v4).toBe(v4);
  });

  it.each([
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::10.1.2.3', '10.1.2.3'],
    ['64:ff9b::10.1.2.3', '10.1.2.3'],
    ['64:ff9b:1::10.1.2.3', '10.1.2.3'],
    ['2002:a01:203::', '10.1.2.3'],
    ['2001:0:4136:e378:8000:63bf:f5fe:fdfc', '10.1.2.3'],
    ['10.1.2.3', '10.1.2.3'],
  ] as const)('embeddedIpv4(%s) is %s', (text, v4) => {
    const parsed = parseIp(text);
    expect(parsed).toBeDefined();
    if (parsed !== undefined) expect(formatIpv4(embeddedIpv4(parsed))).toBe(v4);
  });

  it.each(['::', '::1', '2606:4700:4700::1111'])('embeddedIpv4(%s) is none', (text) => {
    const parsed = parseIp(text);
    expect(parsed).toBeDefined();
    if (parsed !== undefined) expect(embeddedIpv4(parsed)).toBe(-1);
  });
});
