/**
 * The stress servers' own process (forked by the harness), so their CPU and memory are not the
 * runtime's: the harness's peak RSS is the runtime's (and the harness's own ledger). Starts one server
 * per host kind, reports the ports, answers count requests, and exits when told to or when the harness
 * goes away (IPC disconnect).
 */
import { HOST_KINDS, type HarnessMessage, type HostKind, type ServersMessage } from './protocol.js';
import { startStressServer, type StressServer } from './servers.js';

function send(message: ServersMessage): void {
  if (process.connected) process.send?.(message);
}

const servers: StressServer[] = await Promise.all(HOST_KINDS.map((kind) => startStressServer(kind)));
const ports = Object.fromEntries(servers.map((s) => [s.kind, s.port])) as Record<HostKind, number>;

async function stop(): Promise<void> {
  await Promise.all(servers.map((s) => s.close()));
  process.disconnect();
}

process.on('message', (message: HarnessMessage) => {
  if (message.type === 'counts') send({ type: 'counts', servers: servers.map((s) => s.counts()) });
  else void stop();
});
process.once('disconnect', () => {
  void Promise.all(servers.map((s) => s.close()));
});
send({ type: 'ready', ports });
