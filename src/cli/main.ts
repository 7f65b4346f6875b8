#!/usr/bin/env node
/**
 * The `flowpool` command line: `run`, `fetch` and `demo`, one file each. Usage errors (commander's, or a
 * command's own) exit 2; see cli-errors.ts for every exit code.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT, EXIT_CODES_HELP, reportFailure } from './cli-errors.js';
import { registerDemoCommand } from './demo-command.js';
import { registerEnqueueCommand } from './enqueue-command.js';
import { registerFetchCommand } from './fetch-command.js';
import { registerRunCommand } from './run-command.js';
import { registerWorkerCommand } from './worker-command.js';

const program = new Command('flowpool')
  .description('HTTP execution runtime for workflow engines: run workflows, fetch safely, see the pool at work')
  .version(packageVersion(), '-V, --version')
  .exitOverride()
  .showHelpAfterError('(add --help for usage)')
  .addHelpText('after', EXIT_CODES_HELP);
// Registered after exitOverride(): subcommands made with .command() inherit it.
registerRunCommand(program);
registerFetchCommand(program);
registerDemoCommand(program);
registerWorkerCommand(program);
registerEnqueueCommand(program);

// `flowpool ... | head` closes the pipe early: that is the reader's choice, not a failure to report.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Help and --version "fail" with exit code 0; every other commander error is a usage error.
  process.exitCode =
    error instanceof CommanderError ? (error.exitCode === 0 ? EXIT.ok : EXIT.usage) : reportFailure(error);
}

function packageVersion(): string {
  try {
    // dist/src/cli/main.js -> package.json at the package root.
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
