// Parsing of `policy.allow` / `policy.deny` entries and their compilation into matchers.
//
// An entry is a hostname (`api.example.com`), a `*.suffix` wildcard (`*.example.com`: sub-domains at any depth,
// not the apex), an IP address (`10.1.2.3`, `::1`, `[::1]`) or a CIDR (`10.0.0.0/8`, `fd00::/8`).
//
// Decisions:
// - A CIDR must be written as its network address: `10.0.0.1/8` is refused (did it mean /32?) with the message
//   naming `10.0.0.0/8`, instead of being silently masked.
// - IPv4 is dotted-quad only. A URL host such as `127.1` or `0x7f.1` is normalised by the URL parser to
//   `127.0.0.1`, so an entry in such a spelling could never match; it is refused rather than ignored.
// - A name whose last label is numeric (`foo.123`) is refused: the URL parser treats such a host as IPv4.
// - Names are ASCII: an internationalised name must be written in punycode (`xn--...`), as URL.hostname gives it.
// - An IPv4-mapped IPv6 entry (`::ffff:10.0.0.0/104`) also matches the plain IPv4 addresses it maps, and an
//   IPv4-mapped address being judged is matched against IPv4 entries too.
// - An IP entry, or a CIDR of full length (/32, /128), "names exactly" that address (see metadata.ts).
import type { ParsedIp } from './address-classes.js';
import { embeddedIpv4, formatIpv4, parseDottedQuad, parseIp } from './address-classes.js';
import { redactUrlCredentials } from '../errors/redact.js';

/** A parsed policy entry. */
export type PolicyEntry =
  | { readonly kind: 'hostname'; readonly hostname: string }
  | { readonly kind: 'suffix'; readonly suffix: string }
  | { readonly kind: 'v4'; readonly net: number; readonly bits: number }
  | { readonly kind: 'v6'; readonly words: readonly number[]; readonly bits: number };

type ParseResult =
  { readonly ok: true; readonly entry: PolicyEntry } | { readonly ok: false; readonly message: string };

const EXPECTED = 'expected a hostname, *.suffix wildcard, IP address or CIDR';

// Built once: a hostname of LDH labels (underscore tolerated, as in real DNS), 1-63 characters each.
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
const NUMERIC_LABEL = /(?:^|\.)(?:[0-9]+|0x[0-9a-f]*)$/;
const PREFIX_LENGTH = /^(?:0|[1-9][0-9]{0,2})$/;

function quote(value: string): string {
  // An entry pasted from a URL may carry credentials: never quote them back.
  const json = JSON.stringify(redactUrlCredentials(value));
  return json.length > 100 ? `${json.slice(0, 96)}..."` : json;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function fail(message: string): ParseResult {
  return { ok: false, message };
}

function v4Mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

function v6Network(words: readonly number[], bits: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    const mask = keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
    out.push((words[i] ?? 0) & mask);
  }
  return out;
}

function formatV6(words: readonly number[]): string {
  // Shortest form is not needed for a hint; the longest run of zero words is compressed for readability.
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function parseAddressEntry(entry: string, text: string): ParseResult {
  const ip = parseIp(text);
  if (ip === undefined) {
    return fail(
      `expected an IPv4 address (dotted quad, no leading zeros) or an IPv6 address, received ${quote(entry)}`,
    );
  }
  if (text.indexOf('%') !== -1) return fail(`expected an IP address without a zone index, received ${quote(entry)}`);
  return ip.family === 4
    ? { ok: true, entry: { kind: 'v4', net: ip.v4, bits: 32 } }
    : { ok: true, entry: { kind: 'v6', words: ip.words, bits: 128 } };
}

function hostBitsMessage(network: string, entry: string): string {
  return `expected a network address with no host bits set (${network}), received ${quote(entry)}`;
}

function parseCidrEntry(entry: string, slash: number): ParseResult {
  const address = entry.slice(0, slash);
  const prefix = entry.slice(slash + 1);
  if (address.charCodeAt(0) === 91 /* [ */) {
    return fail(`expected a CIDR without brackets (e.g. fd00::/8), received ${quote(entry)}`);
  }
  if (address.indexOf('%') !== -1) return fail(`expected a CIDR without a zone index, received ${quote(entry)}`);
  const ip = parseIp(address);
  if (ip === undefined) {
    return fail(
      `expected a CIDR: an IPv4 (dotted quad) or IPv6 network address, "/", a prefix length; received ${quote(entry)}`,
    );
  }
  const max = ip.family === 4 ? 32 : 128;
  if (!PREFIX_LENGTH.test(prefix) || Number(prefix) > max) {
    return fail(`expected a prefix length of 0-${max} after an IPv${ip.family} address, received ${quote(entry)}`);
  }
  const bits = Number(prefix);
  if (ip.family === 4) {
    const net = (ip.v4 & v4Mask(bits)) >>> 0;
    if (net !== ip.v4) {
      return fail(hostBitsMessage(`${formatIpv4(net)}/${bits}`, entry));
    }
    return { ok: true, entry: { kind: 'v4', net, bits } };
  }
  const words = v6Network(ip.words, bits);
  for (let i = 0; i < 8; i++) {
    if (words[i] !== ip.words[i]) {
      return fail(hostBitsMessage(`${formatV6(words)}/${bits}`, entry));
    }
  }
  return { ok: true, entry: { kind: 'v6', words, bits } };
}

function parseNameEntry(entry: string, name: string): ParseResult {
  if (!HOSTNAME.test(name)) {
    for (let i = 0; i < name.length; i++) {
      if (name.charCodeAt(i) > 127) {
        return fail(
          `expected an ASCII hostname (write an internationalised name in punycode, xn--...), received ${quote(entry)}`,
        );
      }
    }
    if (name.indexOf(':') !== -1 || name.indexOf('/') !== -1) {
      return fail(`${EXPECTED} (no scheme, port or path), received ${quote(entry)}`);
    }
    return fail(`${EXPECTED}, received ${quote(entry)}`);
  }
  if (NUMERIC_LABEL.test(name)) {
    return fail(
      `expected a dotted-quad IPv4 address or a hostname whose last label is not numeric, received ${quote(entry)}`,
    );
  }
  return { ok: true, entry: { kind: 'hostname', hostname: name } };
}

/** Parses one entry. */
export function parsePolicyEntry(entry: unknown): ParseResult {
  if (typeof entry !== 'string') {
    return fail(`expected a string (hostname, *.suffix wildcard, IP address or CIDR), received ${describe(entry)}`);
  }
  if (entry.length === 0) return fail(`${EXPECTED}, received ""`);
  if (entry.trim() !== entry) return fail(`${EXPECTED} without surrounding whitespace, received ${quote(entry)}`);
  const slash = entry.indexOf('/');
  const lower = entry.toLowerCase();
  // A scheme-qualified entry ("https://x") contains "/" but is no CIDR; let the name check explain it.
  if (slash !== -1 && entry.indexOf('://') === -1) return parseCidrEntry(lower, slash);
  const first = entry.charCodeAt(0);
  if (first === 91 /* [ */) {
    if (entry.charCodeAt(entry.length - 1) !== 93 /* ] */ || lower.indexOf(':') === -1) {
      return fail(`expected brackets only around an IPv6 address (e.g. [::1]), received ${quote(entry)}`);
    }
    return parseAddressEntry(entry, lower.slice(1, -1));
  }
  if (lower.indexOf(':') !== -1 && lower.indexOf('://') === -1 && parseIp(lower) !== undefined) {
    return parseAddressEntry(entry, lower);
  }
  if (parseDottedQuad(lower) !== -1) return parseAddressEntry(entry, lower);
  if (first === 42 /* * */) {
    if (!lower.startsWith('*.') || lower.length < 3) {
      return fail(`expected "*." followed by a domain suffix (e.g. *.example.com), received ${quote(entry)}`);
    }
    const suffixName = stripTrailingDot(lower.slice(2));
    const parsed = parseNameEntry(entry, suffixName);
    if (!parsed.ok) return parsed;
    return { ok: true, entry: { kind: 'suffix', suffix: `.${suffixName}` } };
  }
  if (lower.indexOf('*') !== -1) {
    return fail(`expected a wildcard only as a leading "*." (e.g. *.example.com), received ${quote(entry)}`);
  }
  return parseNameEntry(entry, stripTrailingDot(lower));
}

function stripTrailingDot(name: string): string {
  return name.length > 1 && name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * Validates one `policy.allow` / `policy.deny` entry. Returns a message saying what was expected and what was
 * received, or undefined when the entry is valid.
 */
export function validatePolicyEntry(entry: string): string | undefined {
  const result = parsePolicyEntry(entry);
  return result.ok ? undefined : result.message;
}

interface V6Cidr {
  readonly words: readonly number[];
  readonly bits: number;
}

function matchesV6(words: readonly number[], cidr: V6Cidr): boolean {
  let bits = cidr.bits;
  for (let i = 0; bits > 0; i++, bits -= 16) {
    const a = words[i] ?? 0;
    const b = cidr.words[i] ?? 0;
    if (bits >= 16) {
      if (a !== b) return false;
    } else {
      const mask = (0xffff << (16 - bits)) & 0xffff;
      if ((a & mask) !== b) return false;
    }
  }
  return true;
}

function isMappedPrefix(words: readonly number[], bits: number): boolean {
  if (bits < 96) return false;
  for (let i = 0; i < 5; i++) if (words[i] !== 0) return false;
  return words[5] === 0xffff;
}

function v6Key(words: readonly number[]): string {
  return words.join(':');
}

/**
 * A compiled list of entries: exact names in a Set, wildcard suffixes, CIDRs by family. Immutable.
 */
export class RuleSet {
  readonly #names: ReadonlySet<string>;
  readonly #suffixes: readonly string[];
  readonly #v4Nets: Uint32Array;
  readonly #v4Masks: Uint32Array;
  readonly #v6: readonly V6Cidr[];
  readonly #exactV4: ReadonlySet<number>;
  readonly #exactV6: ReadonlySet<string>;
  readonly #size: number;

  private constructor(entries: readonly PolicyEntry[]) {
    const names = new Set<string>();
    const suffixes: string[] = [];
    const v4: { net: number; mask: number }[] = [];
    const v6: V6Cidr[] = [];
    const exactV4 = new Set<number>();
    const exactV6 = new Set<string>();
    for (const e of entries) {
      switch (e.kind) {
        case 'hostname':
          names.add(e.hostname);
          break;
        case 'suffix':
          if (!suffixes.includes(e.suffix)) suffixes.push(e.suffix);
          break;
        case 'v4':
          v4.push({ net: e.net, mask: v4Mask(e.bits) });
          if (e.bits === 32) exactV4.add(e.net);
          break;
        case 'v6': {
          v6.push({ words: e.words, bits: e.bits });
          if (e.bits === 128) exactV6.add(v6Key(e.words));
          if (isMappedPrefix(e.words, e.bits)) {
            const net = ((e.words[6] ?? 0) * 65536 + (e.words[7] ?? 0)) >>> 0;
            v4.push({ net, mask: v4Mask(e.bits - 96) });
            if (e.bits === 128) exactV4.add(net);
          }
          break;
        }
      }
    }
    this.#names = names;
    this.#suffixes = Object.freeze(suffixes);
    this.#v4Nets = Uint32Array.from(v4, (c) => c.net);
    this.#v4Masks = Uint32Array.from(v4, (c) => c.mask);
    this.#v6 = Object.freeze(v6);
    this.#exactV4 = exactV4;
    this.#exactV6 = exactV6;
    this.#size = entries.length;
  }

  /**
   * Compiles a list of entries. `path` names the option in errors (`policy.allow`). Throws a TypeError naming
   * the index of the first bad entry, e.g. `policy.allow[2]: expected ..., received "..."`.
   */
  static compile(entries: readonly string[] | undefined, path: string): RuleSet {
    if (entries === undefined) return new RuleSet([]);
    if (!Array.isArray(entries)) {
      throw new TypeError(`${path}: expected an array of strings, received ${describe(entries)}`);
    }
    const parsed: PolicyEntry[] = [];
    for (let i = 0; i < entries.length; i++) {
      const result = parsePolicyEntry(entries[i]);
      if (!result.ok) throw new TypeError(`${path}[${i}]: ${result.message}`);
      parsed.push(result.entry);
    }
    return new RuleSet(parsed);
  }

  /** Number of entries compiled. */
  get size(): number {
    return this.#size;
  }

  /** True when an exact-name or wildcard entry matches the normalised hostname. */
  matchesName(host: string): boolean {
    if (this.#names.has(host)) return true;
    const suffixes = this.#suffixes;
    for (let i = 0; i < suffixes.length; i++) {
      const s = suffixes[i];
      // `endsWith` of ".example.com" already excludes the apex "example.com" (one character shorter).
      if (s !== undefined && host.endsWith(s)) return true;
    }
    return false;
  }

  /** True when an exact-name entry (not a wildcard) names this normalised hostname. */
  hasExactName(host: string): boolean {
    return this.#names.has(host);
  }

  #matchesV4(v4: number): boolean {
    const nets = this.#v4Nets;
    const masks = this.#v4Masks;
    for (let i = 0; i < nets.length; i++) {
      if ((v4 & (masks[i] ?? 0)) >>> 0 === nets[i]) return true;
    }
    return false;
  }

  /**
   * True when an IP or CIDR entry matches the address. An IPv4-mapped IPv6 address is matched against IPv4
   * entries too. With `anyEmbedding`, so is the IPv4 address any other IPv6 form embeds (NAT64, 6to4, Teredo,
   * IPv4-compatible): used for deny, where matching more is the safe side.
   */
  matchesAddress(ip: ParsedIp, anyEmbedding = false): boolean {
    if (ip.family === 4) return this.#matchesV4(ip.v4);
    const v6 = this.#v6;
    for (let i = 0; i < v6.length; i++) {
      const c = v6[i];
      if (c !== undefined && matchesV6(ip.words, c)) return true;
    }
    if (this.#v4Nets.length === 0) return false;
    if (ip.v4 !== -1) return this.#matchesV4(ip.v4);
    if (!anyEmbedding) return false;
    const embedded = embeddedIpv4(ip);
    return embedded !== -1 && this.#matchesV4(embedded);
  }

  /** True when an IP entry (or a /32, /128 CIDR) names exactly this address (or the IPv4 address it maps). */
  hasExactAddress(ip: ParsedIp): boolean {
    if (ip.v4 !== -1 && this.#exactV4.has(ip.v4)) return true;
    return ip.family === 6 && this.#exactV6.has(v6Key(ip.words));
  }
}
