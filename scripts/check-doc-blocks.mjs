#!/usr/bin/env node
// Typechecks every ```ts block of README.md and docs/*.md, and runs the ones fenced ```ts runnable.
//
// Each block becomes a module of its own in .doc-blocks/ (inside the package, so `flowpool`, `flowpool/engine`,
// `flowpool/queue` and `flowpool/schema` resolve through the package's own `exports` to dist/: what a user
// gets). tsc checks them with the project's strict settings; a runnable block is then executed with node and
// must exit 0 (such a block starts its own loopback server and needs no network). Needs `npm run build` first.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const outDir = join(root, '.doc-blocks');
const sources = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name)),
];

/** Every ```ts block of one Markdown file, with the line its code starts on. */
function blocksOf(file) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks = [];
  let open = null;
  lines.forEach((line, index) => {
    if (open === null) {
      const fence = /^```(ts|typescript)(?:\s+(\S+))?\s*$/.exec(line);
      if (fence) open = { file, line: index + 2, runnable: fence[2] === 'runnable', code: [] };
      else if (/^```\s*$/.test(line))
        throw new Error(`${file}:${index + 1}: a fence without a language (use ts, sh or text)`);
      else if (/^```/.test(line)) open = { skip: true };
    } else if (/^```\s*$/.test(line)) {
      if (!open.skip) blocks.push(open);
      open = null;
    } else if (!open.skip) {
      open.code.push(line);
    }
  });
  return blocks;
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const written = [];
for (const file of sources) {
  for (const block of blocksOf(file)) {
    const name = `${file.replace(/[/.]/g, '_')}_L${block.line}.ts`;
    // `export {}` makes every block a module of its own, so top-level await works and names never collide.
    writeFileSync(join(outDir, name), `${block.code.join('\n')}\nexport {};\n`);
    written.push({ ...block, name });
  }
}
writeFileSync(
  join(outDir, 'tsconfig.json'),
  JSON.stringify({
    extends: '../tsconfig.json',
    compilerOptions: { rootDir: '.', outDir: 'out', noEmit: false, declaration: false, sourceMap: false },
    include: ['*.ts'],
  }),
);

const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(outDir, 'tsconfig.json')],
  {
    cwd: root,
    encoding: 'utf8',
  },
);
// Point tsc's messages at the Markdown: `.doc-blocks/docs_x_md_L12.ts(3,5)` -> `docs/x.md:14:5`.
const where = new Map(written.map((block) => [block.name, block]));
const report = `${tsc.stdout}${tsc.stderr}`.replace(
  /(?:\.doc-blocks\/)?(\S+?\.ts)\((\d+),(\d+)\)/g,
  (match, name, line, column) => {
    const block = where.get(name);
    return block ? `${block.file}:${block.line + Number(line) - 1}:${column}` : match;
  },
);
if (tsc.status !== 0) {
  process.stderr.write(report);
  process.stderr.write(`docs:check: ${written.length} TypeScript blocks, tsc failed\n`);
  process.exit(1);
}

let failed = 0;
for (const block of written.filter((b) => b.runnable)) {
  const run = spawnSync(process.execPath, [join(outDir, 'out', block.name.replace(/\.ts$/, '.js'))], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) {
    failed += 1;
    process.stderr.write(
      `${block.file}:${block.line}: runnable block exited ${run.status ?? run.signal}\n${run.stdout}${run.stderr}\n`,
    );
  }
}
const runnable = written.filter((b) => b.runnable).length;
console.log(
  `docs:check: ${written.length} TypeScript blocks in ${sources.length} files compile; ${runnable - failed} of ${runnable} runnable blocks ran (${relative(root, outDir)}/)`,
);
process.exit(failed === 0 ? 0 : 1);
