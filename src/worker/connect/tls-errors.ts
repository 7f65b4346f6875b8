/**
 * Node's TLS and OpenSSL failures as `FLOWPOOL_TLS_FAILED`: a message that names the host and the reason
 * in words, and Node's own code in `details.tlsCode`. Without this a refused client certificate reads
 * "other side closed" and an expired certificate reads as a bare OpenSSL code.
 */
import type { Socket } from 'node:net';
import { FlowpoolError } from '../../errors/flowpool-error.js';

const UNTRUSTED = 'the server certificate is not trusted (unknown or self-signed issuer; see tls.ca)';
const CLIENT_CERT_REQUIRED = 'the server requires a client certificate (see tls.cert and tls.key)';
const CLIENT_CERT_REFUSED = 'the server refused the client certificate';

/** Node / OpenSSL code -> the reason in words. */
const REASONS: ReadonlyMap<string, string> = new Map([
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', UNTRUSTED],
  ['UNABLE_TO_GET_ISSUER_CERT', UNTRUSTED],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', UNTRUSTED],
  ['SELF_SIGNED_CERT_IN_CHAIN', UNTRUSTED],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', UNTRUSTED],
  ['CERT_UNTRUSTED', UNTRUSTED],
  ['INVALID_CA', UNTRUSTED],
  ['CERT_SIGNATURE_FAILURE', 'the server certificate has an invalid signature'],
  ['CERT_HAS_EXPIRED', 'the server certificate has expired'],
  ['CERT_NOT_YET_VALID', 'the server certificate is not valid yet'],
  ['CERT_REVOKED', 'the server certificate is revoked'],
  ['ERR_TLS_CERT_ALTNAME_INVALID', 'hostname mismatch: the server certificate is for another name'],
  ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', CLIENT_CERT_REQUIRED],
  ['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', CLIENT_CERT_REQUIRED],
  ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', CLIENT_CERT_REFUSED],
  ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', CLIENT_CERT_REFUSED],
  ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', CLIENT_CERT_REFUSED],
  ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'the server refused the client certificate as expired'],
  ['ERR_SSL_TLSV1_ALERT_ACCESS_DENIED', CLIENT_CERT_REFUSED],
  ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'no TLS version in common (see tls.minVersion)'],
  ['ERR_SSL_UNSUPPORTED_PROTOCOL', 'no TLS version in common (see tls.minVersion)'],
  ['ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'no TLS version in common (see tls.minVersion)'],
  [
    'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL',
    'the server speaks no protocol offered in ALPN (an HTTP/2-only server needs allowH2)',
  ],
  ['ERR_SSL_WRONG_VERSION_NUMBER', 'the server did not answer with TLS (an http: port?)'],
  [
    'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    'the server refused the handshake (no common cipher, or a client certificate it wanted)',
  ],
]);

/**
 * TLS alerts that arrive after the handshake, by the local port of their socket. A server that refuses
 * the client certificate under TLS 1.3 says so with an alert once the handshake has completed on the
 * client's side; undici then often fails the request with "other side closed" (UND_ERR_SOCKET, carrying
 * the socket's local port) instead of the alert. Bounded: entries are taken once, the oldest dropped.
 */
const lateAlerts = new Map<number, string>();
const LATE_ALERTS_MAX = 1024;

/** Remembers a TLS alert this socket may die of; call once per TLS socket handed to undici. */
export function watchTlsAlerts(socket: Socket): void {
  const port = socket.localPort;
  if (port === undefined) return;
  socket.on('error', (error: NodeJS.ErrnoException) => {
    const code = error.code;
    if (code === undefined || !isTlsCode(code)) return;
    if (lateAlerts.size >= LATE_ALERTS_MAX) lateAlerts.delete(lateAlerts.keys().next().value as number);
    lateAlerts.set(port, code);
  });
}

/** `FLOWPOOL_TLS_FAILED` for a TLS failure, undefined for anything else. */
export function tlsFailure(error: unknown, origin: string): FlowpoolError | undefined {
  const code = tlsCodeOf(error) ?? lateAlertOf(error);
  if (code === undefined) return undefined;
  const host = hostOf(origin);
  const reason = REASONS.get(code) ?? 'the TLS handshake failed';
  return new FlowpoolError('FLOWPOOL_TLS_FAILED', `TLS with ${host} failed: ${reason} (${code})`, {
    tlsCode: code,
    causeCode: code,
  });
}

/** The error's own code, or its cause's (undici may wrap a socket error). */
function tlsCodeOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 3; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && isTlsCode(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function isTlsCode(code: string): boolean {
  return REASONS.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_');
}

function lateAlertOf(error: unknown): string | undefined {
  if ((error as { code?: unknown } | null)?.code !== 'UND_ERR_SOCKET') return undefined;
  const port = (error as { socket?: { localPort?: unknown } }).socket?.localPort;
  if (typeof port !== 'number') return undefined;
  const code = lateAlerts.get(port);
  lateAlerts.delete(port);
  return code;
}

function hostOf(origin: string): string {
  return URL.canParse(origin) ? new URL(origin).host : origin;
}
