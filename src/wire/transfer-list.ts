/**
 * Which parts of an outcomes message are transferred rather than copied: the ports of streamed response
 * bodies (see chunk-port.ts; a streamed request body's port is made on the main thread, request-stream.ts).
 * A stream's bytes never travel in the job or outcome messages themselves.
 */
import { MessagePort } from 'node:worker_threads';
import { OUTCOME_STRIDE, type OutcomesMessage } from './codec.js';

/** Ports of streamed response bodies in an outcomes message (each record's body slot). */
export function outcomeTransferables(message: OutcomesMessage): MessagePort[] {
  let ports: MessagePort[] | undefined;
  for (let i = 4; i < message.length; i += OUTCOME_STRIDE) {
    const body = message[i];
    if (body instanceof MessagePort) (ports ??= []).push(body);
  }
  return ports ?? NO_PORTS;
}

const NO_PORTS: MessagePort[] = [];

export function isPort(value: unknown): value is MessagePort {
  return value instanceof MessagePort;
}
