/**
 * The log lines of the long-running commands (`flowpool worker`): one JSON object per line on stderr,
 * with pino's field names (`level`, `time`, `msg`) so the usual shippers and `pino-pretty` read them. Plain
 * `JSON.stringify` rather than pino: a worker logs a handful of events per failed job and per start or
 * stop, which needs no asynchronous batching or transports, and stdout stays free for command output.
 */
export type LogLevel = 'info' | 'warn' | 'error';

/** Pino's numeric levels, so a `level >= 40` filter works as it does on pino's own lines. */
const LEVELS: Readonly<Record<LogLevel, number>> = { info: 30, warn: 40, error: 50 };

export function logLine(level: LogLevel, msg: string, fields: Readonly<Record<string, unknown>> = {}): void {
  process.stderr.write(`${JSON.stringify({ level: LEVELS[level], time: Date.now(), msg, ...fields })}\n`);
}
