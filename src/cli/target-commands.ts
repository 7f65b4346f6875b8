/**
 * What every target-server process shares (the demo's plain-HTTP targets and the benchmark's TLS ones):
 * the counted server record, the small answer, and the command loop the parent drives over IPC.
 */
import type { Server, Socket } from 'node:net';
import type { TargetCommand, TargetCounts, TargetReply } from './target-protocol.js';

/** A target server with what it counted. */
export interface Counted {
  readonly server: Server;
  readonly port: number;
  connections: number;
  peakOpen: number;
  requests: number;
  readonly sockets: Set<Socket>;
}

/** A typical small API answer (~229 B). */
export const SMALL_BODY = JSON.stringify({
  id: 42,
  status: 'active',
  name: 'flowpool target',
  tags: ['workflow', 'http', 'node'],
  updatedAt: '2026-01-01T00:00:00.000Z',
  owner: { id: 7, login: 'engine' },
  links: { self: '/items/42', next: '/items/43' },
  note: 'a typical small API answer',
});

function countsOf(servers: readonly Counted[]): TargetCounts[] {
  return servers.map((s) => ({
    port: s.port,
    connections: s.connections,
    peakOpen: s.peakOpen,
    open: s.sockets.size,
    requests: s.requests,
  }));
}

/** Answers the parent's commands (counts, reset, stop) and announces the servers' ports. */
export function serveTargetCommands(servers: readonly Counted[]): void {
  const send = (reply: TargetReply): void => {
    process.send?.(reply);
  };
  process.on('message', (command: TargetCommand) => {
    if (command.type === 'counts') send({ type: 'counts', counts: countsOf(servers) });
    else if (command.type === 'reset') {
      // Close idle connections too, so the next variant starts cold and its counts are its own.
      for (const s of servers) {
        for (const socket of s.sockets) socket.destroy();
        s.connections = 0;
        s.peakOpen = 0;
        s.requests = 0;
      }
      send({ type: 'reset' });
    } else {
      for (const s of servers) {
        for (const socket of s.sockets) socket.destroy();
        s.server.close();
      }
      process.disconnect();
    }
  });
  // The parent died: never outlive it.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', ports: servers.map((s) => s.port) });
}
