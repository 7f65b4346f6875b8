/**
 * The job type refuses what the runtime refuses (issue 22, item 5): `saveTo` with any `responseType` or a
 * `transform`, a stream with a transform, more than one of `body`, `json` and `form`. Each combination is
 * a type error (`@ts-expect-error`, checked by `npm run typecheck`) and, as a stranger's untyped input, a
 * FLOWPOOL_INVALID_JOB at run time naming the same field; the allowed neighbours compile and pass.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { HttpJob } from '../../dist/src/index.js';
import { jobSchema, normalizeJob, type JobDefaults } from '../../dist/src/job/job.js';
import type { HttpJobFields as HttpJobInput } from '../../dist/src/job/http-job.js';
import { retrySchema } from '../../dist/src/config/options.js';

const DEFAULTS: JobDefaults = {
  timeoutMs: 1_000,
  maxResponseBytes: 1_000,
  maxRedirects: 1,
  transforms: { upper: '/t.mjs' },
  retry: retrySchema.parse({}),
};
const url = 'http://a.example/';

function fieldRefused(job: unknown): string | undefined {
  try {
    normalizeJob(job, DEFAULTS);
  } catch (error) {
    return (error as { details: { field: string } }).details.field;
  }
  return undefined;
}

describe('job types refuse what the runtime refuses', () => {
  it('saveTo goes with no responseType and no transform', () => {
    const refused = [
      // @ts-expect-error saveTo with responseType json
      { url, saveTo: '/tmp/x', responseType: 'json' } satisfies HttpJob,
      // @ts-expect-error saveTo with responseType stream
      { url, saveTo: '/tmp/x', responseType: 'stream' } satisfies HttpJob,
      // @ts-expect-error saveTo with responseType text (explicit)
      { url, saveTo: '/tmp/x', responseType: 'text' } satisfies HttpJob,
      // @ts-expect-error saveTo with a transform
      { url, saveTo: '/tmp/x', transform: 'upper' } satisfies HttpJob,
    ];
    for (const job of refused) expect(fieldRefused(job)).toBe('job.saveTo');
    const allowed: HttpJob = { url, saveTo: '/tmp/x' };
    expect(fieldRefused(allowed)).toBeUndefined();
  });

  it('a stream goes without a transform; other response types may have one', () => {
    // @ts-expect-error a stream with a transform
    const refused = { url, responseType: 'stream', transform: 'upper' } satisfies HttpJob;
    expect(fieldRefused(refused)).toBe('job.transform');
    const allowed: HttpJob[] = [
      { url, responseType: 'stream' },
      { url, responseType: 'json', transform: 'upper' },
      { url, transform: 'upper' },
    ];
    for (const job of allowed) expect(fieldRefused(job)).toBeUndefined();
  });

  it('one of body, json and form at most', () => {
    const refused = [
      // @ts-expect-error body and json
      { url, method: 'POST', body: 'a', json: { a: 1 } } satisfies HttpJob,
      // @ts-expect-error form and body
      { url, method: 'POST', form: { a: '1' }, body: 'a' } satisfies HttpJob,
      // @ts-expect-error form and json
      { url, method: 'POST', form: { a: '1' }, json: 1 } satisfies HttpJob,
    ];
    expect(refused.map(fieldRefused)).toEqual(['job.json', 'job.form', 'job.form']);
    const allowed: HttpJob[] = [
      { url, method: 'POST', body: 'a' },
      { url, method: 'POST', json: null },
      { url, method: 'POST', form: { a: '1' } },
    ];
    for (const job of allowed) expect(fieldRefused(job)).toBeUndefined();
  });

  it('every HttpJob is a valid schema input (the written type never accepts more than the schema)', () => {
    expectTypeOf<HttpJob>().toExtend<HttpJobInput>();
    expect(jobSchema.safeParse({ url, saveTo: '/tmp/x' }).success).toBe(true);
  });
});
