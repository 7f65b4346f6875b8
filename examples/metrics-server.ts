/**
 * Exposing a runtime's metrics to Prometheus: a /metrics endpoint next to the engine's own work.
 * Run: `node dist/examples/metrics-server.js`, then `curl http://127.0.0.1:9464/metrics`.
 * It drives a little traffic at a local target so the metrics have something to show.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRuntime } from '../src/index.js';

const target = createServer((req, res) => {
  res.statusCode = req.url?.endsWith('/flaky') && Math.random() < 0.3 ? 503 : 200;
  res.end('ok');
});
await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;

const runtime = createRuntime({
  workers: 1,
  policy: { allow: ['127.0.0.0/8'] },
  retry: { attempts: 3, minDelayMs: 20 },
  hostLimits: { '*': { rps: 200, burst: 20 } },
});

const metrics = createServer((req, res) => {
  if (req.url !== '/metrics') {
    res.statusCode = 404;
    res.end();
    return;
  }
  runtime.metrics().then(
    (text) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(text);
    },
    (error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    },
  );
});
metrics.listen(Number(process.env.PORT ?? 9464), '127.0.0.1', () => {
  console.log(`metrics on http://127.0.0.1:${(metrics.address() as AddressInfo).port}/metrics (Ctrl-C to stop)`);
});

// A bounded trickle of jobs: 50 every second for a minute.
for (let second = 0; second < 60; second++) {
  await Promise.allSettled(
    Array.from({ length: 50 }, (_, i) => runtime.run({ url: `${origin}/${i % 5 === 0 ? 'flaky' : 'ok'}` })),
  );
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
await runtime.close();
metrics.close();
target.close();
