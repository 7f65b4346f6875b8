// Strict IP parsing and classification against the IANA IPv4 and IPv6 special-purpose address registries.
//
// Pure and allocation-light: it runs for every job and every dialled address, on the main thread and in workers.
//
// Parsing is deliberately stricter than ipaddr.js, which accepts inet_aton spellings ("127.1", "0x7f.1",
// "2130706433", and "010.0.0.1" read as octal 8.0.0.1) and reads "::a.b.c.d" as IPv4-MAPPED where RFC 4291,
// Node's URL parser and the kernel read it as IPv4-COMPATIBLE (::7f00:1). A dialled address never comes in those
// spellings, and a string two parsers read differently is how filters get bypassed, so anything that is not a
// dotted quad (decimal, no leading zeros) or RFC 4291 IPv6 text is "not an IP address" and the caller fails closed.
// ipaddr.js still parses the IPv6 text, once any dotted-quad tail has been rewritten to hex here.
//
// Decisions (see the registry entries quoted in the tables below):
// - Whole blocks are blocked even where the registry marks a few sub-entries globally reachable (192.0.0.9/32 and
//   192.0.0.10/32 inside 192.0.0.0/24; PCP/TURN anycast, AMT, AS112-v6 and ORCHIDv2 inside 2001::/23): an HTTP
//   client has no business calling protocol anycast addresses.
// - IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96, deprecated) and well-known NAT64 (64:ff9b::/96) addresses
//   are judged by the IPv4 address they embed: a public one is public, anything else is blocked naming both.
// - 6to4 (2002::/16), Teredo (2001::/32) and local-use NAT64 (64:ff9b:1::/48) are blocked OUTRIGHT: the first two
//   are deprecated tunnels (RFC 7526; Teredo sits inside 2001::/23), the third is not globally reachable
//   (RFC 8215). When the IPv4 address they embed is itself not public, the reason names it too. For 64:ff9b:1::/48
//   the embedded address is taken from the last 32 bits (the /96 layout operators deploy); as the whole prefix is
//   blocked anyway, that choice only affects the wording of the reason.
import * as ipaddrNamespace from 'ipaddr.js';

// ipaddr.js is CommonJS (`module.exports = ipaddr` inside an IIFE) that Node's CJS lexer cannot split into named
// exports, so under ESM the library is the namespace's `default` (checked on Node 20 and under vitest). With
// esModuleInterop off, TypeScript refuses `import ipaddr from` and types the namespace as the library itself;
// take `default` when present, the namespace otherwise (a bundler that does interop itself).
const ipaddr: typeof ipaddrNamespace =
  (ipaddrNamespace as unknown as { readonly default?: typeof ipaddrNamespace }).default ?? ipaddrNamespace;

/**
 * A strictly parsed IP address. `v4` is the address as an unsigned 32-bit number when `family` is 4; for an
 * IPv4-mapped IPv6 address it is the embedded IPv4 address, otherwise -1. `words` holds the eight 16-bit words
 * of an IPv6 address (empty for IPv4).
 */
export interface ParsedIp {
  readonly family: 4 | 6;
  readonly v4: number;
  readonly words: readonly number[];
}

/** A blocking range: a stable camelCase name, its CIDR, and a human label used in reasons. */
export interface AddressRange {
  readonly name: string;
  readonly cidr: string;
  readonly label: string;
}

/** The class of an address: public (globally reachable unicast) or blocked, naming the range that blocks it. */
export type AddressClass =
  | { readonly public: true }
  | {
      readonly public: false;
      /** Name of the blocking range (for an embedding address, the IPv6 range that embeds). */
      readonly range: string;
      readonly cidr: string;
      /** For an address that embeds a non-public IPv4 address: the IPv4 range that blocks it. */
      readonly embedded?: { readonly range: string; readonly cidr: string };
      /** A reason naming the rule, e.g. `loopback address (127.0.0.0/8)`. */
      readonly reason: string;
    };

type BlockedClass = Extract<AddressClass, { public: false }>;

const NO_WORDS: readonly number[] = Object.freeze([]);

/**
 * Parses a dotted-quad IPv4 address between `start` and `end` (four decimal octets 0-255, no leading zeros, no
 * other spelling). Returns the address as an unsigned 32-bit number, or -1.
 */
export function parseDottedQuad(text: string, start = 0, end = text.length): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return -1; // leading zero: octal in inet_aton, refused
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

function hex16(n: number): string {
  return n.toString(16);
}

function parseIpv6(text: string): number[] | undefined {
  let s = text;
  const zone = s.indexOf('%');
  if (zone !== -1) {
    // A zone index only scopes a link-local address; it never changes the address judged.
    if (zone === s.length - 1) return undefined;
    s = s.slice(0, zone);
  }
  const lastColon = s.lastIndexOf(':');
  if (lastColon === -1) return undefined;
  if (s.indexOf('.', lastColon) !== -1) {
    const v4 = parseDottedQuad(s, lastColon + 1, s.length);
    if (v4 < 0) return undefined;
    // Rewriting the tail to hex sidesteps ipaddr.js reading "::a.b.c.d" as IPv4-mapped.
    s = `${s.slice(0, lastColon + 1)}${hex16(Math.floor(v4 / 65536))}:${hex16(v4 & 0xffff)}`;
  }
  try {
    return ipaddr.IPv6.parse(s).parts;
  } catch {
    return undefined;
  }
}

/**
 * Parses an IP address string strictly: a dotted-quad IPv4 address, or IPv6 text (optionally bracketed, with an
 * optional dotted-quad tail and zone index). Returns undefined for anything else, including legacy IPv4
 * spellings such as `127.1`, `0x7f.0.0.1` or `2130706433`.
 */
export function parseIp(text: string): ParsedIp | undefined {
  const length = text.length;
  if (length === 0 || length > 64) return undefined;
  const first = text.charCodeAt(0);
  if (first >= 48 && first <= 57 && text.indexOf(':') === -1) {
    const v4 = parseDottedQuad(text);
    return v4 < 0 ? undefined : { family: 4, v4, words: NO_WORDS };
  }
  let inner = text;
  if (first === 91 /* [ */) {
    if (text.charCodeAt(length - 1) !== 93 /* ] */) return undefined;
    inner = text.slice(1, -1);
  }
  const words = parseIpv6(inner);
  if (words === undefined) return undefined;
  const mapped =
    words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && words[5] === 0xffff;
  return { family: 6, v4: mapped ? wordsToV4(words[6], words[7]) : -1, words };
}

function wordsToV4(high: number | undefined, low: number | undefined): number {
  return (high ?? 0) * 65536 + (low ?? 0);
}

/** Formats an unsigned 32-bit IPv4 value as a dotted quad. */
export function formatIpv4(v4: number): string {
  return `${(v4 >>> 24) & 255}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
}

// ---------------------------------------------------------------------------------------------------------------
// IPv4

interface V4Range extends AddressRange {
  readonly net: number;
  readonly mask: number;
}

function v4Range(name: string, cidr: string, label: string): V4Range {
  const slash = cidr.indexOf('/');
  const bits = Number(cidr.slice(slash + 1));
  const net = parseDottedQuad(cidr, 0, slash);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return Object.freeze({ name, cidr, label, net, mask });
}

// IANA IPv4 Special-Purpose Address Registry, entries that are not globally reachable. Order matters only where
// ranges nest: the broadcast address is inside 240.0.0.0/4 and must be named first.
const V4_RANGES: readonly V4Range[] = Object.freeze([
  v4Range('unspecified', '0.0.0.0/8', 'unspecified'), // "This network", RFC 791
  v4Range('private', '10.0.0.0/8', 'private'), // RFC 1918
  v4Range('carrierGradeNat', '100.64.0.0/10', 'carrier-grade NAT'), // shared address space, RFC 6598
  v4Range('loopback', '127.0.0.0/8', 'loopback'), // RFC 1122
  v4Range('linkLocal', '169.254.0.0/16', 'link-local'), // RFC 3927
  v4Range('private', '172.16.0.0/12', 'private'), // RFC 1918
  v4Range('ietfProtocolAssignments', '192.0.0.0/24', 'IETF protocol assignment'), // RFC 6890
  v4Range('documentation', '192.0.2.0/24', 'documentation'), // TEST-NET-1, RFC 5737
  v4Range('6to4Relay', '192.88.99.0/24', '6to4 relay anycast'), // deprecated, RFC 7526
  v4Range('private', '192.168.0.0/16', 'private'), // RFC 1918
  v4Range('benchmarking', '198.18.0.0/15', 'benchmarking'), // RFC 2544
  v4Range('documentation', '198.51.100.0/24', 'documentation'), // TEST-NET-2, RFC 5737
  v4Range('documentation', '203.0.113.0/24', 'documentation'), // TEST-NET-3, RFC 5737
  v4Range('multicast', '224.0.0.0/4', 'multicast'), // RFC 5771
  v4Range('broadcast', '255.255.255.255/32', 'broadcast'), // limited broadcast, RFC 919
  v4Range('reserved', '240.0.0.0/4', 'reserved'), // RFC 1112
]);

function article(label: string): string {
  return /^[aeiouAEIOU]/.test(label) ? 'an' : 'a';
}

function blocked(range: AddressRange, embedded?: AddressRange, kindLabel?: string): BlockedClass {
  if (embedded === undefined || kindLabel === undefined) {
    return Object.freeze({
      public: false,
      range: range.name,
      cidr: range.cidr,
      reason: `${range.label} address (${range.cidr})`,
    });
  }
  return Object.freeze({
    public: false,
    range: range.name,
    cidr: range.cidr,
    embedded: Object.freeze({ range: embedded.name, cidr: embedded.cidr }),
    reason: `${kindLabel} embedding ${article(embedded.label)} ${embedded.label} address (${embedded.cidr})`,
  });
}

const PUBLIC: AddressClass = Object.freeze({ public: true });
const V4_CLASSES: readonly BlockedClass[] = Object.freeze(V4_RANGES.map((r) => blocked(r)));

/** Index into V4_RANGES of the range that blocks `v4`, or -1 when it is public. */
function v4RangeIndex(v4: number): number {
  for (let i = 0; i < V4_RANGES.length; i++) {
    const r = V4_RANGES[i];
    if (r !== undefined && (v4 & r.mask) >>> 0 === r.net) return i;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------------------------
// IPv6

function v6Range(name: string, cidr: string, label: string): AddressRange {
  return Object.freeze({ name, cidr, label });
}

const V6 = {
  unspecified: v6Range('unspecified', '::/128', 'unspecified'),
  loopback: v6Range('loopback', '::1/128', 'loopback'),
  ipv4Mapped: v6Range('ipv4Mapped', '::ffff:0:0/96', 'IPv4-mapped IPv6'),
  ipv4Compatible: v6Range('ipv4Compatible', '::/96', 'IPv4-compatible IPv6'),
  nat64: v6Range('nat64', '64:ff9b::/96', 'NAT64'),
  nat64LocalUse: v6Range('nat64LocalUse', '64:ff9b:1::/48', 'NAT64 local-use'),
  discard: v6Range('discard', '100::/64', 'discard-only'),
  teredo: v6Range('teredo', '2001::/32', 'Teredo tunnel'),
  benchmarking: v6Range('benchmarking', '2001:2::/48', 'benchmarking'),
  orchid: v6Range('orchid', '2001:10::/28', 'ORCHID'),
  orchidV2: v6Range('orchidV2', '2001:20::/28', 'ORCHIDv2'),
  ietfProtocolAssignments: v6Range('ietfProtocolAssignments', '2001::/23', 'IETF protocol assignment'),
  documentation: v6Range('documentation', '2001:db8::/32', 'documentation'),
  documentation2: v6Range('documentation', '3fff::/20', 'documentation'),
  sixToFour: v6Range('6to4', '2002::/16', '6to4 tunnel'),
  uniqueLocal: v6Range('uniqueLocal', 'fc00::/7', 'unique local'),
  linkLocal: v6Range('linkLocal', 'fe80::/10', 'link-local'),
  siteLocal: v6Range('siteLocal', 'fec0::/10', 'site-local (deprecated)'),
  multicast: v6Range('multicast', 'ff00::/8', 'multicast'),
  notGlobalUnicast: v6Range('notGlobalUnicast', '2000::/3', 'non-global-unicast (outside 2000::/3)'),
} as const;

const V6_CLASSES = {
  unspecified: blocked(V6.unspecified),
  loopback: blocked(V6.loopback),
  discard: blocked(V6.discard),
  benchmarking: blocked(V6.benchmarking),
  orchid: blocked(V6.orchid),
  orchidV2: blocked(V6.orchidV2),
  ietfProtocolAssignments: blocked(V6.ietfProtocolAssignments),
  documentation: blocked(V6.documentation),
  documentation2: blocked(V6.documentation2),
  uniqueLocal: blocked(V6.uniqueLocal),
  linkLocal: blocked(V6.linkLocal),
  siteLocal: blocked(V6.siteLocal),
  multicast: blocked(V6.multicast),
  // Reason reads "address outside global unicast (2000::/3)", not a made-up CIDR for "everything else".
  notGlobalUnicast: Object.freeze({
    public: false,
    range: V6.notGlobalUnicast.name,
    cidr: V6.notGlobalUnicast.cidr,
    reason: 'address outside global unicast (2000::/3)',
  }) as BlockedClass,
} as const;

/**
 * How an IPv6 range embeds IPv4: `passPublic` says whether a public embedded address makes the IPv6 address
 * public (mapped, compatible, well-known NAT64) or the range is blocked outright (6to4, Teredo, local-use NAT64).
 */
interface Embedding {
  readonly outright: BlockedClass | undefined;
  readonly byV4Range: readonly BlockedClass[];
}

function embedding(range: AddressRange, kindLabel: string, passPublic: boolean): Embedding {
  return Object.freeze({
    outright: passPublic ? undefined : blocked(range),
    byV4Range: Object.freeze(V4_RANGES.map((r) => blocked(range, r, kindLabel))),
  });
}

const EMBED = {
  mapped: embedding(V6.ipv4Mapped, 'IPv4-mapped IPv6 address', true),
  compatible: embedding(V6.ipv4Compatible, 'IPv4-compatible IPv6 address', true),
  nat64: embedding(V6.nat64, 'NAT64 address', true),
  nat64LocalUse: embedding(V6.nat64LocalUse, 'NAT64 local-use address', false),
  sixToFour: embedding(V6.sixToFour, '6to4 address', false),
  teredo: embedding(V6.teredo, 'Teredo address', false),
} as const;

function judgeEmbedded(e: Embedding, v4: number): AddressClass {
  const i = v4RangeIndex(v4);
  if (i === -1) return e.outright ?? PUBLIC;
  return e.byV4Range[i] ?? PUBLIC;
}

/**
 * The IPv4 address an IPv6 address embeds (IPv4-mapped, IPv4-compatible, NAT64 both prefixes, 6to4, Teredo
 * client), or -1. IPv4 input returns its own value. `::` and `::1` embed nothing.
 */
export function embeddedIpv4(ip: ParsedIp): number {
  if (ip.family === 4) return ip.v4;
  const w = ip.words;
  const w0 = w[0] ?? 0;
  const w1 = w[1] ?? 0;
  if (w0 === 0 && w1 === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0) {
    if (w[5] === 0xffff) return wordsToV4(w[6], w[7]);
    if (w[5] === 0 && (w[6] !== 0 || (w[7] ?? 0) > 1)) return wordsToV4(w[6], w[7]);
    return -1;
  }
  if (w0 === 0x64 && w1 === 0xff9b) {
    if (w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0) return wordsToV4(w[6], w[7]);
    if (w[2] === 1) return wordsToV4(w[6], w[7]);
    return -1;
  }
  if (w0 === 0x2002) return wordsToV4(w1, w[2]);
  if (w0 === 0x2001 && w1 === 0) return teredoClient(w);
  return -1;
}

function teredoClient(w: readonly number[]): number {
  // RFC 4380: the client's public IPv4 address is stored with every bit inverted in the last 32 bits.
  return ~(((w[6] ?? 0) << 16) | (w[7] ?? 0)) >>> 0;
}

function classifyV6(w: readonly number[]): AddressClass {
  const w0 = w[0] ?? 0;
  const w1 = w[1] ?? 0;
  const w2 = w[2] ?? 0;
  if (w0 === 0 && w1 === 0 && w2 === 0 && w[3] === 0 && w[4] === 0) {
    const w5 = w[5] ?? 0;
    if (w5 === 0xffff) return judgeEmbedded(EMBED.mapped, wordsToV4(w[6], w[7]));
    if (w5 === 0) {
      if (w[6] === 0) {
        if (w[7] === 0) return V6_CLASSES.unspecified;
        if (w[7] === 1) return V6_CLASSES.loopback;
      }
      return judgeEmbedded(EMBED.compatible, wordsToV4(w[6], w[7]));
    }
    return V6_CLASSES.notGlobalUnicast; // e.g. ::ffff:0:a.b.c.d (RFC 6145 translated)
  }
  if (w0 === 0x64 && w1 === 0xff9b) {
    if (w2 === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0) return judgeEmbedded(EMBED.nat64, wordsToV4(w[6], w[7]));
    if (w2 === 1) return judgeEmbedded(EMBED.nat64LocalUse, wordsToV4(w[6], w[7]));
    return V6_CLASSES.notGlobalUnicast;
  }
  if ((w0 & 0xe000) !== 0x2000) {
    if (w0 === 0x100 && w1 === 0 && w2 === 0 && w[3] === 0) return V6_CLASSES.discard;
    if ((w0 & 0xfe00) === 0xfc00) return V6_CLASSES.uniqueLocal;
    if ((w0 & 0xffc0) === 0xfe80) return V6_CLASSES.linkLocal;
    if ((w0 & 0xffc0) === 0xfec0) return V6_CLASSES.siteLocal;
    if ((w0 & 0xff00) === 0xff00) return V6_CLASSES.multicast;
    return V6_CLASSES.notGlobalUnicast;
  }
  if (w0 === 0x2001) {
    if (w1 === 0) return judgeEmbedded(EMBED.teredo, teredoClient(w));
    if (w1 < 0x200) {
      if (w1 === 2 && w2 === 0) return V6_CLASSES.benchmarking;
      if ((w1 & 0xfff0) === 0x10) return V6_CLASSES.orchid;
      if ((w1 & 0xfff0) === 0x20) return V6_CLASSES.orchidV2;
      return V6_CLASSES.ietfProtocolAssignments;
    }
    if (w1 === 0xdb8) return V6_CLASSES.documentation;
    return PUBLIC;
  }
  if (w0 === 0x2002) return judgeEmbedded(EMBED.sixToFour, wordsToV4(w1, w2));
  if (w0 === 0x3fff && (w1 & 0xf000) === 0) return V6_CLASSES.documentation2;
  return PUBLIC;
}

/** Classifies a parsed address. */
export function classifyParsed(ip: ParsedIp): AddressClass {
  if (ip.family === 4) {
    const i = v4RangeIndex(ip.v4);
    return i === -1 ? PUBLIC : (V4_CLASSES[i] ?? PUBLIC);
  }
  return classifyV6(ip.words);
}

/**
 * Classifies an IP address string (IPv4 or IPv6, brackets optional) as public unicast or blocked, naming the
 * range. Returns undefined when the string is not an IP address (see {@link parseIp}).
 */
export function classifyAddress(ip: string): AddressClass | undefined {
  const parsed = parseIp(ip);
  return parsed === undefined ? undefined : classifyParsed(parsed);
}
