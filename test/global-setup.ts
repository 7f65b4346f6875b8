/**
 * Integration tests import the built package (`dist/`), as users do. So that no run ever tests stale code,
 * this runs once before any test: if a source file (src, bench, examples) is newer than the file
 * tsc built from it, or has none, it builds first. `npm test` builds anyway; this covers `npx vitest run`
 * and an editor's test runner after an edit.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCES = ['src', 'bench', 'examples'];

function* typescriptFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* typescriptFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The first source whose built file is missing or older, or undefined when dist/ is current. */
export function staleSource(): string | undefined {
  for (const dir of SOURCES) {
    for (const source of typescriptFiles(join(ROOT, dir))) {
      const built = join(ROOT, 'dist', relative(ROOT, source)).replace(/\.ts$/, '.js');
      const builtAt = mtimeOf(built);
      if (builtAt === undefined || builtAt < (mtimeOf(source) ?? 0)) return relative(ROOT, source);
    }
  }
  return undefined;
}

export default function setup(): void {
  const stale = staleSource();
  if (stale === undefined) return;
  process.stderr.write(`dist/ is older than ${stale}: building before the tests run\n`);
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}
