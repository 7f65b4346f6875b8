/**
 * A streamed upload the worker never sends (its connection is refused) ends the caller's generator: its
 * `finally` runs instead of the generator waiting, with a window of its chunks already pulled, for a reader
 * that will never come. (undici closes a body it was given when the connect fails; the worker also cancels
 * any body undici never took, for the paths where undici was never given it.)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/src/index.js';
import { endlessUpload } from '../fixtures/endless-upload.js';
import { closeAfterEach } from '../fixtures/teardown.js';
import { settle, waitUntil } from '../fixtures/wait.js';

const BLOCK = Buffer.alloc(64 * 1024, 0x62);

/** A loopback port nobody listens on: a server is started there and closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('payload: an upload that is never sent', () => {
  const track = closeAfterEach();

  it('closes the caller’s generator when the connection is refused', async () => {
    const port = await closedPort();
    const runtime = track(createRuntime({ workers: 1, policy: { allow: ['127.0.0.0/8'] } }));
    const endless = endlessUpload(BLOCK);
    const outcome = await settle(
      runtime.run({ url: `http://127.0.0.1:${String(port)}/upload`, method: 'POST', body: endless.body }),
    );
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe('FLOWPOOL_CONNECTION_FAILED');
    await waitUntil(() => endless.closed(), 'the generator to be closed');
    expect(endless.produced()).toBeGreaterThan(0);
  });
});
