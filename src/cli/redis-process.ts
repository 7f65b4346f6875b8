/**
 * A private `redis-server` on a free loopback port, for `flowpool demo --cluster`, the queue benchmark and
 * the queue tests (one per test file: never the shared Redis on 6379, so they neither see nor disturb
 * anyone else's keys). Plain mode keeps nothing on disk (`--save '' --appendonly no`). Durable mode
 * writes an append-only file fsynced on every write, in a temporary directory, so that a SIGKILL and a
 * restart on the same port keep every write Redis acknowledged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Kills it at once (SIGKILL): clients see the connection drop, as in a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port (and, when durable, from the same files). */
  restart(): Promise<void>;
  /** Stops it and removes its files. Idempotent. */
  stop(): Promise<void>;
}

export async function startRedisServer(options: { readonly durable?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'flowpool-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    ...(options.durable === true ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    // BullMQ requires it: an evicted key would silently drop a job.
    '--maxmemory-policy',
    'noeviction',
  ];
  let child: ChildProcess | undefined = await launch(args);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      const running = child;
      child = undefined;
      if (running !== undefined) await terminate(running, 'SIGKILL');
    },
    async restart() {
      if (child !== undefined) await terminate(child, 'SIGKILL');
      child = await launch(args);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (running !== undefined) await terminate(running, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Spawns redis-server and resolves once it accepts connections (it says so on stdout). */
function launch(args: readonly string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start within 10 s: ${output.slice(-500)}`));
    }, 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve(child);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start redis-server (${error.message}); install it: apt-get install redis-server`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${String(code)} before it was ready: ${output.slice(-500)}`));
    });
  });
}

function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** A port nothing listens on right now (the kernel's pick for port 0, released at once). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
