/**
 * CPU time of the main thread alone. Node 20 has no per-thread CPU clock (`process.cpuUsage()` sums
 * every thread; `threadCpuUsage` arrived in Node 23.9), and event-loop utilisation counts wall time:
 * on an oversubscribed machine a thread that is descheduled mid-callback still reads as active. Linux
 * keeps per-thread times in /proc/self/task/<tid>/stat, and the main thread's tid is the pid.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc times; 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

/** User + system CPU of the main thread in µs (10 ms resolution), or undefined where /proc is absent. */
export function mainThreadCpuUs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after "pid (comm) ": the command may contain spaces and parentheses, so cut at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return ((utime + stime) * 1e6) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
