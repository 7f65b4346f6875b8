/**
 * One dispatcher per profile in use on this worker, each with its own TLS settings, proxy route and policy, all
 * under the same shared connection counters (so `connectionsPerHost` counts every profile's sockets to an
 * origin: the server does not care which profile a socket belongs to). Index 0, the runtime's own settings,
 * is built at load; any other is built when its first job arrives. A replaced profile's dispatcher takes no
 * new job and closes once its last job has ended (undici's `close()` would also wait for the requests in
 * flight, but a job in flight may still follow a redirect or resend on it).
 */
import { DestinationPolicy } from '../../policy/index.js';
import type { ProfilesMessage, WorkerProfile } from '../../wire/protocol.js';
import type { WorkerDispatcher } from './agent.js';

/** What a job runs on: its profile's dispatcher and policy. */
export interface ProfileLane {
  readonly dispatcher: WorkerDispatcher;
  readonly policy: DestinationPolicy;
  /** Jobs running on it. */
  running: number;
  /** Replaced: closes when `running` reaches 0. */
  retired: boolean;
}

export type DispatcherFactory = (policy: DestinationPolicy, profile: WorkerProfile | undefined) => WorkerDispatcher;

export class ProfileLanes {
  readonly #make: DispatcherFactory;
  /** Profile index -> settings, as the main thread sent them (index 0 is never sent: it is the boot data's). */
  readonly #settings = new Map<number, WorkerProfile>();
  /** Profile index -> the lane new jobs of that profile run on. */
  readonly #lanes = new Map<number, ProfileLane>();
  /** Replaced lanes whose jobs have not all ended. */
  readonly #retiring = new Set<ProfileLane>();

  constructor(defaultPolicy: DestinationPolicy, make: DispatcherFactory) {
    this.#make = make;
    this.#lanes.set(0, {
      dispatcher: make(defaultPolicy, undefined),
      policy: defaultPolicy,
      running: 0,
      retired: false,
    });
  }

  /** The runtime's own lane (profile 0). */
  get default(): ProfileLane {
    return this.#lanes.get(0) as ProfileLane;
  }

  /** The lane for a job of profile `index`, built on first use; undefined for an index never installed. */
  laneFor(index: number): ProfileLane | undefined {
    const known = this.#lanes.get(index);
    if (known !== undefined) return known;
    const settings = this.#settings.get(index);
    if (settings === undefined) return undefined;
    const policy = DestinationPolicy.compile(settings.policy);
    const lane: ProfileLane = { dispatcher: this.#make(policy, settings), policy, running: 0, retired: false };
    this.#lanes.set(index, lane);
    return lane;
  }

  /** Profiles installed or replaced: a replaced profile's lane serves the jobs it has, and no new one. */
  install(message: ProfilesMessage): void {
    for (const [index, settings] of message.profiles) {
      if (index === 0) continue;
      this.#settings.set(index, settings);
      const previous = this.#lanes.get(index);
      if (previous === undefined) continue;
      this.#lanes.delete(index);
      previous.retired = true;
      if (previous.running === 0) close(previous);
      else this.#retiring.add(previous);
    }
  }

  jobStarted(lane: ProfileLane): void {
    lane.running++;
  }

  jobEnded(lane: ProfileLane): void {
    lane.running--;
    if (lane.retired && lane.running === 0 && this.#retiring.delete(lane)) close(lane);
  }

  /** Every lane that may hold sockets (for stats and for abandoning dials). */
  *all(): IterableIterator<ProfileLane> {
    yield* this.#lanes.values();
    yield* this.#retiring;
  }
}

function close(lane: ProfileLane): void {
  // Nothing of it is in use any more: its idle sockets close now (each gives its connection unit back).
  lane.dispatcher.agent.close().catch(() => undefined);
}
