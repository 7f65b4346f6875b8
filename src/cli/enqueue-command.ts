/**
 * `flowpool enqueue --redis URL --queue NAME <url>`: `fetch`, but run by a queue worker process (see
 * `flowpool worker`). The job is checked here first (its shape, and the destination against --allow /
 * --deny), then enqueued; the worker enforces its own policy where it makes the request. Prints the result
 * like `fetch`, with the same exit codes.
 */
import type { Command } from 'commander';
import type { QueueResult } from '../queue/index.js';
import { EXIT_CODES_HELP, exitWith } from './cli-errors.js';
import { printResult, toJob, type FetchFlags } from './fetch-command.js';
import { addQueueFlags, type QueueFlags } from './queue-flags.js';
import { collect, numberish } from './runtime-flags.js';

interface EnqueueFlags extends FetchFlags, QueueFlags {
  readonly idempotencyKey?: string;
  readonly namespace?: string;
}

export function registerEnqueueCommand(program: Command): void {
  const command = program
    .command('enqueue')
    .description('send one HTTP request through a queue: a worker process makes it, the result is printed here')
    .argument('<url>', 'absolute http: or https: URL')
    .option('-X, --request <method>', 'request method (default: GET, or POST with -d)')
    .option('-H, --header <header>', "request header as 'name: value'; repeatable", collect)
    .option(
      '-d, --data <body>',
      'request body (makes the default method POST; content-type application/x-www-form-urlencoded unless -H sets one)',
    )
    .option('-i, --include', 'print the status line and response headers before the body')
    .option('-f, --fail', 'exit 1 (and print no body) when the status is 400 or more')
    .option('--no-follow', 'do not follow redirects')
    .option(
      '--idempotency-key <key>',
      'run at most once for this key and this request while its result is retained (24 h); another request under the key fails',
    )
    .option('--namespace <name>', 'scope of idempotency keys (one per tenant); default: the queue-wide scope')
    .option('--timeout <ms>', 'deadline from submission to result, queue wait included (default: 60000)', numberish)
    .option(
      '--allow <entry>',
      "allow a destination in this client's early check (hostname, *.suffix, IP or CIDR); repeatable",
      collect,
    )
    .option('--deny <entry>', 'deny a destination (same forms); repeatable', collect);
  addQueueFlags(command, true);
  command.addHelpText(
    'after',
    `${EXIT_CODES_HELP}

Example:
  flowpool enqueue --redis redis://127.0.0.1:6379 --queue http https://api.example.com/items -i`,
  );
  command.action(exitWith((url: string, flags: EnqueueFlags) => enqueueCommand(url, flags), { jobFromFlags: true }));
}

async function enqueueCommand(url: string, flags: EnqueueFlags): Promise<number> {
  const policy = {
    ...(flags.allow === undefined ? {} : { allow: [...flags.allow] }),
    ...(flags.deny === undefined ? {} : { deny: [...flags.deny] }),
  };
  // Options are checked by createQueueClient, which names any bad one.
  // Loaded only here: queue mode's packages are optional peers, and the other commands run without them.
  const { createQueueClient } = await import('../queue/index.js');
  const client = createQueueClient({
    redis: flags.redis ?? '',
    queue: flags.queue ?? '',
    policy,
    ...(flags.timeout === undefined ? {} : { timeoutMs: flags.timeout as number }),
    ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }),
  });
  let result: QueueResult;
  try {
    result = await client.run(
      await toJob(url, flags),
      flags.idempotencyKey === undefined ? {} : { idempotencyKey: flags.idempotencyKey },
    );
  } finally {
    await client.close();
  }
  return printResult(result, flags);
}
