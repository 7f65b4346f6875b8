/**
 * `@opentelemetry/api` is an optional peer dependency: without it, a job and a workflow run as ever, with no
 * span and no `traceparent`. Run in a child process whose module resolution hides the API.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startCountingServer } from '../fixtures/counting-server.js';
import { closeAfterEach } from '../fixtures/teardown.js';

const run = promisify(execFile);

describe('request tracing without @opentelemetry/api', () => {
  const track = closeAfterEach();

  it('runs a job and a workflow, and sends no traceparent', async () => {
    const traceparents: (string | string[] | undefined)[] = [];
    const server = track(
      await startCountingServer((req, res) => {
        traceparents.push(req.headers.traceparent);
        res.end('ok');
      }),
    );
    const preload = new URL('../fixtures/without-otel-api.mjs', import.meta.url).pathname;
    const child = new URL('../fixtures/untraced-run.mjs', import.meta.url).pathname;
    const { stdout } = await run(process.execPath, ['--import', preload, child, server.origin]);
    expect(JSON.parse(stdout)).toEqual({ apiFound: false, status: 200, workflow: 'success' });
    expect(server.requests).toBe(2);
    expect(traceparents).toEqual([undefined, undefined]);
  });
});
