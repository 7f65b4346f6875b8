/**
 * The chunk port without threads (both ends on this thread): bytes arrive whole and in order, gathered
 * into 256 KiB chunks; the sender is told to wait once the window is out and goes on as the reader reads;
 * a cancelled reader reaches the sender; a port closed before the end fails the reader.
 */
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, ChunkSender, receiveChunks, WINDOW_CHUNKS } from '../../dist/src/wire/chunk-port.js';
import { FlowpoolError } from '../../dist/src/errors/flowpool-error.js';
import { waitUntil } from '../fixtures/wait.js';

function pair(onAbandoned: () => void = () => undefined): {
  sender: ChunkSender;
  stream: ReadableStream<Uint8Array>;
} {
  const { port1, port2 } = new MessageChannel();
  const sender = new ChunkSender(port1, onAbandoned);
  const stream = receiveChunks(port2, () => new FlowpoolError('FLOWPOOL_WORKER_CRASHED', 'the other side died'));
  return { sender, stream };
}

describe('chunk port', () => {
  it('delivers every byte in order, in chunks of 256 KiB and a last partial one', async () => {
    const { sender, stream } = pair();
    const total = 3 * CHUNK_BYTES + 1000;
    const source = new Uint8Array(total);
    for (let i = 0; i < total; i++) source[i] = i % 251;
    // Socket-sized pieces, as a response arrives.
    for (let offset = 0; offset < total; offset += 65_536) sender.write(source.subarray(offset, offset + 65_536));
    sender.end();
    const chunks: Uint8Array[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.length)).toEqual([CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES, 1000]);
    expect(Buffer.concat(chunks).equals(Buffer.from(source))).toBe(true);
  });

  it('tells the sender to wait once the window is out, and lets it go on as the reader reads', async () => {
    const { sender, stream } = pair();
    const block = new Uint8Array(CHUNK_BYTES);
    await waitUntil(() => sender.writable, 'the receiver to grant its window');
    let sent = 0;
    while (sender.write(block)) sent++;
    sent++;
    expect(sent).toBe(WINDOW_CHUNKS);
    let resumed = false;
    sender.onWritable(() => {
      resumed = true;
    });
    const reader = stream.getReader();
    for (let i = 0; i < WINDOW_CHUNKS / 2 - 1; i++) await reader.read();
    // Credits come back one per chunk read, and the sender goes on only at half the window.
    await new Promise((resolve) => setImmediate(resolve));
    expect(resumed).toBe(false);
    await reader.read();
    await waitUntil(() => resumed, 'the sender to be let go on');
    await reader.cancel();
  });

  it("a reader's cancel reaches the sender once", async () => {
    let abandoned = 0;
    const { sender, stream } = pair(() => abandoned++);
    sender.write(new Uint8Array(CHUNK_BYTES));
    const reader = stream.getReader();
    await reader.read();
    await reader.cancel();
    await waitUntil(() => sender.finished, 'the sender to hear of the cancel');
    expect(abandoned).toBe(1);
  });

  it('fails the reader when the sending side goes before the end, with the error it was given', async () => {
    const { port1, port2 } = new MessageChannel();
    const stream = receiveChunks(port2, () => new FlowpoolError('FLOWPOOL_WORKER_CRASHED', 'the other side died'));
    port1.close();
    const error = await stream
      .getReader()
      .read()
      .then(
        () => undefined,
        (e: unknown) => e as FlowpoolError,
      );
    expect(error?.code).toBe('FLOWPOOL_WORKER_CRASHED');
  });

  it('passes a failure the sender reports to the reader as a FlowpoolError', async () => {
    const { sender, stream } = pair();
    sender.fail({ code: 'FLOWPOOL_TIMEOUT', name: 'FlowpoolError', message: 'deadline passed', details: {} });
    const error = await stream
      .getReader()
      .read()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(FlowpoolError);
    expect((error as FlowpoolError).code).toBe('FLOWPOOL_TIMEOUT');
  });
});
