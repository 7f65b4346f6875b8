/**
 * `saveTo` in queue mode. Anyone who can add BullMQ jobs can put any path in a job, so a queue worker writes
 * files only where its operator said: inside `saveToDir`, judged after symlinks (the real path of the
 * target's directory must be the real `saveToDir` or under it). The file is then written at that real path,
 * and the runtime's file sink replaces a symlink at the leaf (temporary file + rename) rather than following
 * it. Without `saveToDir` every `saveTo` is refused. Refusals are FLOWPOOL_INVALID_JOB with `field: 'saveTo'`.
 */
import { realpathSync, statSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, sep } from 'node:path';
import { FlowpoolError, type HttpJob } from '../index.js';

/** The real path of `saveToDir`, checked once at start: FLOWPOOL_INVALID_OPTIONS if it is not a directory. */
export function resolveSaveDir(saveToDir: string | undefined): string | undefined {
  if (saveToDir === undefined) return undefined;
  let real: string;
  try {
    real = realpathSync(saveToDir);
  } catch {
    real = '';
  }
  if (real === '' || !statSync(real).isDirectory()) {
    throw new FlowpoolError(
      'FLOWPOOL_INVALID_OPTIONS',
      `invalid options: saveToDir: expected an existing directory, received ${JSON.stringify(saveToDir)}`,
      { field: 'saveToDir' },
    );
  }
  return real;
}

/** The job with `saveTo` moved to its real path inside `root`, or a refusal; jobs without `saveTo` pass. */
export async function confineSaveTo(job: HttpJob, root: string | undefined): Promise<HttpJob> {
  const { saveTo } = job as { readonly saveTo?: unknown };
  if (saveTo === undefined) return job;
  const refuse = (why: string): never => {
    throw new FlowpoolError('FLOWPOOL_INVALID_JOB', `invalid queue job: saveTo: ${why}; nothing was sent`, {
      field: 'saveTo',
      ...(job.id === undefined ? {} : { jobId: job.id }),
    });
  };
  if (root === undefined)
    return refuse('this queue worker writes no files (it was started without saveToDir), received a path');
  if (typeof saveTo !== 'string' || !isAbsolute(saveTo) || saveTo.includes('\0'))
    return refuse(`expected an absolute file path inside saveToDir, received ${typeof saveTo}`);
  const name = basename(saveTo);
  if (name === '' || name === '.' || name === '..') return refuse('expected a file name at the end of the path');
  let parent: string;
  try {
    parent = await realpath(dirname(saveTo));
  } catch {
    return refuse("expected a path whose directory exists inside saveToDir, received one whose directory doesn't");
  }
  if (parent !== root && !parent.startsWith(root.endsWith(sep) ? root : root + sep))
    return refuse('expected a path inside saveToDir (after symlinks), received one outside it');
  // Plain data from Redis, checked by runtime.run like any caller's job: only the path changes here.
  return { ...job, saveTo: join(parent, name) } as HttpJob;
}
