/**
 * A worker's lanes (src/worker/connect/profile-lanes.ts), with real undici Agents under the guarded connector
 * (test/fixtures/worker-side.ts) and no thread: the runtime's lane exists at once, a profile's is built at its
 * first job, and a replaced profile's dispatcher takes no new job and closes when its last job ends.
 */
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../dist/src/config/options.js';
import { profileBootData, resolveProfile } from '../../dist/src/config/profile-options.js';
import { ProfileLanes } from '../../dist/src/worker/connect/profile-lanes.js';
import { DestinationPolicy } from '../../dist/src/policy/index.js';
import { workerSide } from '../fixtures/worker-side.js';

const ORIGIN = 'http://127.0.0.1:9';

function lanesWithCount(): { lanes: ProfileLanes; built: () => number } {
  let built = 0;
  const lanes = new ProfileLanes(DestinationPolicy.compile(), () => {
    built++;
    return workerSide(ORIGIN, { workers: 1, shard: 0, cap: 4 }, () => undefined).dispatcher;
  });
  return { lanes, built: () => built };
}

const options = parseOptions({ workers: 1 });
const profile = (allow: string[]) => profileBootData(resolveProfile(options, { policy: { allow, deny: [] } }), {});

describe('profile lanes', () => {
  it('builds the runtime’s lane at once and a profile’s at its first job, once', () => {
    const { lanes, built } = lanesWithCount();
    expect(built()).toBe(1);
    expect(lanes.laneFor(0)).toBe(lanes.default);
    expect(lanes.laneFor(1)).toBeUndefined();
    lanes.install({ type: 'profiles', profiles: [[1, profile(['10.0.0.0/8'])]] });
    expect(built()).toBe(1);
    const lane = lanes.laneFor(1);
    expect(lanes.laneFor(1)).toBe(lane);
    expect(built()).toBe(2);
    expect(lane?.policy.checkAddress('10.1.2.3').allowed).toBe(true);
    expect(lanes.default.policy.checkAddress('10.1.2.3').allowed).toBe(false);
  });

  it('a replaced profile’s lane takes no new job and closes when its last job ends', () => {
    const { lanes } = lanesWithCount();
    lanes.install({ type: 'profiles', profiles: [[1, profile(['10.0.0.0/8'])]] });
    const old = lanes.laneFor(1);
    if (old === undefined) throw new Error('no lane');
    lanes.jobStarted(old);
    lanes.install({ type: 'profiles', profiles: [[1, profile(['192.168.0.0/16'])]] });
    const replacement = lanes.laneFor(1);
    expect(replacement).not.toBe(old);
    expect(replacement?.policy.checkAddress('192.168.1.1').allowed).toBe(true);
    expect([...lanes.all()]).toContain(old);
    expect(old.dispatcher.agent.closed).toBe(false);
    lanes.jobEnded(old);
    expect(old.dispatcher.agent.closed).toBe(true);
    expect([...lanes.all()]).not.toContain(old);
    expect(replacement?.dispatcher.agent.closed).toBe(false);
  });

  it('a replaced profile’s lane with no job closes at once; one never used is never built', () => {
    const { lanes, built } = lanesWithCount();
    lanes.install({ type: 'profiles', profiles: [[2, profile([])]] });
    const idle = lanes.laneFor(2);
    lanes.install({
      type: 'profiles',
      profiles: [
        [2, profile([])],
        [3, profile([])],
      ],
    });
    expect(idle?.dispatcher.agent.closed).toBe(true);
    expect(built()).toBe(2);
  });
});
