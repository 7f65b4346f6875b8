/**
 * Starts the loopback target servers in a child process and reads the counts they keep (connections
 * opened, peak open at once, requests), which is what the demo and the benchmarks report.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { TargetCommand, TargetCounts, TargetReply } from './target-protocol.js';

export interface TargetProcess {
  readonly origins: readonly string[];
  readonly pid: number | undefined;
  counts(): Promise<readonly TargetCounts[]>;
  /** Zeroes the counts and closes every connection, so the next run starts cold. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const SERVER_FILE = new URL('./target-server.js', import.meta.url);

/** `server`/`args`/`scheme`: another target server speaking the same protocol (the HTTPS benchmark's). */
export async function startTargetProcess(
  hosts: number,
  server: URL = SERVER_FILE,
  args: readonly string[] = [],
  scheme: 'http' | 'https' = 'http',
): Promise<TargetProcess> {
  const child = fork(server, [String(hosts), ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await nextReply(child, 'ready');
  const origins = ready.ports.map((port) => `${scheme}://127.0.0.1:${port}`);
  return {
    origins,
    pid: child.pid,
    async counts() {
      send(child, { type: 'counts' });
      return (await nextReply(child, 'counts')).counts;
    },
    async reset() {
      send(child, { type: 'reset' });
      await nextReply(child, 'reset');
    },
    async stop() {
      if (child.exitCode !== null || !child.connected) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      send(child, { type: 'stop' });
      const timer = setTimeout(() => child.kill(), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function send(child: ChildProcess, command: TargetCommand): void {
  child.send(command);
}

function nextReply<K extends TargetReply['type']>(
  child: ChildProcess,
  type: K,
): Promise<Extract<TargetReply, { type: K }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: TargetReply): void => {
      if (reply.type !== type) return;
      cleanup();
      resolve(reply as Extract<TargetReply, { type: K }>);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`target server exited (code ${String(code)}) before answering "${type}"`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
