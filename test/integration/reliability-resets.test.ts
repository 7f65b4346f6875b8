/**
 * Connection resets at each point of a response: before the status line, after the headers, in the
 * middle of the body; each both as a FIN (socket.destroy()) and as an RST (socket.resetAndDestroy()).
 *
 * Every one fails with FLOWPOOL_CONNECTION_FAILED. Only a request that is safe to resend (GET, PUT,
 * DELETE, or marked idempotent) and failed before any response byte is sent once more: the server
 * sees it twice. A POST is never resent, and nothing is resent once a response byte has arrived.
 * Counted at the server, per job (each job has its own path).
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, type HttpJob } from '../../dist/src/index.js';
import { head, startRawServer, type RawBehaviour, type RawServer } from '../fixtures/raw-server.js';
import { settle } from '../fixtures/wait.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.1'] };

type Point = 'before-headers' | 'after-headers' | 'mid-body';
type Kill = 'fin' | 'rst';

/** The path says where and how to break: /<point>/<kill>/<label>. */
const breaking: RawBehaviour = (req, server) => {
  const [, point, kill] = req.path.split('/') as [string, string, string];
  const socket = req.socket;
  const end = (): void => {
    if (kill === 'rst') socket.resetAndDestroy();
    else socket.destroy();
  };
  switch (point) {
    case 'before-headers': {
      end();
      return;
    }
    case 'after-headers':
      // Promises 100 bytes, sends none.
      socket.write(head(200, 100, { 'content-type': 'text/plain' }));
      {
        end();
        return;
      }
    case 'mid-body':
      // Promises 1000 bytes, sends 300.
      socket.write(Buffer.concat([head(200, 1000, { 'content-type': 'text/plain' }), Buffer.alloc(300, 'x')]));
      {
        end();
        return;
      }
    default: {
      server.respond(req, 200, 'fine');
      return;
    }
  }
};

interface Case {
  readonly label: string;
  readonly method: string;
  readonly idempotent?: boolean;
  /** Times the server must see the request when it breaks before any response byte. */
  readonly beforeHeaders: 1 | 2;
}

const CASES: readonly Case[] = [
  { label: 'get', method: 'GET', beforeHeaders: 2 },
  { label: 'put', method: 'PUT', beforeHeaders: 2 },
  { label: 'delete', method: 'DELETE', beforeHeaders: 2 },
  { label: 'post', method: 'POST', beforeHeaders: 1 },
  { label: 'post-idempotent', method: 'POST', idempotent: true, beforeHeaders: 2 },
];

function jobFor(server: RawServer, point: Point, kill: Kill, c: Case): HttpJob {
  const url = `${server.origin}/${point}/${kill}/${c.label}`;
  const body = c.method === 'GET' || c.method === 'DELETE' ? {} : { body: `body of ${c.label}` };
  return { url, method: c.method, ...body, ...(c.idempotent === undefined ? {} : { idempotent: c.idempotent }) };
}

describe('reliability: connection reset before headers, after headers, mid-body', () => {
  const track = closeAfterEach();

  for (const kill of ['fin', 'rst'] as const) {
    it(`before headers (${kill}): typed error; GET, PUT, DELETE and idempotent POST sent twice, POST once`, async () => {
      const server = track(await startRawServer(breaking));
      const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
      for (const c of CASES) {
        const outcome = await settle(runtime.run(jobFor(server, 'before-headers', kill, c)));
        expect(outcome.ok, c.label).toBe(false);
        if (!outcome.ok) expect(outcome.error.code, c.label).toBe('FLOWPOOL_CONNECTION_FAILED');
        expect(server.count(`/before-headers/${kill}/${c.label}`), c.label).toBe(c.beforeHeaders);
      }
      const stats = await runtime.stats();
      // One resend per resendable case, none for the POST.
      expect(stats.workers[0]?.staleConnectionRetries).toBe(CASES.filter((c) => c.beforeHeaders === 2).length);
      expect(stats.totals.workerRestarts).toBe(0);
      // The runtime is unharmed.
      expect((await runtime.run({ url: `${server.origin}/fine` })).body).toBe('fine');
    });

    for (const point of ['after-headers', 'mid-body'] as const) {
      it(`${point} (${kill}): typed error, never resent, whatever the method`, async () => {
        const server = track(await startRawServer(breaking));
        const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
        for (const c of CASES) {
          const outcome = await settle(runtime.run(jobFor(server, point, kill, c)));
          expect(outcome.ok, c.label).toBe(false);
          if (!outcome.ok) expect(outcome.error.code, c.label).toBe('FLOWPOOL_CONNECTION_FAILED');
          expect(server.count(`/${point}/${kill}/${c.label}`), c.label).toBe(1);
        }
        const stats = await runtime.stats();
        expect(stats.workers[0]?.staleConnectionRetries).toBe(0);
        expect(stats.totals.workerRestarts).toBe(0);
        expect((await runtime.run({ url: `${server.origin}/fine` })).body).toBe('fine');
      });
    }
  }

  it('a reset on one job leaves the jobs beside it on the same worker untouched', async () => {
    const server = track(await startRawServer(breaking));
    const runtime = track(createRuntime({ workers: 1, policy: LOOPBACK }));
    const healthy = Array.from({ length: 40 }, (_, i) => settle(runtime.run({ url: `${server.origin}/fine/${i}` })));
    const broken = (['before-headers', 'after-headers', 'mid-body'] as const).flatMap((point) =>
      (['fin', 'rst'] as const).map((kill) =>
        settle(runtime.run({ url: `${server.origin}/${point}/${kill}/beside`, method: 'POST', body: 'x' })),
      ),
    );
    for (const outcome of await Promise.all(broken)) {
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.error.code).toBe('FLOWPOOL_CONNECTION_FAILED');
    }
    for (const outcome of await Promise.all(healthy)) {
      expect(outcome.ok).toBe(true);
      if (outcome.ok) expect(outcome.value.body).toBe('fine');
    }
    expect((await runtime.stats()).totals.workerRestarts).toBe(0);
  });
});
