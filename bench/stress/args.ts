/** Command-line flags of the stress harness. */

export interface StressConfig {
  /** How long the flood runs (new jobs stop after it; the drain that follows is bounded separately). */
  readonly seconds: number;
  /** A worker crash is injected this often (seconds); 0: never. */
  readonly crashEverySeconds: number;
  /** runMany's window: jobs in flight (running or queued) at once. */
  readonly concurrency: number;
  readonly workers: number;
  /** connectionsPerHost: the cap each server's peak of open sockets is checked against. */
  readonly connectionsPerHost: number;
}

export const USAGE =
  'usage: node dist/bench/stress/run.js [--seconds 60] [--crash-every 5] [--concurrency 512] [--workers 2] [--connections-per-host 32]';

function integer(flag: string, raw: string | undefined, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${flag}: expected an integer ${min}-${max}, received ${String(raw)}\n${USAGE}`);
  }
  return value;
}

export function parseArgs(argv: readonly string[]): StressConfig {
  const config = { seconds: 60, crashEverySeconds: 5, concurrency: 512, workers: 2, connectionsPerHost: 32 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case '--seconds':
        config.seconds = integer(flag, argv[++i], 1, 86_400);
        break;
      case '--crash-every':
        config.crashEverySeconds = integer(flag, argv[++i], 0, 3_600);
        break;
      case '--concurrency':
        config.concurrency = integer(flag, argv[++i], 1, 100_000);
        break;
      case '--workers':
        config.workers = integer(flag, argv[++i], 1, 64);
        break;
      case '--connections-per-host':
        config.connectionsPerHost = integer(flag, argv[++i], 1, 10_000);
        break;
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown flag "${String(flag)}"\n${USAGE}`);
    }
  }
  return config;
}
