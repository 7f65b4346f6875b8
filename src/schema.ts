/**
 * `flowpool/schema`: the zod schemas behind `createRuntime` and `run`, their defaults and the rule that says
 * which jobs are safe to repeat, for engines that validate jobs or render forms for them (`z.toJSONSchema`)
 * before handing them over. Kept off the main entry so that zod's types are no part of it.
 *
 * @module flowpool/schema
 */
export { DEFAULTS, runtimeOptionsSchema } from './config/options.js';
export { jobSchema } from './job/job.js';
export { isRepeatable } from './job/repeatable.js';
export { toValidationError } from './errors/validation.js';
