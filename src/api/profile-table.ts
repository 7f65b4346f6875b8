/**
 * The runtime's profiles on the main thread: per name, the index workers know it by, its header defaults
 * (applied when a job is normalised) and its compiled policy (judged on the job's URL before it is queued).
 * A name keeps its index for the runtime's life, so replacing a profile (`setProfile`) changes what the index
 * means for jobs normalised from then on; jobs already normalised keep their headers, and a worker finishes
 * the requests in flight on the old dispatcher (worker/connect/profile-lanes.ts).
 */
import { z } from 'zod';
import { FlowpoolError } from '../errors/flowpool-error.js';
import { describeKind } from '../errors/received-kind.js';
import { guardedOptions, toValidationError } from '../errors/validation.js';
import { refuseForbiddenKeys } from '../config/forbidden-keys.js';
import type { ResolvedOptions } from '../config/options.js';
import {
  profileBootData,
  profilesSchema,
  resolveProfile,
  type ProfileSettingsParsed,
} from '../config/profile-options.js';
import type { JobProfile } from '../job/job.js';
import { PlainJobs, type PlainProfile } from '../job/plain-job.js';
import { DestinationPolicy } from '../policy/index.js';
import type { WorkerProfile } from '../wire/protocol.js';

/** What `setProfile` parses: the same shape, and so the same field paths, as `createRuntime`'s `profiles`. */
const oneProfileSchema = z.strictObject({ profiles: profilesSchema });

interface ProfileEntry extends JobProfile, PlainProfile {
  readonly policy: DestinationPolicy;
  readonly worker: WorkerProfile;
}

export class ProfileTable {
  readonly #options: ResolvedOptions;
  readonly #byName = new Map<string, ProfileEntry>();
  /** Index -> policy; index 0 is the runtime's own. */
  readonly #policies: DestinationPolicy[];

  constructor(options: ResolvedOptions, runtimePolicy: DestinationPolicy) {
    this.#options = options;
    this.#policies = [runtimePolicy];
    for (const [name, settings] of Object.entries(options.profiles)) this.#install(name, settings);
  }

  /** The profile a job names, or undefined for a name the runtime does not know. */
  named(name: string): JobProfile | undefined {
    return this.#byName.get(name);
  }

  /** The same, for the plain-job fast path: its facts per origin under the profile's settings. */
  plainNamed(name: string): PlainProfile | undefined {
    return this.#byName.get(name);
  }

  /** The policy a job of this profile index is judged by. */
  policyOf(index: number): DestinationPolicy {
    return this.#policies[index] ?? (this.#policies[0] as DestinationPolicy);
  }

  /** Every profile as workers need it (a newly started worker gets them all before any job). */
  workerProfiles(): (readonly [number, WorkerProfile])[] {
    return [...this.#byName.values()].map((entry) => [entry.index, entry.worker] as const);
  }

  /**
   * Checks and installs `settings` under `name` (a new profile or a replacement); returns what the workers
   * need. Throws FLOWPOOL_INVALID_OPTIONS naming the field as `createRuntime` would (`options.profiles.<name>...`).
   */
  set(name: unknown, settings: unknown): readonly [number, WorkerProfile] {
    return guardedOptions(() => {
      if (typeof name !== 'string') {
        throw new FlowpoolError(
          'FLOWPOOL_INVALID_OPTIONS',
          `invalid options: options.profiles: expected a profile name (a string), received ${describeKind(name)}`,
          { field: 'options.profiles' },
        );
      }
      const input = { profiles: { [name]: settings } };
      refuseForbiddenKeys('FLOWPOOL_INVALID_OPTIONS', 'options', input, ['profiles']);
      const result = oneProfileSchema.safeParse(input);
      if (!result.success)
        throw toValidationError('FLOWPOOL_INVALID_OPTIONS', 'options', result.error.issues, input, {
          schema: oneProfileSchema,
        });
      const parsed = result.data.profiles[name] as ProfileSettingsParsed;
      const entry = this.#install(name, parsed);
      return [entry.index, entry.worker] as const;
    });
  }

  #install(name: string, settings: ProfileSettingsParsed): ProfileEntry {
    const resolved = resolveProfile(this.#options, settings);
    const index = this.#byName.get(name)?.index ?? this.#policies.length;
    // Built before anything changes: a bad proxy variable ('env') throws here and leaves the table as it was.
    const worker = profileBootData(resolved);
    const defaults = { headers: resolved.headers, hostHeaders: resolved.hostHeaders, hostAuth: resolved.hostAuth };
    const policy = DestinationPolicy.compile(resolved.policy);
    const entry: ProfileEntry = {
      index,
      defaults,
      policy,
      // A new one per change: the facts cached per origin under the old settings go with it.
      plain: new PlainJobs({ ...this.#options, ...defaults }, policy),
      worker,
    };
    this.#byName.set(name, entry);
    this.#policies[index] = entry.policy;
    return entry;
  }
}
