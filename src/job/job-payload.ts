/**
 * The part of a job that the worker handles beyond the request and an in-memory body: `saveTo` (and,
 * later, cookies and streams), gathered into the one optional wire field {@link JobPayload}.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import type { JobPayload } from '../wire/protocol.js';

export const saveToSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((path) => isAbsolute(path) && !path.includes('\0'), { error: 'expected an absolute file path' });

/** The payload fields of a validated job; undefined when it asks for none (the common case). */
export function payloadOf(job: { readonly saveTo?: string | undefined }): JobPayload | undefined {
  if (job.saveTo === undefined) return undefined;
  return { saveTo: job.saveTo };
}
