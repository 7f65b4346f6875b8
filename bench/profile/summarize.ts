/**
 * Flame summary of .cpuprofile files (V8's format, as `--cpu-prof` writes one per thread): self time by
 * function and by where the code lives (flowpool, undici, piscina, node internals, GC, idle), per profile.
 * Usage: node dist/bench/profile/summarize.js <file.cpuprofile>... [--top N]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a frame's code lives, by its script URL. */
function area(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(program)') return 'program (native, unattributed)';
  if (url.includes('/node_modules/undici/')) return 'undici';
  if (url.includes('/node_modules/piscina/')) return 'piscina';
  if (url.includes('/node_modules/')) return `package ${url.split('/node_modules/')[1]?.split('/')[0] ?? '?'}`;
  if (url.includes('/dist/src/')) return 'flowpool';
  if (url.includes('/dist/bench/')) return 'bench harness';
  if (url.startsWith('node:')) return 'node internals';
  return url === '' ? 'native' : 'other';
}

function summarize(file: string, top: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const where = area(node);
    byArea.set(where, (byArea.get(where) ?? 0) + us);
    if (where === 'idle') continue;
    busy += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|dist)\//, '')}:${String(lineNumber + 1)}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const pct = (us: number): string => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`${basename(file)}: ${(busy / 1000).toFixed(0)} ms busy (idle excluded)`];
  for (const [where, us] of [...byArea].filter(([w]) => w !== 'idle').sort((a, b) => b[1] - a[1]))
    lines.push(`  ${pct(us)}  ${where}`);
  lines.push('  top functions by self time:');
  for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${key}`);
  return lines.join('\n');
}

const args = process.argv.slice(2);
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 15;
const files = args.filter((_arg, i) => topIndex < 0 || (i !== topIndex && i !== topIndex + 1));
for (const file of files) process.stdout.write(`${summarize(file, top)}\n\n`);
