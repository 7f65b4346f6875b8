/**
 * The address guard under every dial: names resolve only to addresses the policy allows (`resolve` overrides
 * go through the same check), and the error a refused dial fails with. The connector (agent.ts) adds the
 * checks a lookup cannot make: IP-literal hosts before dialling, and the address actually connected to.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import type { DestinationPolicy } from '../../policy/index.js';

/** Thrown inside the connector; request/failures.ts maps it by `code`. */
export class ConnectGuardError extends Error {
  readonly code: 'FLOWPOOL_BLOCKED_DESTINATION' | 'FLOWPOOL_CONNECTION_CAP';
  readonly reason: string;

  constructor(code: ConnectGuardError['code'], reason: string) {
    super(code === 'FLOWPOOL_BLOCKED_DESTINATION' ? `destination blocked: ${reason}` : reason);
    this.name = 'ConnectGuardError';
    this.code = code;
    this.reason = reason;
  }
}

export type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export type GuardedLookup = (
  hostname: string,
  options: { all?: boolean; family?: number },
  callback: LookupCallback,
) => void;

/** A `lookup` for net.connect that answers only with addresses the policy allows. */
export function createGuardedLookup(
  policy: DestinationPolicy,
  resolve: Readonly<Record<string, readonly string[]>>,
): GuardedLookup {
  const overrides = new Map<string, readonly string[]>();
  for (const [name, addresses] of Object.entries(resolve)) overrides.set(normalizeName(name), addresses);

  // Node 20 asks for every address (`all: true`) when it may race IPv4 and IPv6 (autoSelectFamily).
  return function guardedLookup(
    hostname: string,
    options: { all?: boolean; family?: number },
    callback: LookupCallback,
  ): void {
    const answer = (error: NodeJS.ErrnoException | null, found: readonly LookupAddress[]): void => {
      if (error) {
        callback(error, []);
        return;
      }
      const allowed: LookupAddress[] = [];
      let firstReason: string | undefined;
      for (const entry of found) {
        const verdict = policy.checkAddress(entry.address, hostname);
        if (verdict.allowed) allowed.push(entry);
        else firstReason ??= verdict.reason;
      }
      const first = allowed[0];
      if (first === undefined) {
        callback(
          new ConnectGuardError(
            'FLOWPOOL_BLOCKED_DESTINATION',
            `${hostname} resolves only to blocked addresses (${firstReason ?? 'none found'})`,
          ),
          [],
        );
        return;
      }
      if (options.all === true) callback(null, allowed);
      else callback(null, first.address, first.family);
    };
    const override = overrides.get(normalizeName(hostname));
    if (override !== undefined) {
      const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
      const entries = override
        .map((address) => ({ address, family: isIP(address) }))
        .filter((entry) => wanted === 0 || entry.family === wanted);
      answer(null, entries);
      return;
    }
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (error, addresses) => answer(error, addresses));
  };
}

function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}
