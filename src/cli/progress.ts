/** A progress bar on stderr (cli-progress), or nothing at all when stderr is not a terminal. */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets how many are done; redraws at most every `REDRAW_EVERY` items (the bar throttles itself too). */
  set(done: number): void;
  stop(): void;
}

const REDRAW_EVERY = 64;

const silent: Progress = { set: () => undefined, stop: () => undefined };

export function createProgress(label: string, total: number, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return silent;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(28)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      fps: 15,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    set(done) {
      if (done === total || done % REDRAW_EVERY === 0) bar.update(done);
    },
    stop() {
      bar.stop();
    },
  };
}
