/**
 * The one place that knows which parts of a cross-thread message are transferred rather than copied:
 * the ports of streamed bodies (a streamed request body going to a worker, a streamed response coming
 * back; see chunk-port.ts). A stream's bytes never travel in the job or outcome messages themselves.
 */
import { MessagePort } from 'node:worker_threads';
import { sendChunks } from './request-stream.js';
import type { JobBatch, JobRequest, OutcomeBatch } from './protocol.js';

/** The port each streamed request body is fed to, made once (a batch that could not be posted is posted again). */
const portsOfBodies = new WeakMap<ReadableStream<Uint8Array>, MessagePort>();

/** The batch as it crosses, streamed request bodies replaced by their ports, and the ports to transfer. */
export function wireBatch(batch: JobBatch): { readonly message: JobBatch; readonly transfer: MessagePort[] } {
  const transfer: MessagePort[] = [];
  let jobs: JobRequest[] | undefined;
  batch.jobs.forEach((job, i) => {
    const body = job.body;
    if (!(body instanceof ReadableStream)) return;
    let port = portsOfBodies.get(body);
    if (port === undefined) {
      port = sendChunks(body);
      portsOfBodies.set(body, port);
    }
    transfer.push(port);
    jobs ??= [...batch.jobs];
    jobs[i] = { ...job, body: port };
  });
  return { message: jobs === undefined ? batch : { ...batch, jobs }, transfer };
}

/** Ports of streamed response bodies in a batch of outcomes. */
export function outcomeTransferables(batch: OutcomeBatch): MessagePort[] {
  const ports: MessagePort[] = [];
  for (const outcome of batch.outcomes) if (outcome.ok === true && isPort(outcome.body)) ports.push(outcome.body);
  return ports;
}

export function isPort(value: unknown): value is MessagePort {
  return value instanceof MessagePort;
}
