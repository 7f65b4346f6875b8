/**
 * Stress fault: allocates on the V8 heap until the worker's resourceLimits stop it. Bounded at 1 GiB
 * (1,024 arrays of 1 MiB of doubles); if no limit stops it, it returns how many it held.
 */
export default function allocate() {
  const held = [];
  for (let i = 0; i < 1024; i++) held.push(new Array(131_072).fill(i + 0.5));
  return held.length;
}
