/** Messages between the target-server process and the process that started it. */
export interface TargetCounts {
  readonly port: number;
  /** Connections accepted since the last reset. */
  readonly connections: number;
  /** Most connections open at once since the last reset. */
  readonly peakOpen: number;
  readonly open: number;
  readonly requests: number;
}

export type TargetCommand = { readonly type: 'counts' } | { readonly type: 'reset' } | { readonly type: 'stop' };

export type TargetReply =
  | { readonly type: 'ready'; readonly ports: readonly number[] }
  | { readonly type: 'counts'; readonly counts: readonly TargetCounts[] }
  | { readonly type: 'reset' };
