/**
 * No declaration file reachable from the main entry mentions zod: zod's types belong to `flowpool/schema`
 * only. The public option and job types are written interfaces (src/config/runtime-options.ts,
 * src/job/http-job.ts), and the stats types import only zod-free type files (scheduling/coordinator-types.ts,
 * traffic/traffic-stats.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const distSrc = join(import.meta.dirname, '..', '..', 'dist', 'src');

/** Every .d.ts reachable from `entry` through relative imports, `import type` and `import("...")` included. */
function declarationGraph(entry: string): Map<string, string> {
  const files = new Map<string, string>();
  const pending = [entry];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (files.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    files.set(file, text);
    for (const match of text.matchAll(/(?:from\s+|import\(\s*)['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
      pending.push(join(dirname(file), `${match[1] ?? ''}.d.ts`));
    }
  }
  return files;
}

const mentionsZod = (text: string): boolean => /(?:from\s+|import\(\s*)['"]zod(?:\/[^'"]*)?['"]/.test(text);

describe("the main entry's declarations", () => {
  it('bring zod in through no file', () => {
    const graph = declarationGraph(join(distSrc, 'index.d.ts'));
    const withZod = [...graph]
      .filter(([, text]) => mentionsZod(text))
      .map(([file]) => relative(distSrc, file))
      .sort();
    expect(graph.size).toBeGreaterThan(10);
    expect(withZod).toEqual([]);
  });

  it('find zod where it is expected: flowpool/schema', () => {
    const graph = declarationGraph(join(distSrc, 'schema.d.ts'));
    expect([...graph.values()].some(mentionsZod)).toBe(true);
  });
});
