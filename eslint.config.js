// typescript-eslint's strict-type-checked rules: the type-aware promise and condition checks are the ones
// that matter in a runtime built on worker messages and callbacks. Two rules are tuned, not switched off:
// numbers may appear in template strings (messages quote limits and counts), and an arrow may return a
// void call in shorthand (`() => resolve()`).
//
// The layout's import boundaries (docs/architecture.md) are kept here with ESLint's own
// `no-restricted-imports`: for each folder of src/, the folders it may not import. Import circles are
// counted by `npm run lint:cycles` (dpdm, type-only imports included).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Every folder of src/, from the bottom of the stack up. */
const FOLDERS = [
  'errors',
  'timing',
  'wire',
  'policy',
  'scheduling',
  'config',
  'threads',
  'job',
  'traffic',
  'observe',
  'lifecycle',
  'api',
  'worker',
  'engine',
  'queue',
  'cli',
];

/** What each folder may import besides itself (and packages); everything else is refused by the linter. */
const MAY_IMPORT = {
  errors: [],
  // One timer for many deadlines, used by both threads.
  timing: [],
  wire: ['errors'],
  policy: ['errors'],
  scheduling: ['errors'],
  config: ['errors', 'policy', 'scheduling', 'wire'],
  threads: ['errors', 'config', 'wire'],
  job: ['errors', 'config', 'policy', 'scheduling', 'threads', 'wire'],
  traffic: ['errors', 'config', 'job', 'policy', 'scheduling'],
  observe: ['errors', 'scheduling', 'traffic', 'wire'],
  lifecycle: ['errors', 'config', 'job', 'observe', 'scheduling', 'threads', 'timing', 'traffic', 'wire'],
  api: ['errors', 'config', 'job', 'lifecycle', 'observe', 'policy', 'scheduling', 'threads', 'traffic', 'wire'],
  // The worker thread loads only what crosses the boundary, the destination rules and the errors.
  worker: ['errors', 'policy', 'timing', 'wire'],
  // Consumers of the public API: the package's entry files (src/index.ts, src/schema.ts), src/api, the
  // errors and the destination policy (both public), and each other's public face (index.ts).
  engine: ['errors', 'policy', 'api'],
  queue: ['errors', 'policy', 'api'],
  cli: ['errors', 'policy', 'api', 'engine/index', 'queue/index'],
};

const ENTRY_FILES = ['index', 'schema'];

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** no-restricted-imports for the files of `folder` at `depth` (1: src/folder/x.ts, 2: src/folder/sub/x.ts). */
function boundary(folder, depth) {
  const up = '\\.\\./'.repeat(depth);
  const allowed = MAY_IMPORT[folder].map((entry) => (entry.includes('/') ? `${escape(entry)}\\.js$` : `${entry}/`));
  const consumer = ['engine', 'queue', 'cli'].includes(folder);
  if (consumer) allowed.push(...ENTRY_FILES.map((entry) => `${entry}\\.js$`));
  const alternatives = allowed.length === 0 ? '(?!)' : allowed.join('|');
  const patterns = [
    {
      regex: `^${up}(?!${alternatives})`,
      message: `src/${folder}/ may import only ${[...MAY_IMPORT[folder], ...(consumer ? ENTRY_FILES.map((e) => `${e}.ts`) : [])].join(', ') || 'packages'} (eslint.config.js, MAY_IMPORT).`,
    },
    { regex: `^${up}\\.\\./`, message: 'imports may not leave src/.' },
  ];
  if (folder !== 'cli') patterns.push({ regex: '/cli/', message: 'nothing imports src/cli/.' });
  const files = depth === 1 ? [`src/${folder}/*.ts`] : [`src/${folder}/*/*.ts`];
  return { files, rules: { 'no-restricted-imports': ['error', { patterns }] } };
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/results/', 'docs/api/', '.doc-blocks/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // A leading underscore marks a binding kept only to leave it out of a rest object.
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_' }],
    },
  },
  ...FOLDERS.flatMap((folder) => [boundary(folder, 1), boundary(folder, 2)]),
  {
    // The entry files re-export the public API; nothing in src/ imports them back except its consumers.
    files: ['src/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\./(engine|queue|cli|worker)/',
              message: 'the main entry does not load the consumers or the worker thread.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
);
