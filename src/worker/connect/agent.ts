/**
 * One undici Agent of the worker (one per profile in use, see profile-lanes.ts) and the guarded connector under it.
 *
 * Every socket the Agent opens goes through `guardedConnect`, which enforces, in this order:
 * 1. the policy on an IP-literal host before dialling (IP literals never reach `lookup`);
 * 2. the policy on every address `lookup` returns (only allowed ones are dialled), with `resolve`
 *    overrides going through the same check;
 * 3. the global per-origin connection cap, by taking a unit from the shared counters;
 * 4. the policy on `socket.remoteAddress` once connected, which catches anything the first three
 *    could miss (rebinding between lookup and connect, a custom resolver, an allowed 0.0.0.0 that the
 *    kernel connects to the local host), before the request's first byte is written.
 * Through a proxy (proxy.ts), steps 1-3 run the same before anything is sent to the proxy; an https
 * target is tunnelled to the address step 2 checked, so step 4 has nothing left to check.
 * TLS settings come from the host's profile (tls.ts); HTTP/2 origins get a Pool whose clients multiplex.
 */
import type { LookupAddress } from 'node:dns';
import { isIP, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector, Client, Pool } from 'undici';
import type { ConnectionCounters } from '../../wire/connection-counters.js';
import type { DestinationPolicy } from '../../policy/index.js';
import type { WorkerBootData, WorkerTransport } from '../../wire/protocol.js';
import { ConnectGuardError, createGuardedLookup } from './address-guard.js';
import { HeldSockets } from './held-sockets.js';
import { ProxyRoute, type ProxyEndpoint } from './proxy.js';

export { ConnectGuardError } from './address-guard.js';
import { watchTlsAlerts } from './tls-errors.js';
import { TlsProfiles } from './tls.js';

export interface AgentContext {
  readonly boot: WorkerBootData;
  /** The profile's policy and transport (the runtime's own for profile 0). */
  readonly policy: DestinationPolicy;
  readonly transport: WorkerTransport;
  readonly counters: ConnectionCounters;
  /** origin -> connection-counter row, kept current by the jobs this worker runs. */
  readonly originSlots: ReadonlyMap<string, number>;
  /**
   * Called when a dial finds the origin's cap full: the worker's other dispatchers (other profiles) close
   * their idle sockets to it, whose units would otherwise stay taken until their keep-alive ends.
   */
  readonly onCapFull?: (origin: string) => void;
}

/** How long a dial waits for a connection unit before it is refused and its request re-dispatched. */
const CAP_WAIT_MS = 50;
/**
 * Streams one h2 session carries at once (undici's default maxConcurrentStreams). undici 7 lets a client
 * carry only `pipelining` requests, h2 or not (nodejs/undici#4143), so h2 clients start with this and
 * drop to 1 when the server picks HTTP/1.1 (no pipelining on h1).
 */
const H2_STREAMS = 100;
/** Origins remembered as HTTP/1.1-only (see poolFor). */
const MAX_H1_ORIGINS = 10_000;

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
  /**
   * Closes this dispatcher's sockets to `origin` when none carries a request (its idle kept-alive ones), so
   * another profile's dispatcher can have their connection units.
   */
  dropIdleSockets(origin: string): void;
  /** Marks a request to `origin` in flight (every hop of every job); {@link hopEnded} when it ends. */
  hopStarted(origin: string): void;
  hopEnded(origin: string): void;
  /**
   * Whether this worker holds more sockets to `origin` than it has requests in flight there: an idle one
   * that a request sent again would be given (undici's Pool can dial although one is idle; see guardedConnect).
   */
  hasIdleSocket(origin: string): boolean;
  /**
   * The request line's path and extra headers for `origin`: unchanged when direct; absolute form and
   * the proxy's credentials for an http: origin reached through the proxy.
   */
  route(origin: string, path: string, headers: readonly string[]): { path: string; headers: readonly string[] };
  /** The proxy (host) a request to an http: `origin` is sent to in absolute form; undefined when not proxied so. */
  absoluteFormProxy(origin: string): string | undefined;
}

export function createAgent(context: AgentContext): WorkerDispatcher {
  const { boot, policy, transport, counters, originSlots } = context;
  /** Requests in flight per origin, so the connector can tell a wanted dial from an orphaned one. */
  const hopsInFlight = new Map<string, number>();
  /** This dispatcher's own sockets per origin (the shared counters count every profile's together). */
  const held = new HeldSockets();
  /** Sockets still dialling, per origin. */
  const dialling = new Map<string, Set<Socket>>();
  const guardedLookup = createGuardedLookup(policy, boot.resolve);

  const profiles = new TlsProfiles(transport, {
    timeout: boot.agent.connectTimeoutMs,
    lookup: guardedLookup,
    autoSelectFamily: true,
  });
  const proxyRoute =
    transport.proxy === undefined ? undefined : new ProxyRoute(transport.proxy, boot.agent.connectTimeoutMs);
  /**
   * ALPN result of the socket being handed to undici right now. undici attaches the socket and emits the
   * client's 'connect' synchronously inside the connector's callback, so the h2 client factory below
   * reads the value of its own socket.
   */
  let handedAlpn: string | false = false;

  /** undici passes an IPv6 hostname without brackets; host patterns are written as in URLs (`[::1]`). */
  function profileFor(options: ConnectOptions): ReturnType<TlsProfiles['forHost']> {
    const hostname = isIP(options.hostname) === 6 ? `[${options.hostname}]` : options.hostname;
    return profiles.forHost(hostname, options.host ?? hostname);
  }

  /** A direct dial with the host's TLS profile; returns the socket while it connects. */
  function dial(options: ConnectOptions, callback: ConnectCallback): Socket | undefined {
    const profile = profileFor(options);
    // undici's connector type says void; the built-in connector returns the socket it is dialling.
    const connect: (options: ConnectOptions, callback: ConnectCallback) => unknown = profile.connect;
    return connect(options, callback) as Socket | undefined;
  }

  /**
   * Through the proxy. https: the name is resolved here and checked by the policy (guardedLookup), and the
   * tunnel goes to that address, with SNI and Host still the name. http: a connection to the proxy; the
   * request goes in absolute form and the proxy resolves the name (the name is checked, and so is what it
   * resolves to here, but the proxy may resolve differently: see the README).
   */
  function dialViaProxy(options: ConnectOptions, proxy: ProxyEndpoint, callback: ConnectCallback): void {
    const route = proxyRoute as ProxyRoute;
    const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
    const fail = (error: unknown): void => callback(error as Error, null);
    resolveChecked(options.hostname, (error, address) => {
      if (error !== null || address === undefined) {
        fail(error);
        return;
      }
      if (options.protocol !== 'https:') {
        const socket = route.openToProxy(proxy);
        const timer = setTimeout(
          () => socket.destroy(new Error(`connecting to the proxy took over ${boot.agent.connectTimeoutMs} ms`)),
          boot.agent.connectTimeoutMs,
        );
        const settle = (failure: Error | null): void => {
          clearTimeout(timer);
          socket.off('error', settle);
          if (failure === null) callback(null, socket);
          else fail(failure);
        };
        socket.once(proxy.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => settle(null));
        socket.once('error', settle);
        return;
      }
      route.tunnel(proxy, address, port).then((socket) => {
        const profile = profileFor(options);
        profile.connect({ ...options, httpSocket: socket }, callback);
      }, fail);
    });
  }

  /** The first address of `hostname` the policy allows (an IP literal was checked already). */
  function resolveChecked(hostname: string, done: (error: Error | null, address?: string) => void): void {
    const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    if (isIP(bare) !== 0) {
      done(null, bare);
      return;
    }
    guardedLookup(bare, { all: true }, (error, found) => {
      if (error !== null) done(error);
      else done(null, (found as LookupAddress[])[0]?.address);
    });
  }

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
    // Another profile's idle sockets to this origin may hold the units: they close, and their units come back
    // while this dial waits below.
    context.onCapFull?.(origin);
    // The coordinator only sends a job here when an idle socket waits or the cap has room, yet undici's
    // Pool can still dial: its free-client flags lag behind its sockets (seen under CPU load: 10 idle
    // sockets reported free 0, running 0). Waiting for a unit that idle sockets will never give back
    // would hang the request, so wait briefly, then refuse this dial; request/job-execution.ts sends the request
    // again (it never left, so any method may be resent) and undici then picks an idle socket, or, when
    // this worker has none, hands the job back to the coordinator to run where one waits.
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
    const origin = `${options.protocol}//${options.host}`;
    if (slot !== undefined) held.taken(origin);
    let released = false;
    const release = (): void => {
      if (released || slot === undefined) return;
      released = true;
      counters.release(slot, boot.shard);
      held.given(origin);
    };
    let pending: Socket | undefined;
    const settled = (): void => {
      if (pending === undefined) return;
      const set = dialling.get(origin);
      set?.delete(pending);
      if (set?.size === 0) dialling.delete(origin);
      pending = undefined;
    };
    const proxy = proxyRoute?.for(
      options.protocol,
      options.hostname,
      Number(options.port) || (options.protocol === 'https:' ? 443 : 80),
    );
    // connectTimeoutMs, exactly, over TCP, TLS and any proxy tunnel: undici's own connect timer runs
    // on its coarse fast-timer clock, and a tunnel adds a second one. The first answer wins.
    let answered = false;
    /** The direct dial's socket, destroyed if the deadline wins. */
    const dialled: { socket?: Socket } = {};
    const deadline = setTimeout(() => {
      if (answered) return;
      answered = true;
      settled();
      release();
      dialled.socket?.destroy();
      const ms = boot.agent.connectTimeoutMs;
      const through = proxy === undefined ? '' : ' through the proxy';
      const error = Object.assign(
        new Error(`connectTimeoutMs (${ms} ms) elapsed while connecting to ${origin}${through} (TCP and TLS)`),
        { code: 'UND_ERR_CONNECT_TIMEOUT' },
      );
      callback(error, null);
    }, boot.agent.connectTimeoutMs);
    const connected: ConnectCallback = (error, socket) => {
      clearTimeout(deadline);
      if (answered) {
        socket?.destroy();
        return;
      }
      answered = true;
      settled();
      if (error !== null) {
        release();
        callback(error, null);
        return;
      }
      const netSocket = socket;
      netSocket.once('close', release);
      if (slot !== undefined) held.connected(origin, netSocket);
      handedAlpn = (netSocket as TLSSocket).alpnProtocol ?? false;
      if (options.protocol === 'https:') watchTlsAlerts(netSocket);
      // Through the proxy the peer is the proxy (configuration, not user input); the target's address
      // was checked before the tunnel was asked for.
      if (proxy !== undefined) {
        callback(null, socket);
        return;
      }
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
    };
    if (proxy !== undefined) {
      dialViaProxy(options, proxy, connected);
      return;
    }
    const returned = dial(options, connected);
    dialled.socket = returned;
    if (returned !== undefined && (returned as { connecting?: boolean }).connecting === true) {
      pending = returned;
      let set = dialling.get(origin);
      if (set === undefined) dialling.set(origin, (set = new Set()));
      set.add(returned);
    }
  }

  /**
   * Origins that answered ALPN with HTTP/1.1 although h2 was offered (bounded, oldest forgotten first):
   * their next pool is an ordinary one.
   */
  const h1Origins = new Set<string>();

  /**
   * An origin that may speak h2 gets ONE connection on this worker, whose client carries up to
   * H2_STREAMS requests at once. One, because undici 7's Pool treats a client as busy while its first
   * request waits for the handshake, so a burst would open a session per request before ALPN has
   * answered. If the server picks HTTP/1.1, that connection stops pipelining, and the origin's next
   * pool (undici builds one when the origin's connections have all closed) is an ordinary one.
   */
  function poolFor(origin: string | URL, options: Pool.Options): Pool {
    const key = String(origin);
    const url = new URL(key);
    const h2 =
      url.protocol === 'https:' && !h1Origins.has(url.origin) && profiles.forHost(url.hostname, url.host).allowH2;
    if (!h2) return new Pool(origin, options);
    return new Pool(origin, {
      ...options,
      connections: 1,
      factory: (clientOrigin, clientOptions) => {
        const client = new Client(clientOrigin, { ...clientOptions, pipelining: H2_STREAMS });
        client.on('connect', () => {
          if (handedAlpn === 'h2') return;
          client.pipelining = 1;
          if (h1Origins.size >= MAX_H1_ORIGINS) h1Origins.delete(h1Origins.values().next().value as string);
          h1Origins.add(url.origin);
        });
        return client;
      },
    });
  }

  const agent = new Agent({
    factory: poolFor,
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
    route(origin, path, headers) {
      const form = proxyRoute?.absoluteForm(origin, path);
      if (form === undefined) return { path, headers };
      return {
        path: form.path,
        headers: form.authorization === undefined ? headers : [...headers, 'proxy-authorization', form.authorization],
      };
    },
    absoluteFormProxy(origin) {
      if (proxyRoute === undefined || !origin.startsWith('http:')) return undefined;
      const url = new URL(origin);
      return proxyRoute.for(url.protocol, url.hostname, Number(url.port || 80))?.url.host;
    },
    hasIdleSocket(origin) {
      return originSlots.has(origin) && held.count(origin) > (hopsInFlight.get(origin) ?? 0);
    },
    dropIdleSockets(origin) {
      if ((hopsInFlight.get(origin) ?? 0) > 0) return;
      held.destroyAll(origin);
    },
    hopStarted(origin) {
      hopsInFlight.set(origin, (hopsInFlight.get(origin) ?? 0) + 1);
    },
    hopEnded(origin) {
      const left = (hopsInFlight.get(origin) ?? 1) - 1;
      if (left > 0) hopsInFlight.set(origin, left);
      else hopsInFlight.delete(origin);
    },
  };
}
