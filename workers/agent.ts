/**
 * The worker's one undici Agent and the guarded connector under it.
 *
 * Every socket the Agent opens goes through `guardedConnect`, which enforces, in this order:
 * 1. the policy on an IP-literal host before dialling (IP literals never reach `lookup`);
 * 2. the policy on every address `lookup` returns (only allowed ones are dialled), with `resolve`
 *    overrides going through the same check;
 * 3. the global per-origin connection cap, by taking a unit from the shared counters;
 * 4. the policy on `socket.remoteAddress` once connected, which catches anything the first three
 *    could miss (rebinding between lookup and connect, a custom resolver, an allowed 0.0.0.0 that the
 *    kernel connects to the local host), before the request's first byte is written.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type Socket } from 'node:net';
import { Agent, buildConnector, Client } from 'undici';
import type { ConnectionCounters } from '../src/connection-counters.js';
import type { DestinationPolicy } from '../src/policy/index.js';
import type { WorkerBootData } from '../src/protocol.js';

/** Thrown inside the connector; execute.ts maps it by `code`. */
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

export interface AgentContext {
  readonly boot: WorkerBootData;
  readonly policy: DestinationPolicy;
  readonly counters: ConnectionCounters;
  /** origin -> connection-counter row, kept current by the jobs this worker runs. */
  readonly originSlots: ReadonlyMap<string, number>;
}

/** How long a dial waits for a connection unit before it is refused and its request re-dispatched. */
const CAP_WAIT_MS = 50;

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type ConnectOptions = Parameters<buildConnector.connector>[0];
type ConnectCallback = Parameters<buildConnector.connector>[1];

/** The worker's dispatching side: the one Agent, and what the job code needs around it. */
export interface WorkerDispatcher {
  readonly agent: Agent;
  /**
   * A one-request client on a new socket, through the same guarded connector (policy and cap apply):
   * for the resend after a stale kept-alive socket, which must not land on another kept-alive one.
   */
  freshClient(origin: string): Client;
  /**
   * Abandons the origin's dials in progress when the last job waiting for them was cancelled: undici
   * cannot cancel a connect, so the socket would hold its unit (and the job its slot) until it
   * connects or connectTimeoutMs passes.
   */
  abandonDials(origin: string): void;
  /** Marks a request to `origin` in flight (every hop of every job); call the result when it ends. */
  trackHop(origin: string): () => void;
}

export function createAgent(context: AgentContext): WorkerDispatcher {
  const { boot, policy, counters, originSlots } = context;
  /** Requests in flight per origin, so the connector can tell a wanted dial from an orphaned one. */
  const hopsInFlight = new Map<string, number>();
  /** Sockets still dialling, per origin. */
  const dialling = new Map<string, Set<Socket>>();
  const overrides = new Map<string, readonly string[]>();
  for (const [name, addresses] of Object.entries(boot.resolve)) overrides.set(normalizeName(name), addresses);

  // Node 20 asks for every address (`all: true`) when it may race IPv4 and IPv6 (autoSelectFamily).
  function guardedLookup(
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
  }

  const dial = buildConnector({
    timeout: boot.agent.connectTimeoutMs,
    lookup: guardedLookup as never,
    autoSelectFamily: true,
  });

  function guardedConnect(options: ConnectOptions, callback: ConnectCallback): void {
    const hostname = options.hostname;
    if (isIP(hostname) !== 0) {
      const verdict = policy.checkAddress(hostname);
      if (!verdict.allowed) {
        callback(new ConnectGuardError('FLOWPOOL_BLOCKED_DESTINATION', verdict.reason ?? 'blocked'), null);
        return;
      }
    } else {
      const verdict = policy.checkHostname(hostname);
      if (!verdict.allowed) {
        callback(new ConnectGuardError('FLOWPOOL_BLOCKED_DESTINATION', verdict.reason ?? 'blocked'), null);
        return;
      }
    }
    const origin = `${options.protocol}//${options.host}`;
    const slot = originSlots.get(origin);
    if (slot === undefined) {
      // An origin without a counter row runs uncapped across workers (least-busy balancing sends
      // slot -1; each worker's Agent still caps its own pool) or is nobody's: the request this dial
      // would carry was aborted while undici still held it queued. Dialling for nobody would open a
      // socket no unit accounts for. (Redirect hops to another origin never get here: the worker hands
      // them back and the coordinator dispatches them with that origin's row.)
      if ((hopsInFlight.get(origin) ?? 0) > 0) {
        dialChecked(options, callback, undefined);
        return;
      }
      callback(new ConnectGuardError('FLOWPOOL_CONNECTION_CAP', `no job for ${origin} runs on this worker`), null);
      return;
    }
    const cap = boot.agent.connectionsPerHost;
    if (counters.tryAcquire(slot, boot.shard, cap)) {
      dialChecked(options, callback, slot);
      return;
    }
    // The coordinator only sends a job here when an idle socket waits or the cap has room, yet undici's
    // Pool can still dial: its free-client flags lag behind its sockets (seen under CPU load: 10 idle
    // sockets reported free 0, running 0). Waiting for a unit that idle sockets will never give back
    // would hang the request, so wait briefly, then refuse this dial; execute.ts sends the request
    // again (it never left, so any method may be resent) and undici then picks an idle socket.
    counters.acquire(slot, boot.shard, cap, CAP_WAIT_MS).then(
      (acquired) => {
        if (acquired) dialChecked(options, callback, slot);
        else
          callback(
            new ConnectGuardError(
              'FLOWPOOL_CONNECTION_CAP',
              `no connection to ${origin} is free (connectionsPerHost ${cap})`,
            ),
            null,
          );
      },
      (error: unknown) => callback(error as Error, null),
    );
  }

  function dialChecked(options: ConnectOptions, callback: ConnectCallback, slot: number | undefined): void {
    let released = false;
    const release = (): void => {
      if (released || slot === undefined) return;
      released = true;
      counters.release(slot, boot.shard);
    };
    const origin = `${options.protocol}//${options.host}`;
    let pending: Socket | undefined;
    const settled = (): void => {
      if (pending === undefined) return;
      const set = dialling.get(origin);
      set?.delete(pending);
      if (set?.size === 0) dialling.delete(origin);
      pending = undefined;
    };
    const returned = dial(options, (error, socket) => {
      settled();
      if (error !== null || socket === null) {
        release();
        callback(error ?? new Error('connect failed'), null);
        return;
      }
      const netSocket = socket;
      netSocket.once('close', release);
      const remote = netSocket.remoteAddress;
      const verdict =
        remote === undefined
          ? { allowed: false, reason: 'no remote address' }
          : policy.checkAddress(remote, options.hostname);
      if (!verdict.allowed) {
        netSocket.destroy();
        callback(
          new ConnectGuardError(
            'FLOWPOOL_BLOCKED_DESTINATION',
            `connected address refused: ${verdict.reason ?? 'blocked'}`,
          ),
          null,
        );
        return;
      }
      callback(null, socket);
    }) as unknown as Socket | undefined;
    if (returned !== undefined && (returned as { connecting?: boolean }).connecting === true) {
      pending = returned;
      let set = dialling.get(origin);
      if (set === undefined) dialling.set(origin, (set = new Set()));
      set.add(returned);
    }
  }

  const agent = new Agent({
    connect: guardedConnect,
    connections: boot.agent.connectionsPerHost,
    pipelining: 1,
    keepAliveTimeout: boot.agent.keepAliveTimeoutMs,
    // A server's `Keep-Alive: timeout=N` hint may lower the idle time, never raise it past ours.
    keepAliveMaxTimeout: boot.agent.keepAliveTimeoutMs,
    maxHeaderSize: boot.agent.maxHeaderBytes,
    // Deadlines are enforced per job with exact timers (undici's tick at ~1 s); these are backstops.
    headersTimeout: 0,
    bodyTimeout: 0,
  });

  return {
    agent,
    freshClient: (origin) =>
      new Client(origin, {
        connect: guardedConnect,
        pipelining: 1,
        maxHeaderSize: boot.agent.maxHeaderBytes,
        headersTimeout: 0,
        bodyTimeout: 0,
      }),
    abandonDials(origin) {
      for (const socket of dialling.get(origin) ?? [])
        socket.destroy(new Error('dial abandoned: every job waiting for it was cancelled'));
    },
    trackHop(origin) {
      hopsInFlight.set(origin, (hopsInFlight.get(origin) ?? 0) + 1);
      return () => {
        const left = (hopsInFlight.get(origin) ?? 1) - 1;
        if (left > 0) hopsInFlight.set(origin, left);
        else hopsInFlight.delete(origin);
      };
    },
  };
}

function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}
