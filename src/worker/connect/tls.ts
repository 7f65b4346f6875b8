/**
 * TLS profiles of one worker: the runtime's `tls` settings, and one profile per `hostTls` pattern (merged
 * over `tls` key by key). Each profile's certificates are parsed ONCE, into one SecureContext, when the
 * worker loads: passing `ca`/`cert`/`key` to every `tls.connect` would parse the PEM (and Node's ~140 roots,
 * once `ca` adds to them) on every handshake. Each profile has one undici connector, whose session cache
 * resumes TLS sessions between connections to the same server name.
 */
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { buildConnector } from 'undici';
import type { WorkerTlsSettings, WorkerTransport } from '../../wire/protocol.js';
import { HostPatterns } from '../../policy/host-patterns.js';

export type Connector = buildConnector.connector;

/** What every connector shares (the guarded lookup, the connect timeout). */
export interface ConnectorBase {
  readonly timeout: number;
  /** The policy-checking lookup (agent.ts). */
  readonly lookup: unknown;
  readonly autoSelectFamily: boolean;
}

export interface TlsProfile {
  readonly connect: Connector;
  /** Offer h2 in ALPN to the hosts of this profile. */
  readonly allowH2: boolean;
}

export class TlsProfiles {
  readonly #default: TlsProfile;
  readonly #patterns: HostPatterns<TlsProfile>;

  constructor(transport: WorkerTransport, base: ConnectorBase) {
    this.#default = buildProfile(transport.tls, transport.allowH2, transport.tlsReplaceRoots, base);
    const table: Record<string, TlsProfile> = {};
    for (const [pattern, settings] of Object.entries(transport.hostTls)) {
      const { allowH2, ...own } = settings;
      table[pattern] = buildProfile(
        { ...transport.tls, ...own },
        allowH2 ?? transport.allowH2,
        transport.tlsReplaceRoots,
        base,
      );
    }
    this.#patterns = new HostPatterns(table);
  }

  /** `hostname` as the URL gives it (IPv6 in brackets), `host` with the port when not the default. */
  forHost(hostname: string, host: string): TlsProfile {
    return this.#patterns.match(hostname, host) ?? this.#default;
  }
}

function buildProfile(
  settings: WorkerTlsSettings,
  allowH2: boolean,
  replaceRoots: boolean,
  base: ConnectorBase,
): TlsProfile {
  const secureContext = buildSecureContext(settings, replaceRoots);
  const connect = buildConnector({
    ...base,
    allowH2,
    ...(secureContext === undefined ? {} : { secureContext }),
    ...(settings.servername === undefined ? {} : { servername: settings.servername }),
    ...(settings.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: settings.rejectUnauthorized }),
  } as buildConnector.BuildOptions);
  return { connect, allowH2 };
}

/** undefined when nothing differs from Node's defaults (Node's shared default context is then used). */
function buildSecureContext(settings: WorkerTlsSettings, replaceRoots: boolean): SecureContext | undefined {
  const extraCa = settings.ca === undefined ? [] : (Array.isArray(settings.ca) ? settings.ca : [settings.ca]).map(pem);
  const custom =
    extraCa.length > 0 ||
    replaceRoots ||
    settings.cert !== undefined ||
    settings.key !== undefined ||
    settings.minVersion !== undefined;
  if (!custom) return undefined;
  // `ca` replaces Node's roots in OpenSSL: keep them unless asked to trust only the given CAs.
  const ca = replaceRoots ? extraCa : extraCa.length > 0 ? [...rootCertificates, ...extraCa] : undefined;
  return createSecureContext({
    ...(ca === undefined ? {} : { ca }),
    ...(settings.cert === undefined ? {} : { cert: pem(settings.cert) }),
    ...(settings.key === undefined ? {} : { key: pem(settings.key) }),
    ...(settings.passphrase === undefined ? {} : { passphrase: settings.passphrase }),
    minVersion: settings.minVersion ?? 'TLSv1.2',
  });
}

/** Bytes arrive as a plain Uint8Array after structured clone; Node's TLS wants a string or a Buffer. */
function pem(value: string | Uint8Array): string | Buffer {
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
