/**
 * Profiles: named sets of the settings that are per credential or per tenant (TLS, proxy, policy, default
 * headers and credentials, HTTP/2), picked per job with `job.profile`. A field a profile gives replaces the
 * runtime's; a field it leaves out is the runtime's (`resolveProfile`). The main thread keeps each profile's
 * header defaults and policy (api/profile-table.ts); each worker builds one dispatcher per profile in use
 * (worker/connect/profile-lanes.ts) from the plain data `profileBootData` makes.
 */
import { z } from 'zod';
import { policySchema } from './policy-option.js';
import {
  authSchema,
  headerTable,
  hostAuthKey,
  hostPatternKey,
  hostTlsSettingsSchema,
  noProxyEntry,
  proxyUrl,
  tlsSettingsSchema,
  transportBootData,
  type TransportOptions,
} from './transport-options.js';
import type { WorkerProfile } from '../wire/protocol.js';

/** A profile's name, as `job.profile` and `runtime.setProfile` take it. */
export const profileName = z
  .string()
  .regex(/^[A-Za-z][\w.-]{0,63}$/, { error: 'expected a profile name (a letter, then letters, digits, . _ -)' });

/** One profile: each field as the runtime option of the same name; a field left out is the runtime's. */
export const profileSettingsSchema = z.strictObject({
  /** TLS for this profile's HTTPS origins. @default the runtime's `tls` */
  tls: tlsSettingsSchema.optional(),
  /** TLS per host pattern, merged over this profile's `tls`. @default the runtime's `hostTls` */
  hostTls: z.record(hostPatternKey, hostTlsSettingsSchema).optional(),
  /** Egress proxy: a URL, `'env'` or false. @default the runtime's `proxy` */
  proxy: z.union([z.literal(false), z.literal('env'), proxyUrl]).optional(),
  /** Hosts reached directly despite `proxy`. @default the runtime's `noProxy` */
  noProxy: z.array(noProxyEntry).max(10_000).optional(),
  /** Destination rules for this profile's jobs and their redirects. @default the runtime's `policy` */
  policy: policySchema.optional(),
  /** Credentials per host pattern. @default the runtime's `hostAuth` */
  hostAuth: z.record(hostAuthKey, authSchema).optional(),
  /** Headers sent with every job of this profile. @default the runtime's `headers` */
  headers: headerTable.optional(),
  /** Headers per host pattern. @default the runtime's `hostHeaders` */
  hostHeaders: z.record(hostPatternKey, headerTable).optional(),
  /** Negotiate HTTP/2 over TLS. @default the runtime's `allowH2` */
  allowH2: z.boolean().optional(),
});

export const profilesSchema = z.record(profileName, profileSettingsSchema);

export type ProfileSettingsParsed = z.output<typeof profileSettingsSchema>;

/** What a profile's settings fall back to: the runtime's own (a subset of the parsed options). */
export type ProfileBase = TransportOptions & {
  readonly policy: { readonly allow: readonly string[]; readonly deny: readonly string[] };
};

/** The settings in force for a profile: its own fields over the runtime's. */
export function resolveProfile(base: ProfileBase, profile: ProfileSettingsParsed): ProfileBase {
  return {
    ...base,
    tls: profile.tls ?? base.tls,
    hostTls: profile.hostTls ?? base.hostTls,
    proxy: profile.proxy ?? base.proxy,
    noProxy: profile.noProxy ?? base.noProxy,
    policy: profile.policy ?? base.policy,
    hostAuth: profile.hostAuth ?? base.hostAuth,
    headers: profile.headers ?? base.headers,
    hostHeaders: profile.hostHeaders ?? base.hostHeaders,
    allowH2: profile.allowH2 ?? base.allowH2,
  };
}

/** The plain data a worker builds a profile's dispatcher from. */
export function profileBootData(
  settings: ProfileBase,
  env: Readonly<Record<string, string | undefined>> = process.env,
): WorkerProfile {
  return {
    policy: { allow: [...settings.policy.allow], deny: [...settings.policy.deny] },
    transport: transportBootData(settings, env),
  };
}
