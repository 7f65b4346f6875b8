/** Stress fault: ends the worker thread that runs it (process.exit() in a worker stops that thread). */
export default function exitWorker() {
  process.exit(7);
}
