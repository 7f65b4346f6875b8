/**
 * A worker process of the queue benchmark: `node worker-child.js <flowpool|noop> <options JSON>`.
 * flowpool: startQueueWorker with the options given. noop: a plain BullMQ Worker whose processor returns
 * at once, the broker's own ceiling. Sends { type: 'ready' } over IPC once taking jobs; exits when its
 * parent goes away or sends { type: 'close' }.
 */
import { Worker } from 'bullmq';
import { startQueueWorker } from '../../src/queue/index.js';

interface ChildOptions {
  readonly redis: string;
  readonly queue: string;
  readonly concurrency: number;
  readonly [key: string]: unknown;
}

const [mode, json] = process.argv.slice(2);
const options = JSON.parse(json ?? '{}') as ChildOptions;

async function start(): Promise<() => Promise<void>> {
  if (mode === 'flowpool') {
    const worker = await startQueueWorker(options);
    return () => worker.close();
  }
  const url = new URL(options.redis);
  const worker = new Worker(options.queue, () => Promise.resolve({ ok: true }), {
    connection: { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null },
    prefix: 'flowpool',
    concurrency: options.concurrency,
    removeOnComplete: { age: 3600 },
  });
  worker.on('error', () => undefined);
  await worker.waitUntilReady();
  return () => worker.close();
}

const close = await start();
let closing = false;
const stop = (): void => {
  if (closing) return;
  closing = true;
  // Closing waits on Redis, which may be gone with the parent: never linger long.
  setTimeout(() => process.exit(0), 5_000).unref();
  void close().finally(() => process.exit(0));
};
process.on('message', (message: { type?: string }) => {
  if (message.type === 'close') stop();
});
process.on('disconnect', stop);
process.send?.({ type: 'ready' });
