/**
 * `flowpool demo`, spawned for real with a small flood: it finishes and exits by itself, every request
 * succeeds in both floods, and the target servers never saw more connections per host than the cap.
 */
import { cli } from '../fixtures/cli.js';
import { describe, expect, it } from 'vitest';

interface Flood {
  succeeded: number;
  failed: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  hosts: { origin: string; connections: number; newAfterWarmup: number; peakOpen: number; requests: number }[];
  withinCap: boolean;
  newConnectionsAfterWarmup: number;
  warmup: { jobs: number; succeeded: number; failed: number; requestsPerSecond: number; connections: number } | null;
}

interface Summary {
  jobs: number;
  warmup: number;
  hosts: number;
  workers: number;
  connectionsPerHost: number;
  flowpool: Flood & {
    workersPerHost: { origin: string; workers: number[] }[];
    hostsPerWorker: { worker: number; hosts: string[] }[];
  };
  undici: Flood;
  throughputRatio: number;
  warmupThroughputRatio: number | null;
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

describe('flowpool demo', () => {
  it('--json: every request succeeds and connections per host stay within the cap', async () => {
    const { code, stdout, stderr } = await cli(['demo', '--jobs', '2000', '--hosts', '4', '--workers', '2', '--json'], {
      timeoutMs: 60_000,
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as Summary;
    // The warm-up defaults to half of --jobs, before each client's measured flood.
    expect(summary).toMatchObject({ jobs: 2000, warmup: 1000, hosts: 4, workers: 2, connectionsPerHost: 16 });
    for (const flood of [summary.flowpool, summary.undici]) {
      expect(flood.succeeded).toBe(2000);
      expect(flood.failed).toBe(0);
      expect(flood.requestsPerSecond).toBeGreaterThan(0);
      expect(flood.p99Ms).toBeGreaterThanOrEqual(flood.p50Ms);
      expect(flood.hosts).toHaveLength(4);
      // What the servers answered: the warm-up and the measured flood, nothing else.
      expect(sum(flood.hosts.map((host) => host.requests))).toBe(3000);
      expect(flood.withinCap).toBe(true);
      expect(flood.warmup).toMatchObject({ jobs: 1000, succeeded: 1000, failed: 0 });
      expect(flood.warmup?.connections).toBeGreaterThan(0);
      // Each client keeps its sockets from the warm-up: the measured flood opens none.
      expect(flood.newConnectionsAfterWarmup).toBe(0);
    }
    for (const host of summary.flowpool.hosts) {
      expect(host.peakOpen).toBeLessThanOrEqual(16);
      expect(host.connections).toBeLessThanOrEqual(16);
    }
    // Every host was served by some worker.
    expect(summary.flowpool.workersPerHost.every((host) => host.workers.length > 0)).toBe(true);
    expect(summary.throughputRatio).toBeGreaterThan(0);
    expect(summary.warmupThroughputRatio).toBeGreaterThan(0);
  });

  it('--warmup 0: no warm-up flood, so every connection the servers saw is new in the measured one', async () => {
    const { code, stdout } = await cli(
      ['demo', '--jobs', '400', '--hosts', '2', '--workers', '1', '--warmup', '0', '--json'],
      { timeoutMs: 60_000 },
    );
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as Summary;
    expect(summary).toMatchObject({ jobs: 400, warmup: 0, warmupThroughputRatio: null });
    for (const flood of [summary.flowpool, summary.undici]) {
      expect(flood.warmup).toBeNull();
      expect(sum(flood.hosts.map((host) => host.requests))).toBe(400);
      expect(flood.newConnectionsAfterWarmup).toBe(sum(flood.hosts.map((host) => host.connections)));
      expect(flood.newConnectionsAfterWarmup).toBeGreaterThan(0);
    }
  });

  it('--warmup 1: the one warm-up request opens one connection per client, the measured flood the rest', async () => {
    const { code, stdout } = await cli(
      ['demo', '--jobs', '400', '--hosts', '2', '--workers', '1', '--warmup', '1', '--json'],
      { timeoutMs: 60_000 },
    );
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as Summary;
    for (const flood of [summary.flowpool, summary.undici]) {
      expect(flood.warmup).toMatchObject({ jobs: 1, succeeded: 1, connections: 1 });
      expect(flood.newConnectionsAfterWarmup).toBeGreaterThan(0);
      expect(flood.newConnectionsAfterWarmup + 1).toBe(sum(flood.hosts.map((host) => host.connections)));
    }
  });

  it('prints a readable summary without --json (and no progress bar when stderr is not a terminal)', async () => {
    const { code, stdout, stderr } = await cli(
      ['demo', '--jobs', '300', '--hosts', '2', '--workers', '1', '--connections-per-host', '4'],
      { timeoutMs: 60_000 },
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(
      'flowpool demo: 300 GETs over 2 loopback hosts (target servers in their own process), 256 in flight, after a warm-up of 150',
    );
    expect(stdout).toMatch(/throughput +\d+ req\/s +\d+ req\/s/);
    expect(stdout).toMatch(/peak open \/ host +[1-4] \(cap 4: kept\)/);
    expect(stdout).toMatch(/new connections +\d+ after the warm-up +\d+ after the warm-up/);
    expect(stdout).toMatch(
      /warm-up \(cold\) +150 \/ 150, \d+ req\/s, [1-8] conns opened +150 \/ 150, \d+ req\/s, [1-8] conns opened/,
    );
    expect(stdout).toContain('worker 0: 127.0.0.1:');
    expect(stdout).toMatch(
      /throughput ratio, flowpool \/ plain undici Agent: \d+\.\d\dx \(warm-up, cold: \d+\.\d\dx\)/,
    );
  });

  it('exits 2 for a bad option', async () => {
    const jobs = await cli(['demo', '--jobs', '0'], { timeoutMs: 15_000 });
    expect(jobs.code).toBe(2);
    expect(jobs.stderr).toContain('--jobs: expected an integer from 1 to 10000000, received 0');
    const warmup = await cli(['demo', '--warmup', '-1'], { timeoutMs: 15_000 });
    expect(warmup.code).toBe(2);
    expect(warmup.stderr).toContain('--warmup: expected an integer from 0 to 10000000, received -1');
    const runtimeOption = await cli(['demo', '--connections-per-host', 'lots'], { timeoutMs: 15_000 });
    expect(runtimeOption.code).toBe(2);
    expect(runtimeOption.stderr).toContain('invalid options: --connections-per-host: ');
  });
});
