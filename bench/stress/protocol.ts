/**
 * What the stress harness and its servers process say to each other (over the fork IPC channel), and
 * the kinds of host it floods. Plain data only.
 */

/** The misbehaving hosts, one loopback server each. */
export const HOST_KINDS = ['healthy', 'slow', 'keepalive-closing', 'resetting', 'never-answering'] as const;
export type HostKind = (typeof HOST_KINDS)[number];

export const HOST_DESCRIPTIONS: Readonly<Record<HostKind, string>> = {
  healthy: 'answers at once',
  slow: 'answers after 20-200 ms',
  'keepalive-closing': 'closes each socket 40 ms after its last answer, no Keep-Alive hint',
  resetting: 'per request in turn: RST before headers, FIN after headers, RST mid-body, a good answer',
  'never-answering': 'reads the request, never answers',
};

/** What one server counted. */
export interface ServerCounts {
  readonly kind: HostKind;
  readonly port: number;
  readonly connections: number;
  /** Most sockets open at once (sampled after each poll phase; a socket counts until the client's FIN). */
  readonly peakOpen: number;
  readonly requests: number;
  readonly byMethod: Readonly<Record<string, number>>;
  /** POST requests whose job sequence number this server had already seen: a replayed POST. */
  readonly postDuplicates: number;
}

export type ServersMessage =
  | { readonly type: 'ready'; readonly ports: Readonly<Record<HostKind, number>> }
  | { readonly type: 'counts'; readonly servers: readonly ServerCounts[] };

export type HarnessMessage = { readonly type: 'counts' } | { readonly type: 'stop' };
