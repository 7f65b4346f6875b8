// The destination decision: deny wins, then allow, then the default (public unicast only, no loopback names,
// no cloud metadata endpoints).
//
// Compiled once per runtime and shared by the main thread (cheap checks on the job URL) and each worker (the
// address actually dialled, every redirect hop). Pure: no I/O, no thread state, no per-call regexes; verdicts for
// the common outcomes are frozen constants, so a passing check allocates only the parsed address.
//
// Reasons name the rule and never echo the URL: no userinfo, path or query ever reaches a reason.
import type { AddressClass, ParsedIp } from './address-classes.js';
import { classifyParsed, parseIp } from './address-classes.js';
import { isLoopbackName, LOOPBACK_NAME_REASON, normaliseHostname } from './host-names.js';
import { isMetadataAddress, isNormalisedMetadataName, METADATA_REASON } from './metadata.js';
import { RuleSet } from './rules.js';

/** Destination rules: entries are hostnames, `*.suffix` wildcards, IP addresses or CIDRs. */
export interface DestinationPolicyInput {
  /** Destinations let through even if the default rules would block them (metadata endpoints need an exact entry). */
  readonly allow?: readonly string[];
  /** Destinations always blocked; deny wins over allow. */
  readonly deny?: readonly string[];
}

/** The outcome of a check. `reason` names the rule that decided; it never contains URL secrets. */
export interface PolicyVerdict {
  readonly allowed: boolean;
  readonly reason?: string;
}

/** A name-level verdict; `nameAllowed` is true when an allow entry matched the name itself. */
export type HostnameVerdict = PolicyVerdict & { readonly nameAllowed: boolean };

function verdict(allowed: boolean, reason?: string): PolicyVerdict {
  return Object.freeze(reason === undefined ? { allowed } : { allowed, reason });
}

const ALLOWED = verdict(true);
const ALLOWED_BY_RULE = verdict(true, 'allowed by policy.allow');
const DENIED = verdict(false, 'denied by policy.deny');
const METADATA = verdict(false, METADATA_REASON);
const LOOPBACK_NAME = verdict(false, LOOPBACK_NAME_REASON);
const NOT_AN_IP = verdict(false, 'not an IP address');
const INVALID_URL = verdict(false, 'invalid URL');
const CREDENTIALS = verdict(false, 'credentials in the URL are not allowed');
const MISSING_HOST = verdict(false, 'missing host');
const INVALID_HOST = verdict(false, 'invalid IP literal host');

// Name verdicts for each constant above, so checkHostname does not allocate either.
const NAME_VERDICTS: ReadonlyMap<PolicyVerdict, HostnameVerdict> = new Map(
  [ALLOWED, ALLOWED_BY_RULE, DENIED, METADATA, LOOPBACK_NAME, MISSING_HOST, INVALID_HOST].map((v) => [
    v,
    Object.freeze({ ...v, nameAllowed: v === ALLOWED_BY_RULE }),
  ]),
);

// One verdict per blocked address class; the classes themselves are frozen singletons.
const CLASS_VERDICTS = new WeakMap<AddressClass, PolicyVerdict>();

function classVerdict(c: AddressClass): PolicyVerdict {
  if (c.public) return ALLOWED;
  let v = CLASS_VERDICTS.get(c);
  if (v === undefined) {
    v = verdict(false, c.reason);
    CLASS_VERDICTS.set(c, v);
  }
  return v;
}

function toNameVerdict(v: PolicyVerdict): HostnameVerdict {
  return NAME_VERDICTS.get(v) ?? Object.freeze({ ...v, nameAllowed: false });
}

function schemeVerdict(protocol: string): PolicyVerdict {
  // A scheme is [a-z][a-z0-9+.-]* by the URL grammar: nothing secret, but bounded all the same.
  const shown = protocol.length > 32 ? `${protocol.slice(0, 32)}...` : protocol;
  return verdict(false, `scheme "${shown}" is not allowed (http and https only)`);
}

// The empty policy behind `compile()` with no input; immutable, so one per thread is shared.
let defaultPolicy: DestinationPolicy | undefined;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * A compiled, immutable destination policy. Build it once with {@link DestinationPolicy.compile}; every check is
 * a pure function of its input.
 */
export class DestinationPolicy {
  readonly #allow: RuleSet;
  readonly #deny: RuleSet;

  private constructor(allow: RuleSet, deny: RuleSet) {
    this.#allow = allow;
    this.#deny = deny;
  }

  /**
   * Compiles `policy.allow` and `policy.deny`. Throws a TypeError naming the bad entry, e.g.
   * `policy.allow[2]: expected a hostname, *.suffix wildcard, IP address or CIDR, received "..."`.
   */
  static compile(input?: DestinationPolicyInput): DestinationPolicy {
    if (input === undefined) {
      defaultPolicy ??= new DestinationPolicy(
        RuleSet.compile(undefined, 'policy.allow'),
        RuleSet.compile(undefined, 'policy.deny'),
      );
      return defaultPolicy;
    }
    // Typed callers cannot get here; JavaScript callers and parsed config files can.
    const raw: unknown = input;
    if (raw === null || typeof raw !== 'object') {
      const received = raw === null ? 'null' : typeof raw;
      throw new TypeError(`policy: expected an object with allow and deny lists, received ${received}`);
    }
    return new DestinationPolicy(
      RuleSet.compile(input.allow, 'policy.allow'),
      RuleSet.compile(input.deny, 'policy.deny'),
    );
  }

  /**
   * Checks a URL before any connection: scheme http/https only, no credentials, port 1-65535, then the host.
   * An IP-literal host is judged as an address; a name is judged as a name only (its addresses are judged at
   * connect time with {@link checkAddress}).
   */
  checkUrl(url: URL): PolicyVerdict {
    const protocol = url.protocol;
    if (protocol !== 'http:' && protocol !== 'https:') return schemeVerdict(protocol);
    if (url.username !== '' || url.password !== '') return CREDENTIALS;
    const port = url.port;
    if (port !== '') {
      const n = Number(port);
      if (!(n >= 1 && n <= 65535)) {
        return verdict(false, `port ${Number.isFinite(n) ? n : '?'} is not allowed (1-65535)`);
      }
    }
    const hostname = url.hostname;
    const length = hostname.length;
    if (length === 0) return MISSING_HOST;
    if (hostname.charCodeAt(0) === 91 /* [ */) {
      const ip = parseIp(hostname);
      return ip === undefined ? INVALID_HOST : this.#judgeAddress(ip, undefined);
    }
    // The URL parser serialises every IPv4 spelling it accepts as a dotted quad, and refuses any other host whose
    // last label is numeric: a host ending in a digit is an address or nothing the parser made.
    if (isDigit(hostname.charCodeAt(length - 1))) {
      const ip = parseIp(hostname);
      if (ip !== undefined) return this.#judgeAddress(ip, undefined);
    }
    return this.#judgeName(normaliseHostname(hostname));
  }

  /**
   * Name-level check: deny wins, then allow (`nameAllowed: true`), then the default rules (loopback names and
   * metadata names blocked). An IP literal is judged as an address.
   */
  checkHostname(hostname: string): HostnameVerdict {
    const host = normaliseHostname(hostname);
    if (host.length === 0) return toNameVerdict(MISSING_HOST);
    const ip = parseIp(host);
    if (ip !== undefined) return toNameVerdict(this.#judgeAddress(ip, undefined));
    return toNameVerdict(this.#judgeName(host));
  }

  /**
   * Checks an address actually dialled. `hostname` is the name it was resolved from, if any: a deny entry
   * matching the name or the address blocks; an allow entry matching either passes, except for metadata
   * endpoints, which pass only when an allow entry names exactly that host or address.
   */
  checkAddress(ip: string, hostname?: string): PolicyVerdict {
    const parsed = parseIp(ip);
    if (parsed === undefined) return NOT_AN_IP;
    const host = hostname === undefined || hostname.length === 0 ? undefined : normaliseHostname(hostname);
    return this.#judgeAddress(parsed, host);
  }

  #judgeName(host: string): PolicyVerdict {
    if (this.#deny.matchesName(host)) return DENIED;
    if (isNormalisedMetadataName(host)) return this.#allow.hasExactName(host) ? ALLOWED_BY_RULE : METADATA;
    if (this.#allow.matchesName(host)) return ALLOWED_BY_RULE;
    if (isLoopbackName(host)) return LOOPBACK_NAME;
    return ALLOWED;
  }

  #judgeAddress(ip: ParsedIp, host: string | undefined): PolicyVerdict {
    if (this.#deny.matchesAddress(ip, true) || (host !== undefined && this.#deny.matchesName(host))) return DENIED;
    const metadataName = host !== undefined && isNormalisedMetadataName(host);
    if (metadataName || isMetadataAddress(ip)) {
      if (this.#allow.hasExactAddress(ip) || (metadataName && this.#allow.hasExactName(host))) return ALLOWED_BY_RULE;
      return METADATA;
    }
    if (this.#allow.matchesAddress(ip) || (host !== undefined && this.#allow.matchesName(host))) return ALLOWED_BY_RULE;
    if (host !== undefined && isLoopbackName(host)) return LOOPBACK_NAME;
    return classVerdict(classifyParsed(ip));
  }
}

function resolvePolicy(
  policy: DestinationPolicyInput | DestinationPolicy | undefined,
): DestinationPolicy | PolicyVerdict {
  if (policy instanceof DestinationPolicy) return policy;
  try {
    return DestinationPolicy.compile(policy);
  } catch (error) {
    // Fail closed: a policy that does not compile lets nothing through.
    return verdict(false, error instanceof Error ? `invalid policy: ${error.message}` : 'invalid policy');
  }
}

/**
 * Checks a URL against a policy (the default policy when omitted). Never throws: an unparseable URL is
 * `{ allowed: false, reason: 'invalid URL' }`. For repeated checks, compile the policy once and pass it.
 */
export function checkDestination(
  url: string | URL,
  policy?: DestinationPolicyInput | DestinationPolicy,
): PolicyVerdict {
  const compiled = resolvePolicy(policy);
  if (!(compiled instanceof DestinationPolicy)) return compiled;
  let parsed: URL;
  if (url instanceof URL) {
    parsed = url;
  } else {
    if (typeof url !== 'string') return INVALID_URL;
    try {
      parsed = new URL(url);
    } catch {
      return INVALID_URL;
    }
  }
  return compiled.checkUrl(parsed);
}

/** Checks an address (IPv4 or IPv6 string) against a policy (the default policy when omitted). Never throws. */
export function checkAddress(ip: string, policy?: DestinationPolicyInput | DestinationPolicy): PolicyVerdict {
  const compiled = resolvePolicy(policy);
  if (!(compiled instanceof DestinationPolicy)) return compiled;
  if (typeof ip !== 'string') return NOT_AN_IP;
  return compiled.checkAddress(ip);
}
