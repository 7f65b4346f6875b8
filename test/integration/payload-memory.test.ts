/**
 * Memory stays bounded whatever the body's size: a 500 MB upload from a generator, a 1 GB 'stream'
 * download read slowly and a 1 GB saveTo each grow the process's RSS by less than 64 MB. The server runs
 * in a process of its own (its buffers must not count here) and hashes what it moved.
 *
 * RSS is sampled on events (each chunk produced or read, each report from the server) against a baseline
 * taken after a warm-up transfer of the same kind: the warm-up brings the heaps, the allocator's arenas and
 * the dead buffers a garbage collector lets pile up before it runs to their steady state, so what is left
 * is growth with the body's size, which bounded buffering must not show.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../dist/src/index.js';

const TARGET = fileURLToPath(new URL('../fixtures/payload-target.mjs', import.meta.url));
const LOOPBACK = { allow: ['127.0.0.0/8'] };
const MB = 1000 * 1000;
const BLOCK = 256 * 1024;
/** The target's 4 distinct blocks (payload-target.mjs). */
const BLOCKS = [0, 1, 2, 3].map((i) => Buffer.alloc(BLOCK, 0x41 + i));
const LIMIT_MB = 64;
const WARM_UP_BYTES = 128 * MB;

interface TargetReport {
  readonly type: string;
  readonly bytes?: number;
  readonly sha256?: string;
  readonly written?: number;
  readonly port?: number;
}

/** Peak RSS since `start()`, sampled whenever `sample()` is called. */
class RssPeak {
  #baseline = 0;
  #peak = 0;
  start(): void {
    this.#baseline = process.memoryUsage.rss();
    this.#peak = this.#baseline;
  }
  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.#peak) this.#peak = rss;
  }
  get growthMb(): number {
    return (this.#peak - this.#baseline) / MB;
  }
}

/** Blocks of the 4 patterns in turn, each yielded as it is (the caller's buffers, never changed). */
async function* blocksOf(total: number, onBlock: () => void): AsyncGenerator<Uint8Array> {
  for (let sent = 0, i = 0; sent < total; sent += BLOCK, i++) {
    onBlock();
    yield await Promise.resolve(BLOCKS[i % BLOCKS.length] as Buffer);
  }
}

function sha256OfBlocks(total: number): string {
  const hash = createHash('sha256');
  for (let sent = 0, i = 0; sent < total; sent += BLOCK, i++) hash.update(BLOCKS[i % BLOCKS.length] as Buffer);
  return hash.digest('hex');
}

/**
 * The most a loopback connection's kernel buffers can hold: Linux grows a receive buffer up to
 * net.ipv4.tcp_rmem's maximum (32 MiB on some machines) and a send buffer up to tcp_wmem's.
 */
async function socketBufferBytes(): Promise<number> {
  const maximum = async (name: string): Promise<number> => {
    const text = await readFile(`/proc/sys/net/ipv4/${name}`, 'utf8').catch(() => '');
    const value = Number(text.trim().split(/\s+/).at(-1));
    return Number.isFinite(value) && value > 0 ? value : 32 * MB;
  };
  return (await maximum('tcp_rmem')) + (await maximum('tcp_wmem'));
}

describe('payload: memory stays bounded for large bodies', () => {
  let target: ChildProcess;
  let origin = '';
  let runtime: Runtime;
  let directory = '';
  const reports: TargetReport[] = [];
  const waiters: { type: string; resolve: (report: TargetReport) => void }[] = [];

  /** The next report of this type from the target (reports that came before the call are skipped). */
  function nextReport(type: string): Promise<TargetReport> {
    return new Promise((resolve) => waiters.push({ type, resolve }));
  }

  beforeAll(async () => {
    target = fork(TARGET, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const listening = nextReport('listening');
    target.on('message', (message: TargetReport) => {
      reports.push(message);
      const index = waiters.findIndex((waiter) => waiter.type === message.type);
      if (index >= 0) waiters.splice(index, 1)[0]?.resolve(message);
    });
    const { port = 0 } = await listening;
    origin = `http://127.0.0.1:${port}`;
    directory = await mkdtemp(join(tmpdir(), 'flowpool-memory-'));
    runtime = createRuntime({ workers: 1, policy: LOOPBACK, timeoutMs: 300_000 });
    await runtime.ready();
  });
  afterAll(async () => {
    await runtime.destroy();
    target.disconnect();
    await rm(directory, { recursive: true, force: true });
  });

  async function upload(total: number, rss?: RssPeak): Promise<{ bytes: number; sha256: string }> {
    const received = nextReport('received');
    const result = await runtime.run({
      url: `${origin}/up`,
      method: 'POST',
      body: blocksOf(total, () => rss?.sample()),
      responseType: 'json',
    });
    await received;
    return result.body as { bytes: number; sha256: string };
  }

  it('uploads 500 MB from a generator with RSS growth under 64 MB, every byte in order', async () => {
    const total = 500 * MB - ((500 * MB) % BLOCK);
    await upload(WARM_UP_BYTES);
    const rss = new RssPeak();
    rss.start();
    const answer = await upload(total, rss);
    rss.sample();
    expect(answer.bytes).toBe(total);
    expect(answer.sha256).toBe(sha256OfBlocks(total));
    expect(rss.growthMb).toBeLessThan(LIMIT_MB);
  }, 300_000);

  /** Reads a stream of `total` bytes, stopping every `pauseEvery` bytes until the server is blocked. */
  async function download(total: number, pauseEvery: number, rss?: RssPeak): Promise<number[]> {
    const sent = nextReport('sent');
    const result = await runtime.run({
      url: `${origin}/down?bytes=${total}`,
      responseType: 'stream',
      maxResponseBytes: 2 * total,
    });
    /** Bytes the server had written beyond what was read, each time it blocked while the reader stopped. */
    const ahead: number[] = [];
    let received = 0;
    let nextPause = pauseEvery;
    for await (const chunk of result.body) {
      received += chunk.length;
      rss?.sample();
      // Not near the end: the last few MB may all be in flight already, with nothing left to block on.
      if (received >= nextPause && received < total - pauseEvery) {
        nextPause += pauseEvery;
        // The reader stops here; it goes on only once the server reports that it waits for 'drain'.
        const blocked = nextReport('blocked');
        target.send({ type: 'when-blocked' });
        const { written = 0 } = await blocked;
        ahead.push(written - received);
        rss?.sample();
      }
    }
    const report = await sent;
    expect(report.bytes).toBe(total);
    expect(received).toBe(total);
    return ahead;
  }

  it("reads a 1 GB 'stream' slowly with RSS growth under 64 MB; the server waits on backpressure", async () => {
    const total = 1000 * MB;
    await download(WARM_UP_BYTES, 32 * MB);
    const rss = new RssPeak();
    rss.start();
    const ahead = await download(total, 32 * MB, rss);
    expect(ahead.length).toBeGreaterThanOrEqual(30);
    // Each time, the server was stopped by the slow reader within what the kernel's socket buffers hold
    // plus flowpool's window of chunks, not by anything holding the body.
    const bound = (await socketBufferBytes()) + 16 * MB;
    for (const bytes of ahead) expect(bytes).toBeLessThan(bound);
    expect(rss.growthMb).toBeLessThan(LIMIT_MB);
  }, 300_000);

  it('saves 1 GB to a file with RSS growth under 64 MB, bytes matching what the server sent', async () => {
    const total = 1000 * MB;
    const file = join(directory, 'body.bin');
    await runtime.run({ url: `${origin}/down?bytes=${WARM_UP_BYTES}`, saveTo: file, maxResponseBytes: 2 * total });
    const rss = new RssPeak();
    rss.start();
    // The body never reaches this thread: RSS is sampled each time the server reports that it waits for
    // 'drain' (on the socket, so on the file behind it), until it has sent everything.
    const server = { sending: true };
    const sent = nextReport('sent').then((report) => {
      server.sending = false;
      return report;
    });
    const sampling = (async () => {
      while (server.sending) {
        const blocked = nextReport('blocked');
        target.send({ type: 'when-blocked' });
        await Promise.race([blocked, sent]);
        rss.sample();
      }
    })();
    const result = await runtime.run({
      url: `${origin}/down?bytes=${total}`,
      saveTo: file,
      maxResponseBytes: 2 * total,
    });
    const report = await sent;
    await sampling;
    rss.sample();
    expect(result.body).toEqual({ path: file, bytes: total });
    expect((await stat(file)).size).toBe(total);
    expect(rss.growthMb).toBeLessThan(LIMIT_MB);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(report.sha256);
  }, 300_000);
});
