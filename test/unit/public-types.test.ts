/**
 * The public option and job types are written interfaces (no zod type in the main entry's declarations);
 * the type aliases below hold each against the input type of the schema that validates it, both ways, so neither
 * can gain, lose or change a field without the other. Checked by `npm run typecheck`;
 * the runtime assertions check that a value of each type is accepted by its schema.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { HttpJob, HttpJobFields, RuntimeOptions } from '../../dist/src/index.js';
import { jobSchema, runtimeOptionsSchema } from '../../dist/src/schema.js';

type JobInput = z.input<typeof jobSchema>;
type OptionsInput = z.input<typeof runtimeOptionsSchema>;

/** `true` when each type is assignable to the other. */
type MutuallyAssignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Fails to compile unless given `true`. */
type Holds<T extends true> = T;

export type JobMatchesSchema = Holds<MutuallyAssignable<HttpJobFields, JobInput>>;
/** HttpJob narrows the fields to the combinations the runtime accepts: every HttpJob is a schema input. */
export type JobIsSchemaInput = Holds<[HttpJob] extends [JobInput] ? true : false>;
/** `hooks` (functions, checked by api/hooks.ts) is the one option the schema does not hold. */
export type OptionsMatchSchema = Holds<MutuallyAssignable<Omit<RuntimeOptions, 'hooks'>, OptionsInput>>;

describe('public types against their schemas', () => {
  it('HttpJobFields is the job schema input, both ways; HttpJob is within it', () => {
    expect(jobSchema.safeParse({ url: 'https://example.com/' } satisfies HttpJob).success).toBe(true);
  });

  it('RuntimeOptions is the options schema input, both ways', () => {
    expect(runtimeOptionsSchema.safeParse({ workers: 1 } satisfies RuntimeOptions).success).toBe(true);
  });
});
