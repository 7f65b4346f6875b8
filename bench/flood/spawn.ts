/**
 * Parent side of a load child: forks dist/bench/flood/child.js, hands it the spec, snapshots the
 * target's counts between warm-up and measured run, and returns the child's figures with the
 * connection counts the target process saw. Every wait is bounded; a child that overruns is killed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { TargetProcess } from '../../src/cli/target-process.js';
import type { TargetCounts } from '../../src/cli/target-protocol.js';
import type { ChildMessage, ChildResult, LoadSpec, ParentMessage } from './protocol.js';

const CHILD_FILE = new URL('./child.js', import.meta.url);

export interface VariantRun extends ChildResult {
  /** Connections the target accepted during warm-up and measured run together. */
  readonly connections: number;
  /** Connections the target accepted during the measured run only. */
  readonly newAfterWarmup: number;
  /** Most connections open at once, summed over the target's ports. */
  readonly peakOpen: number;
  /** Requests the target answered (warm-up included): a cross-check of the client's count. */
  readonly serverRequests: number;
}

export async function runVariant(spec: LoadSpec, targets: TargetProcess, timeoutMs: number): Promise<VariantRun> {
  await targets.reset();
  const child = fork(CHILD_FILE, [spec.suite, spec.variant], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    send(child, { type: 'start', spec });
    const warmed = await nextMessage(child, exited);
    if (warmed.type === 'failed') throw new Error(`${spec.suite}/${spec.variant} failed: ${warmed.message}`);
    if (warmed.type !== 'warmed')
      throw new Error(`${spec.suite}/${spec.variant}: unexpected "${warmed.type}" before the warm-up ended`);
    const atWarm = await targets.counts();
    send(child, { type: 'go' });
    const done = await nextMessage(child, exited);
    if (done.type === 'failed') throw new Error(`${spec.suite}/${spec.variant} failed: ${done.message}`);
    if (done.type !== 'result')
      throw new Error(`${spec.suite}/${spec.variant}: unexpected "${done.type}" instead of a result`);
    const atEnd = await targets.counts();
    const code = await exited;
    if (code !== 0)
      throw new Error(`${spec.suite}/${spec.variant}: child exited with code ${String(code)} after reporting`);
    return {
      ...done.result,
      connections: sum(atEnd, 'connections'),
      newAfterWarmup: sum(atEnd, 'connections') - sum(atWarm, 'connections'),
      peakOpen: sum(atEnd, 'peakOpen'),
      serverRequests: sum(atEnd, 'requests'),
    };
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  } finally {
    clearTimeout(killer);
  }
}

function sum(counts: readonly TargetCounts[], key: 'connections' | 'peakOpen' | 'requests'): number {
  return counts.reduce((total, c) => total + c[key], 0);
}

function send(child: ChildProcess, message: ParentMessage): void {
  child.send(message);
}

function nextMessage(child: ChildProcess, exited: Promise<number | null>): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: ChildMessage): void => {
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    void exited.then((code) => {
      // 'exit' can overtake the last IPC message: give it a moment to be read before giving up.
      setTimeout(() => {
        child.off('message', onMessage);
        reject(new Error(`the bench child exited (code ${String(code)}) before reporting`));
      }, 100);
    });
  });
}
