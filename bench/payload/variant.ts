/**
 * One payload variant in a fresh process (so its peak RSS is its own): moves `bytes` through the client
 * under test and prints one JSON line `{ mbPerS, peakRssGrowthMb }`. RSS is sampled every 10 ms from
 * just before the transfer starts; growth is peak minus that start.
 *   node dist/bench/payload/variant.js <variant> <origin> <bytes>
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { createRuntime } from '../../src/index.js';

const CHUNK = new Uint8Array(256 * 1024).fill(0x62);

async function* generate(bytes: number): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < bytes; sent += CHUNK.length) yield await Promise.resolve(CHUNK);
}

async function main(): Promise<void> {
  const [variant, origin, size] = process.argv.slice(2);
  const bytes = Number(size);
  const file = join(tmpdir(), `flowpool-bench-${process.pid}.bin`);
  const runtime =
    variant?.startsWith('flowpool') === true
      ? createRuntime({ workers: 1, policy: { allow: ['127.0.0.0/8'] } })
      : undefined;
  await runtime?.ready();
  const limits = { maxResponseBytes: 2 * bytes, timeoutMs: 120_000 };
  const start = process.memoryUsage().rss;
  let peak = start;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const began = performance.now();
  let moved = 0;
  switch (variant) {
    case 'undici-download': {
      const { body } = await request(`${origin}/down?bytes=${bytes}`);
      for await (const chunk of body) moved += (chunk as Buffer).length;
      break;
    }
    case 'flowpool-stream': {
      const result = await runtime?.run({ url: `${origin}/down?bytes=${bytes}`, responseType: 'stream', ...limits });
      if (result !== undefined) for await (const chunk of result.body) moved += chunk.length;
      break;
    }
    case 'undici-save': {
      const { body } = await request(`${origin}/down?bytes=${bytes}`);
      await pipeline(body, createWriteStream(file));
      moved = bytes;
      break;
    }
    case 'flowpool-saveTo': {
      const result = await runtime?.run({ url: `${origin}/down?bytes=${bytes}`, saveTo: file, ...limits });
      moved = result?.body.bytes ?? 0;
      break;
    }
    case 'undici-upload': {
      const { body } = await request(`${origin}/up`, {
        method: 'POST',
        body: Readable.from(generate(bytes), { objectMode: false }),
      });
      moved = Number(await body.text());
      break;
    }
    case 'flowpool-upload': {
      const result = await runtime?.run({ url: `${origin}/up`, method: 'POST', body: generate(bytes), ...limits });
      moved = Number(result?.body);
      break;
    }
    default:
      throw new Error(`unknown payload variant ${String(variant)}`);
  }
  const seconds = (performance.now() - began) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  await runtime?.close();
  await rm(file, { force: true });
  if (moved < bytes) throw new Error(`${variant} moved ${moved} of ${bytes} bytes`);
  process.stdout.write(`${JSON.stringify({ mbPerS: bytes / 1e6 / seconds, peakRssGrowthMb: (peak - start) / 1e6 })}\n`);
}

await main();
