// Cloud metadata endpoints: blocked by name and by address even where an allow rule would otherwise pass them.
//
// They hand out instance credentials, so they are the first thing an SSRF goes for, and a broad allow entry
// (`169.254.0.0/16`, `*.internal`, `10.0.0.0/8`) must not open them by accident. Only an allow entry naming
// exactly the host or the address lets one through (the decision lives in policy.ts).
//
// Kubernetes: the API server names (`kubernetes`, `kubernetes.default`, `kubernetes.default.svc`,
// `kubernetes.default.svc.cluster.local`) are treated as metadata endpoints, because a pod's service-account
// token is as sensitive as instance credentials and the API server's ClusterIP differs per cluster, so it cannot
// be blocked by address. Other `*.svc.cluster.local` names are NOT blocked by name: they resolve to cluster IPs
// (private ranges) that the default address rules already block, and an operator who allows those ranges means
// to reach them. The cluster domain `cluster.local` is the default; custom cluster domains are not guessed.
import type { ParsedIp } from './address-classes.js';
import { embeddedIpv4, parseIp } from './address-classes.js';
import { normaliseHostname } from './host-names.js';

/** Reason given when a metadata endpoint is blocked. */
export const METADATA_REASON = 'cloud metadata endpoint';

/** Metadata host names, normalised (lower case, no trailing dot). */
export const METADATA_HOSTNAMES: readonly string[] = Object.freeze([
  'metadata.google.internal', // GCP
  'metadata.goog', // GCP
  'metadata', // GCP short name (resolved through the search domain)
  'instance-data', // AWS
  'instance-data.ec2.internal', // AWS
  'kubernetes', // Kubernetes API server, see above
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
]);

/** Metadata addresses. */
export const METADATA_ADDRESSES: readonly string[] = Object.freeze([
  '169.254.169.254', // AWS, Azure IMDS, GCP, Oracle, DigitalOcean, OpenStack
  '169.254.170.2', // AWS ECS task metadata and credentials
  '169.254.170.23', // AWS EKS Pod Identity agent
  '168.63.129.16', // Azure WireServer (a public address: only this list blocks it)
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud (legacy)
  'fd00:ec2::254', // AWS IMDS over IPv6
  'fd00:ec2::23', // AWS EKS Pod Identity agent over IPv6
]);

const NAMES: ReadonlySet<string> = new Set(METADATA_HOSTNAMES);
const V4: ReadonlySet<number> = new Set(
  METADATA_ADDRESSES.map((a) => parseIp(a)).flatMap((p) => (p !== undefined && p.family === 4 ? [p.v4] : [])),
);
const V6: readonly (readonly number[])[] = METADATA_ADDRESSES.map((a) => parseIp(a)).flatMap((p) =>
  p !== undefined && p.family === 6 ? [p.words] : [],
);

/** True when the (already normalised, see normaliseHostname) name is a metadata host. */
export function isNormalisedMetadataName(normalised: string): boolean {
  return NAMES.has(normalised);
}

/** True when the hostname is a metadata host; case-insensitive, one trailing dot ignored. */
export function isMetadataName(hostname: string): boolean {
  return NAMES.has(normaliseHostname(hostname));
}

function sameWords(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < 8; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * True when the address is a metadata address, or an IPv6 address embedding one (IPv4-mapped, IPv4-compatible,
 * NAT64, 6to4, Teredo): `::ffff:169.254.169.254` reaches the same endpoint.
 */
export function isMetadataAddress(ip: ParsedIp): boolean {
  if (ip.family === 4) return V4.has(ip.v4);
  for (const words of V6) if (sameWords(ip.words, words)) return true;
  const embedded = embeddedIpv4(ip);
  return embedded !== -1 && V4.has(embedded);
}
