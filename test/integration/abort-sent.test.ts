/**
 * `details.sent` of FLOWPOOL_ABORTED is a promise: `sent: false` means no byte of the job's request reached
 * the network, and none ever will. 1,000 POSTs (each with its own path, so the server's arrivals identify
 * them) are aborted at seeded-random moments: in the same tick as run(), after a microtask, after a timer
 * of 0-20 ms, while the server holds the request's response, and while connecting to a listener whose
 * accept queue is full. Every `sent: false` must have no arrival at the server; a same-tick abort is always
 * `sent: false`; the slot is free when the promise rejects.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, FlowpoolError, type Runtime } from '../../dist/src/index.js';
import { startRawServer, type RawServer } from '../fixtures/raw-server.js';
import { seededRandom } from '../fixtures/fake-clock.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { waitUntil } from '../fixtures/wait.js';

const LOOPBACK = { allow: ['127.0.0.1'] };
const STALLED_LISTENER = fileURLToPath(new URL('../fixtures/stalled-listener.mjs', import.meta.url));
const MOMENTS = ['same-tick', 'microtask', 'timer', 'held'] as const;
type Moment = (typeof MOMENTS)[number] | 'connecting';

interface Row {
  readonly moment: Moment;
  aborted: number;
  unsent: number;
  sent: number;
  /** `sent: false` jobs whose path the server saw anyway: must stay 0. */
  unsentArrived: number;
  resolved: number;
}

/** Aborts one POST at the given moment; resolves with how it settled. */
async function abortAt(
  runtime: Runtime,
  url: string,
  moment: Moment,
  random: () => number,
  arrived: () => boolean,
): Promise<{ readonly code: string | undefined; readonly sent: unknown }> {
  const controller = new AbortController();
  const promise = runtime.run(
    { url, method: 'POST', body: 'payload', timeoutMs: 120_000 },
    { signal: controller.signal },
  );
  switch (moment) {
    case 'same-tick':
      controller.abort();
      break;
    case 'microtask':
      await Promise.resolve();
      controller.abort();
      break;
    case 'timer':
    case 'connecting':
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 21)));
      controller.abort();
      break;
    case 'held':
      await waitUntil(arrived, `the server to hold ${url}`);
      controller.abort();
      break;
  }
  try {
    await promise;
    return { code: undefined, sent: undefined };
  } catch (error) {
    expect(error).toBeInstanceOf(FlowpoolError);
    const failure = error as FlowpoolError;
    return { code: failure.code, sent: failure.details.sent };
  }
}

describe('abort: details.sent is a promise the server can check', () => {
  const track = closeAfterEach();
  let listener: ChildProcess | undefined;
  const fillers: Socket[] = [];

  afterEach(() => {
    for (const socket of fillers.splice(0)) socket.destroy();
    listener?.kill('SIGKILL');
    listener = undefined;
  });

  /** A port whose listener never accepts and whose accept queue is full: a dial there stays in SYN_SENT. */
  async function stalledPort(): Promise<number> {
    const child = spawn(process.execPath, [STALLED_LISTENER, '120'], { stdio: ['ignore', 'pipe', 'inherit'] });
    listener = child;
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => {
        resolve(Number(chunk.toString().trim()));
      });
      child.once('error', reject);
    });
    // backlog 1: two connections complete the handshake into the queue; later SYNs are dropped.
    for (let i = 0; i < 4; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      fillers.push(socket);
    }
    return port;
  }

  it('1,000 POSTs aborted at random moments: no `sent: false` ever reaches the server', async () => {
    // Seeded, so a failing mix can be replayed.
    const random = seededRandom(20261205);
    const server: RawServer = track(
      await startRawServer((req, srv) => {
        // 'held' requests are never answered; the others after a random short delay.
        if (req.path.includes('/held/')) return;
        setTimeout(
          () => {
            srv.respond(req, 200, 'ok');
          },
          Math.floor(random() * 6),
        );
      }),
    );
    const port = await stalledPort();
    const runtime = track(
      createRuntime({ workers: 2, connectionsPerHost: 8, connectTimeoutMs: 120_000, policy: LOOPBACK }),
    );
    await runtime.ready();

    const rows = new Map<Moment, Row>();
    const rowOf = (moment: Moment): Row => {
      let row = rows.get(moment);
      if (row === undefined)
        rows.set(moment, (row = { moment, aborted: 0, unsent: 0, sent: 0, unsentArrived: 0, resolved: 0 }));
      return row;
    };
    const unsentPaths: { readonly path: string; readonly row: Row }[] = [];
    const TOTAL = 1_000;
    const WAVE = 50;
    for (let first = 0; first < TOTAL; first += WAVE) {
      await Promise.all(
        Array.from({ length: WAVE }, async (_, k) => {
          const n = first + k;
          // One in twenty goes to the listener that never accepts: aborted while connecting.
          const moment: Moment =
            n % 20 === 19 ? 'connecting' : (MOMENTS[Math.floor(random() * MOMENTS.length)] ?? 'timer');
          const path = moment === 'held' ? `/held/${n}` : `/p/${n}`;
          const origin = moment === 'connecting' ? `http://127.0.0.1:${port}` : server.origin;
          const row = rowOf(moment);
          const result = await abortAt(runtime, `${origin}${path}`, moment, random, () => server.byPath.has(path));
          if (result.code === undefined) {
            row.resolved++;
            return;
          }
          expect(result.code).toBe('FLOWPOOL_ABORTED');
          expect(typeof result.sent).toBe('boolean');
          row.aborted++;
          if (result.sent === false) {
            row.unsent++;
            if (moment !== 'connecting') unsentPaths.push({ path, row });
          } else {
            row.sent++;
          }
        }),
      );
    }

    // Every slot is free once every promise has rejected; no worker was restarted for a cancel.
    const stats = await runtime.stats();
    expect(stats.totals.running).toBe(0);
    expect(stats.totals.workerRestarts).toBe(0);
    // Settle delay, by event: the runtime closes its sockets, and the server reads all it was sent.
    await runtime.close();
    await waitUntil(() => server.open === 0, 'the server to see every connection closed');
    for (const { path, row } of unsentPaths) if (server.byPath.has(path)) row.unsentArrived++;

    const table = [...rows.values()];
    console.log(
      ['moment       aborted  sent:false  sent:true  resolved  sent:false arrived']
        .concat(
          table.map(
            (r) =>
              `${r.moment.padEnd(12)} ${String(r.aborted).padStart(7)}  ${String(r.unsent).padStart(10)}  ${String(r.sent).padStart(9)}  ${String(r.resolved).padStart(8)}  ${String(r.unsentArrived).padStart(18)}`,
          ),
        )
        .join('\n'),
    );
    for (const row of table) expect(row.unsentArrived, `${row.moment}: sent:false jobs seen by the server`).toBe(0);
    // A same-tick abort is always sent: false; so is an abort of a dial that never connected.
    expect(rowOf('same-tick').sent).toBe(0);
    expect(rowOf('same-tick').resolved).toBe(0);
    expect(rowOf('connecting').sent).toBe(0);
    // An abort after the server has the request is always sent: true.
    expect(rowOf('held').unsent).toBe(0);
    expect(rowOf('held').aborted).toBeGreaterThan(0);
    expect(table.reduce((sum, r) => sum + r.aborted + r.resolved, 0)).toBe(TOTAL);
  }, 120_000);

  it('the slot is free when the promise rejects: with connectionsPerHost 1 the next job starts at once', async () => {
    const server = track(
      await startRawServer((req, srv) => {
        if (req.path === '/held') return;
        srv.respond(req, 200, 'next');
      }),
    );
    const runtime = track(
      createRuntime({ workers: 1, connectionsPerHost: 1, concurrencyPerWorker: 1, policy: LOOPBACK }),
    );
    await runtime.ready();
    const controller = new AbortController();
    const held = runtime.run(
      { url: `${server.origin}/held`, method: 'POST', body: 'x' },
      { signal: controller.signal },
    );
    await waitUntil(() => server.byPath.has('/held'), 'the server to hold the request');
    controller.abort();
    const error = await held.then(
      () => undefined,
      (e: unknown) => e as FlowpoolError,
    );
    expect(error?.code).toBe('FLOWPOOL_ABORTED');
    expect(error?.details.sent).toBe(true);
    // Nothing in flight and nothing queued the moment the promise has rejected.
    const stats = await runtime.stats();
    expect(stats.totals.running).toBe(0);
    const next = await runtime.run({ url: `${server.origin}/next` });
    expect(next.status).toBe(200);
    expect((await runtime.stats()).totals.queued).toBe(0);
  });
});
