/**
 * Stress fault: throws from a timer, where nothing can catch it, and waits on a later timer so the
 * worker dies before the transform could return.
 */
export default function throwUncaught(body) {
  setTimeout(() => {
    throw new Error('stress fault: uncaught in a timer of the worker');
  }, 0);
  return new Promise((resolve) => setTimeout(() => resolve(body), 1_000));
}
