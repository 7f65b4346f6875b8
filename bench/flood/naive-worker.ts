/**
 * The naive piscina task: what an engine developer writes first. One undici Agent per worker thread, the
 * request made in the task, the body read (and for the heavy workload parsed and transformed) there,
 * and `{ status, body }` returned through piscina's structured clone.
 */
import { Agent, request } from 'undici';
import heavyTransform from '../workloads/heavy-transform.js';
import type { Workload } from './protocol.js';

export interface NaiveTask {
  readonly url: string;
  readonly workload: Workload;
  readonly connections: number;
  /** HTTPS targets: the CA to trust; h2 as the main-thread undici variant does it. */
  readonly ca?: string;
  readonly allowH2?: boolean;
}

export interface NaiveResult {
  readonly status: number;
  readonly body: unknown;
}

let agent: Agent | undefined;

export default async function naiveTask(task: NaiveTask): Promise<NaiveResult> {
  agent ??= new Agent(
    task.ca === undefined
      ? { connections: task.connections }
      : task.allowH2 === true
        ? { connect: { ca: task.ca }, allowH2: true, connections: 1, pipelining: 100 }
        : { connect: { ca: task.ca }, connections: task.connections },
  );
  const { statusCode, body } = await request(task.url, { dispatcher: agent });
  if (task.workload === 'heavy') return { status: statusCode, body: heavyTransform(await body.json()) };
  return { status: statusCode, body: await body.text() };
}
