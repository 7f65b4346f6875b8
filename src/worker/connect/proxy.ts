/**
 * The egress proxy of one worker. Built from undici's own parts rather than its ProxyAgent: ProxyAgent
 * replaces the Agent's connector with its own tunnel, so the policy could no longer judge the address
 * dialled and the global per-origin cap would not see its sockets (FACTS.md, "Transports in undici 7").
 * Here the guarded connector (agent.ts) stays in charge: it checks the target and takes a cap unit, and
 * only then asks this module for a socket:
 * - https targets: a CONNECT tunnel to the ADDRESS the policy checked (undici's `connect()` on a Pool to
 *   the proxy), then TLS over it by the profile's connector with SNI and Host still the name;
 * - http targets: a plain connection to the proxy, over which requests go in absolute form
 *   (`GET http://host/path`), so the proxy resolves the name itself (see the README).
 */
import { connect as netConnect, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Pool } from 'undici';
import { FlowpoolError } from '../../errors/flowpool-error.js';
import type { WorkerTransport } from '../../wire/protocol.js';
import { NoProxy } from './no-proxy.js';

export interface ProxyEndpoint {
  readonly url: URL;
  /** `Basic ...` from the proxy URL's credentials, if any. */
  readonly authorization: string | undefined;
}

export class ProxyRoute {
  readonly #http: ProxyEndpoint | undefined;
  readonly #https: ProxyEndpoint | undefined;
  readonly #noProxy: NoProxy;
  readonly #connectTimeoutMs: number;
  /** One Pool per proxy URL for CONNECT requests (a tunnelled socket leaves its pool once upgraded). */
  readonly #tunnels = new Map<string, Pool>();

  constructor(settings: NonNullable<WorkerTransport['proxy']>, connectTimeoutMs: number) {
    this.#http = endpoint(settings.http);
    this.#https = endpoint(settings.https);
    this.#noProxy = new NoProxy(settings.noProxy);
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** The proxy for a target, or undefined when it goes direct. */
  for(protocol: string, hostname: string, port: number): ProxyEndpoint | undefined {
    const proxy = protocol === 'https:' ? this.#https : this.#http;
    if (proxy === undefined || this.#noProxy.bypasses(hostname, port)) return undefined;
    return proxy;
  }

  /** For an http: origin through the proxy: the absolute-form path and the proxy's credentials. */
  absoluteForm(origin: string, path: string): { path: string; authorization: string | undefined } | undefined {
    if (!origin.startsWith('http:')) return undefined;
    const url = new URL(origin);
    const proxy = this.for(url.protocol, url.hostname, Number(url.port || 80));
    if (proxy === undefined) return undefined;
    return { path: `${origin}${path}`, authorization: proxy.authorization };
  }

  /** A plain (or TLS, for an https: proxy) connection to the proxy itself. */
  openToProxy(proxy: ProxyEndpoint): Socket {
    const { hostname, port, protocol } = proxy.url;
    const host = hostname.replace(/^\[|\]$/g, '');
    if (protocol === 'https:')
      return tlsConnect({ host, port: Number(port || 443), servername: host, ALPNProtocols: ['http/1.1'] });
    return netConnect({ host, port: Number(port || 80) });
  }

  /**
   * A tunnel to `address:port` (an address the policy checked) through the proxy. Rejects with
   * `FLOWPOOL_CONNECTION_FAILED` naming the proxy's answer when it is not 200 (407: credentials).
   */
  async tunnel(proxy: ProxyEndpoint, address: string, port: number): Promise<Socket> {
    const key = proxy.url.href;
    let pool = this.#tunnels.get(key);
    if (pool === undefined) {
      pool = new Pool(proxy.url.origin);
      this.#tunnels.set(key, pool);
    }
    const authority = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    const headers: Record<string, string> = { host: authority };
    if (proxy.authorization !== undefined) headers['proxy-authorization'] = proxy.authorization;
    const { statusCode, socket } = await pool.connect({
      path: authority,
      headers,
      signal: AbortSignal.timeout(this.#connectTimeoutMs),
    });
    if (statusCode !== 200) {
      socket.on('error', () => {}).destroy();
      const hint =
        statusCode === 407 ? ': proxy authentication required or refused (check the proxy URL credentials)' : '';
      throw new FlowpoolError(
        'FLOWPOOL_CONNECTION_FAILED',
        `proxy ${proxy.url.host} refused the tunnel with status ${statusCode}${hint}`,
        { causeCode: statusCode === 407 ? 'PROXY_AUTH_REQUIRED' : `PROXY_STATUS_${statusCode}` },
      );
    }
    // undici hands over the proxy connection itself: a net.Socket (a TLSSocket for an https: proxy).
    if (!(socket instanceof Socket)) throw new Error('proxy tunnel is not a socket');
    return socket;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#tunnels.values()].map((pool) => pool.close()));
  }
}

function endpoint(href: string | undefined): ProxyEndpoint | undefined {
  if (href === undefined) return undefined;
  const url = new URL(href);
  const authorization =
    url.username === ''
      ? undefined
      : `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  url.username = '';
  url.password = '';
  return { url, authorization };
}
