/**
 * Cancelling one job with `{ signal }` at each phase of its life: queued in the coordinator, connecting,
 * waiting for the response headers, reading the body. Each time the job rejects with FLOWPOOL_ABORTED,
 * its resources are released (its slot on the worker, its connection unit, its socket: the server sees
 * it closed), and the other jobs on the same worker (held at the server while the abort happens) all
 * succeed; no worker is restarted for a cancel.
 *
 * Each phase is made deterministic by the server, not by timing:
 * - queued: concurrencyPerWorker 1 and one job held at the server, so the next one waits in the queue;
 * - connecting: a listener whose process never accepts and whose accept queue (backlog 1) the test has
 *   filled, so Linux drops the SYN: the job's socket is seen in SYN_SENT in /proc/net/tcp (Linux only);
 * - waiting for headers: a server that has received the request (counted) and never answers;
 * - reading the body: headers and a first chunk, then a byte every 20 ms; the abort comes once the
 *   server has written 5 of those bytes (100 ms after the headers; on an idle loopback the worker has
 *   read the headers by then, but that one step is a wait, not a proof).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type HttpResult, type Runtime, type RuntimeOptions } from '../../dist/src/index.js';
import { allWithin, workersReady } from '../fixtures/bounded.js';
import { byPrefix, rawGate, silentRaw, trickleRaw, type RawGate } from '../fixtures/raw-behaviours.js';
import { startRawServer, type RawBehaviour, type RawServer } from '../fixtures/raw-server.js';
import { settle, waitUntil, type Settled } from '../fixtures/wait.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const LOOPBACK = { allow: ['127.0.0.1'] };
const NEIGHBOURS = 20;
const STALLED_LISTENER = fileURLToPath(new URL('../fixtures/stalled-listener.mjs', import.meta.url));

/** Remembers the server-side socket of each request path. */
function remembering(behaviour: RawBehaviour, sockets: Map<string, Socket>): RawBehaviour {
  return (req, server) => {
    sockets.set(req.path, req.socket);
    behaviour(req, server);
  };
}

/** Sockets to 127.0.0.1:<port> in SYN_SENT (state 02), from /proc/net/tcp. */
function synSentTo(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let count = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[2]?.endsWith(hex) === true && fields[3] === '02') count++;
  }
  return count;
}

describe('reliability: abort at every phase', () => {
  const track = closeAfterEach();
  let listener: ChildProcess | undefined;
  let fillers: Socket[] = [];

  afterEach(() => {
    for (const socket of fillers) socket.destroy();
    listener?.kill('SIGKILL');
    listener = undefined;
    fillers = [];
  });

  /** A runtime with one worker, and NEIGHBOURS jobs on it held at the server's gate. */
  async function withNeighbours(
    srv: RawServer,
    gate: RawGate,
    options: Partial<RuntimeOptions> = {},
  ): Promise<{ rt: Runtime; neighbours: Promise<Settled<HttpResult>>[] }> {
    const rt = track(createRuntime({ workers: 1, policy: LOOPBACK, ...options }));
    await workersReady(rt);
    const neighbours = Array.from({ length: NEIGHBOURS }, (_, i) => settle(rt.run({ url: `${srv.origin}/gate/${i}` })));
    await waitUntil(() => gate.held === NEIGHBOURS, 'the neighbours to be held at the server');
    return { rt, neighbours };
  }

  /** The neighbours all succeed once released; nothing restarted; every slot and unit given back. */
  async function neighboursUntouched(
    rt: Runtime,
    gate: RawGate,
    neighbours: Promise<Settled<HttpResult>>[],
  ): Promise<void> {
    gate.release();
    for (const outcome of await allWithin(neighbours, 'neighbour jobs')) {
      expect(outcome.ok).toBe(true);
      if (outcome.ok) expect(outcome.value.status).toBe(200);
    }
    const stats = await rt.stats();
    expect(stats.totals.workerRestarts).toBe(0);
    expect(stats.totals.failedByCode.FLOWPOOL_ABORTED).toBe(1);
    await waitUntil(async () => (await rt.stats()).totals.running === 0, 'every in-flight slot to be released');
  }

  it('queued: removed from the queue, never sent', async () => {
    const gate = rawGate();
    const server = track(await startRawServer(gate.behaviour));
    const runtime = track(createRuntime({ workers: 1, concurrencyPerWorker: 1, policy: LOOPBACK }));
    await workersReady(runtime);
    const first = settle(runtime.run({ url: `${server.origin}/first` }));
    await waitUntil(() => gate.held === 1, 'the first job to be held');
    const controller = new AbortController();
    const queued = settle(runtime.run({ url: `${server.origin}/queued` }, { signal: controller.signal }));
    expect((await runtime.stats()).totals.queued).toBe(1);
    controller.abort();
    const outcome = await queued;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe('FLOWPOOL_ABORTED');
    expect((await runtime.stats()).totals.queued).toBe(0);

    gate.release();
    const done = await first;
    expect(done.ok && done.value.status).toBe(200);
    // The one slot is free again: a later job runs.
    expect((await runtime.run({ url: `${server.origin}/after` })).status).toBe(200);
    expect(server.count('/queued')).toBe(0);
    expect((await runtime.stats()).totals.workerRestarts).toBe(0);
  });

  it.runIf(process.platform === 'linux')(
    'connecting: the dial in SYN_SENT is abandoned, its unit and slot released',
    async () => {
      const gate = rawGate();
      const server = track(await startRawServer(gate.behaviour));
      // connectTimeoutMs far above the test: whatever is released, the abort released it.
      const { rt, neighbours } = await withNeighbours(server, gate, { connectTimeoutMs: 120_000 });

      const child = spawn(process.execPath, [STALLED_LISTENER, '60'], { stdio: ['ignore', 'pipe', 'inherit'] });
      listener = child;
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
        child.once('error', reject);
      });
      // Fill the accept queue: connect until one connection stays in SYN_SENT (bounded).
      for (let i = 0; i < 16 && synSentTo(port) === 0; i++) {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => {});
        fillers.push(socket);
        await waitUntil(() => !socket.connecting || synSentTo(port) > 0, 'a filler to connect or stall');
      }
      const stalledFiller = fillers.pop();
      stalledFiller?.destroy();
      await waitUntil(() => synSentTo(port) === 0, 'the stalled filler to go');

      const controller = new AbortController();
      const connecting = settle(
        rt.run({ url: `http://127.0.0.1:${port}/never-accepted`, timeoutMs: 120_000 }, { signal: controller.signal }),
      );
      await waitUntil(() => synSentTo(port) === 1, "the job's socket to be in SYN_SENT");
      controller.abort();
      const outcome = await connecting;
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.error.code).toBe('FLOWPOOL_ABORTED');

      // Resources released: the half-open socket, the origin's connection unit, the worker's slot.
      const origin = `http://127.0.0.1:${port}`;
      await waitUntil(() => synSentTo(port) === 0, 'the aborted dial (SYN_SENT) to be closed');
      await waitUntil(
        async () => ((await rt.stats()).hosts.find((h) => h.origin === origin)?.openConnections ?? 0) === 0,
        "the origin's connection unit to be released",
      );
      await neighboursUntouched(rt, gate, neighbours);
    },
    30_000,
  );

  it('waiting for headers: the socket is closed (seen at the server)', async () => {
    const gate = rawGate();
    const sockets = new Map<string, Socket>();
    const server = track(
      await startRawServer(remembering(byPrefix({ gate: gate.behaviour, silent: silentRaw }), sockets)),
    );
    const { rt, neighbours } = await withNeighbours(server, gate);
    const controller = new AbortController();
    const waiting = settle(rt.run({ url: `${server.origin}/silent/headers` }, { signal: controller.signal }));
    await waitUntil(() => server.count('/silent/headers') === 1, 'the server to receive the request');
    controller.abort();
    const outcome = await waiting;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe('FLOWPOOL_ABORTED');
    await waitUntil(
      () => sockets.get('/silent/headers')?.destroyed === true,
      'the aborted socket to close at the server',
    );
    await neighboursUntouched(rt, gate, neighbours);
    expect(server.count('/silent/headers')).toBe(1);
  });

  it('reading the body: the socket is closed mid-body (seen at the server)', async () => {
    const gate = rawGate();
    const trickle = trickleRaw(20);
    const sockets = new Map<string, Socket>();
    const server = track(
      await startRawServer(remembering(byPrefix({ gate: gate.behaviour, trickle: trickle.behaviour }), sockets)),
    );
    const { rt, neighbours } = await withNeighbours(server, gate);
    const controller = new AbortController();
    const reading = settle(rt.run({ url: `${server.origin}/trickle/body` }, { signal: controller.signal }));
    await waitUntil(() => trickle.written >= 'first chunk;'.length + 5, 'the server to be 5 bytes into the trickle');
    controller.abort();
    const outcome = await reading;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe('FLOWPOOL_ABORTED');
    await waitUntil(
      () => sockets.get('/trickle/body')?.destroyed === true,
      'the aborted socket to close at the server',
    );
    await neighboursUntouched(rt, gate, neighbours);
    expect(server.count('/trickle/body')).toBe(1);
  });
});
