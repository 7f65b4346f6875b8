/** The `policy` option's schema, shared by the runtime's options and each profile's (profile-options.ts). */
import { z } from 'zod';
import { validatePolicyEntry } from '../policy/index.js';

const policyEntry = z.string().superRefine((entry, ctx) => {
  const problem = validatePolicyEntry(entry);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * Destination rules. Entries are hostnames, `*.suffix` wildcards, IPs or CIDRs. Deny wins, then allow,
 * then the default: public unicast addresses only (loopback, private, link-local, metadata refused).
 */
export const policySchema = z.strictObject({
  allow: z.array(policyEntry).max(10_000).default([]),
  deny: z.array(policyEntry).max(10_000).default([]),
});
