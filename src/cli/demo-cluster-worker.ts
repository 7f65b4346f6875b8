/**
 * One worker process of `flowpool demo --cluster`: `node demo-cluster-worker.js <options JSON>` starts
 * a queue worker with those options, says { type: 'ready', name } over IPC, and closes (finishing what it
 * holds) when its parent says { type: 'close' } or goes away.
 */
import { startQueueWorker, type QueueWorkerOptions } from '../queue/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as QueueWorkerOptions;
const worker = await startQueueWorker(options);
let closing = false;
const stop = (): void => {
  if (closing) return;
  closing = true;
  // Closing waits on Redis, which may be gone with the parent: never linger long.
  setTimeout(() => process.exit(0), 5_000).unref();
  void worker.close().finally(() => process.exit(0));
};
process.on('message', (message: { type?: string }) => {
  if (message.type === 'close') stop();
});
process.on('disconnect', stop);
process.send?.({ type: 'ready', name: worker.name });
