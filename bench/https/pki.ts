/**
 * Throwaway certificates, made with openssl at run time in a temp dir and deleted after: a CA that the
 * tests and the HTTPS benchmark trust, a second CA nobody trusts, and leaves signed by them. Nothing here is
 * committed or trusted outside the run that made it. EC P-256 keys: generated in milliseconds. Shared by
 * the transport tests (test/fixtures/tls-certs.ts) and the HTTPS benchmark (bench/https/).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  readonly key: string;
  readonly cert: string;
}

export interface TestPki {
  /** PEM of the trusted test CA. */
  readonly ca: string;
  /** Leaf for `localhost`, `*.flowpool.test`, `api.test` and 127.0.0.1, signed by the trusted CA. */
  readonly server: KeyPair;
  /** Same names, expired yesterday. */
  readonly expired: KeyPair;
  /** Only for `elsewhere.test`: a hostname mismatch for everything the tests dial. */
  readonly wrongName: KeyPair;
  /** Same names as `server`, signed by a CA nobody trusts. */
  readonly untrusted: KeyPair;
  /** PEM of the untrusted CA (trusted only by the tests that say so). */
  readonly otherCa: string;
  /** Client certificate for mutual TLS, signed by the trusted CA. */
  readonly client: KeyPair;
  /** Client certificate signed by the untrusted CA. */
  readonly strangerClient: KeyPair;
  /** The temp dir the PEM files are in (`test-ca.crt`, `server.crt`, `server.key`, ...). */
  readonly dir: string;
  cleanup(): void;
}

const SERVER_NAMES = 'subjectAltName=DNS:localhost,DNS:*.flowpool.test,DNS:api.test,IP:127.0.0.1';

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'flowpool-pki-'));
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const makeCa = (name: string): void =>
    openssl(
      'req',
      '-x509',
      ...newKey,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-subj',
      `/CN=${name}`,
      '-days',
      '2',
    );
  const makeLeaf = (name: string, ca: string, extensions: string, days: number): KeyPair => {
    openssl('req', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(path(`${name}.ext`), `${extensions}\n`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      String(days),
      '-extfile',
      `${name}.ext`,
    );
    return { key: readFileSync(path(`${name}.key`), 'utf8'), cert: readFileSync(path(`${name}.crt`), 'utf8') };
  };
  makeCa('test-ca');
  makeCa('other-ca');
  const pki: TestPki = {
    ca: readFileSync(path('test-ca.crt'), 'utf8'),
    otherCa: readFileSync(path('other-ca.crt'), 'utf8'),
    server: makeLeaf('server', 'test-ca', SERVER_NAMES, 2),
    // -days -1: notAfter a day before notBefore, i.e. already expired.
    expired: makeLeaf('expired', 'test-ca', SERVER_NAMES, -1),
    wrongName: makeLeaf('wrong-name', 'test-ca', 'subjectAltName=DNS:elsewhere.test', 2),
    untrusted: makeLeaf('untrusted', 'other-ca', SERVER_NAMES, 2),
    client: makeLeaf('client', 'test-ca', 'extendedKeyUsage=clientAuth', 2),
    strangerClient: makeLeaf('stranger', 'other-ca', 'extendedKeyUsage=clientAuth', 2),
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  return pki;
}
