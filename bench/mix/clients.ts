/**
 * The mix's two clients, behind one call: `fire(job)` resolves with the HTTP status once the JSON body has
 * been parsed, and rejects with the client's own error (its `code` is the outcome). Neither retries:
 * flowpool's default is one attempt (`retry.attempts: 1`) and undici's Agent has no retry interceptor.
 */
import { Agent } from 'undici';
import { createRuntime, type HttpJob } from '../../src/index.js';
import type { MixJob } from './jobs.js';
import type { MixClientName, MixSpec } from './protocol.js';

export interface MixClient {
  readonly name: MixClientName;
  fire(job: MixJob): Promise<number>;
  close(): Promise<void>;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** flowpool: 2 workers, 16 connections per host over both, loopback allowed, tenants at their default weight 1. */
export async function openFlowpool(spec: MixSpec): Promise<MixClient> {
  const runtime = createRuntime({
    workers: spec.workers,
    connectionsPerHost: spec.connectionsPerHost,
    policy: { allow: ['127.0.0.0/8'] },
  });
  await runtime.ready();
  return {
    name: 'flowpool',
    async fire(job) {
      const request: HttpJob =
        job.json === undefined
          ? { url: job.url, responseType: 'json', tenant: job.tenant }
          : { url: job.url, method: 'POST', json: job.json, responseType: 'json', tenant: job.tenant };
      return (await runtime.run(request)).status;
    },
    close: () => runtime.close(),
  };
}

/** undici on the main thread at its fastest: the Agent's own `request({ origin, path })`, 16 connections per host. */
export function openUndici(spec: MixSpec): Promise<MixClient> {
  const agent = new Agent({ connections: spec.connectionsPerHost });
  return Promise.resolve({
    name: 'undici',
    async fire(job) {
      const { statusCode, body } = await agent.request(
        job.json === undefined
          ? { origin: job.origin, path: job.path, method: 'GET' }
          : {
              origin: job.origin,
              path: job.path,
              method: 'POST',
              headers: JSON_HEADERS,
              body: JSON.stringify(job.json),
            },
      );
      await body.json();
      return statusCode;
    },
    close: () => agent.close(),
  });
}
