export type { AddressClass, AddressRange, ParsedIp } from './address-classes.js';
export { classifyAddress, classifyParsed, embeddedIpv4, formatIpv4, parseIp } from './address-classes.js';
export { isLoopbackName, LOOPBACK_NAME_REASON, normaliseHostname } from './host-names.js';
export {
  isMetadataAddress,
  isMetadataName,
  isNormalisedMetadataName,
  METADATA_ADDRESSES,
  METADATA_HOSTNAMES,
  METADATA_REASON,
} from './metadata.js';
export type { PolicyEntry } from './rules.js';
export { parsePolicyEntry, RuleSet, validatePolicyEntry } from './rules.js';
export type { DestinationPolicyInput, HostnameVerdict, PolicyVerdict } from './policy.js';
export { checkAddress, checkDestination, DestinationPolicy } from './policy.js';
