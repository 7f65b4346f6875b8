/**
 * Which parts of an outcome message are transferred rather than copied: the ports of streamed response
 * bodies (see chunk-port.ts; a streamed request body's port is made on the main thread, request-stream.ts).
 * A stream's bytes never travel in the job or outcome messages themselves.
 */
import { MessagePort } from 'node:worker_threads';
import type { OutcomeBatch } from './protocol.js';

/** Ports of streamed response bodies in a batch of outcomes. */
export function outcomeTransferables(batch: OutcomeBatch): MessagePort[] {
  const ports: MessagePort[] = [];
  for (const outcome of batch.outcomes) if (outcome.ok === true && isPort(outcome.body)) ports.push(outcome.body);
  return ports;
}

export function isPort(value: unknown): value is MessagePort {
  return value instanceof MessagePort;
}
