/** The shared open-connection counters, on one thread: the cap, release, a dead worker's reset, waiting. */
import { describe, expect, it } from 'vitest';
import { ConnectionCounters } from '../../dist/src/wire/connection-counters.js';

describe('ConnectionCounters', () => {
  it('tryAcquire takes units up to the cap over all workers, and no further', () => {
    const counters = ConnectionCounters.allocate(4, 2);
    expect(counters.tryAcquire(1, 0, 3)).toBe(true);
    expect(counters.tryAcquire(1, 1, 3)).toBe(true);
    expect(counters.tryAcquire(1, 1, 3)).toBe(true);
    expect(counters.tryAcquire(1, 0, 3)).toBe(false);
    expect(counters.tryAcquire(1, 1, 3)).toBe(false);
    expect(counters.total(1)).toBe(3);
    expect(counters.open(1, 0)).toBe(1);
    expect(counters.open(1, 1)).toBe(2);
    // Other slots are untouched.
    expect(counters.total(0)).toBe(0);
    expect(counters.tryAcquire(2, 0, 3)).toBe(true);
    expect(counters.total(2)).toBe(1);
  });

  it('release frees a unit for anyone', () => {
    const counters = ConnectionCounters.allocate(1, 2);
    expect(counters.tryAcquire(0, 0, 1)).toBe(true);
    expect(counters.tryAcquire(0, 1, 1)).toBe(false);
    counters.release(0, 0);
    expect(counters.total(0)).toBe(0);
    expect(counters.open(0, 0)).toBe(0);
    expect(counters.tryAcquire(0, 1, 1)).toBe(true);
    expect(counters.open(0, 1)).toBe(1);
  });

  it("resetWorker subtracts a dead worker's units from every total and keeps the others'", () => {
    const counters = ConnectionCounters.allocate(3, 3);
    for (let i = 0; i < 4; i++) counters.tryAcquire(0, 1, 10);
    counters.tryAcquire(0, 2, 10);
    counters.tryAcquire(2, 1, 10);
    counters.tryAcquire(2, 0, 10);

    counters.resetWorker(1);

    expect(counters.open(0, 1)).toBe(0);
    expect(counters.open(2, 1)).toBe(0);
    expect(counters.total(0)).toBe(1);
    expect(counters.total(2)).toBe(1);
    expect(counters.open(0, 2)).toBe(1);
    expect(counters.open(2, 0)).toBe(1);
    expect(counters.total(1)).toBe(0);
  });

  it('shares one buffer: a second view over it sees the same counts', () => {
    const counters = ConnectionCounters.allocate(2, 2);
    const other = new ConnectionCounters(counters.buffer, 2, 2);
    expect(other.tryAcquire(1, 1, 1)).toBe(true);
    expect(counters.total(1)).toBe(1);
    expect(counters.tryAcquire(1, 0, 1)).toBe(false);
    expect(() => new ConnectionCounters(counters.buffer, 3, 2)).toThrow(RangeError);
  });

  it('acquire waits for a unit and takes it when another holder releases', async () => {
    const counters = ConnectionCounters.allocate(1, 2);
    expect(counters.tryAcquire(0, 0, 1)).toBe(true);
    let settled = false;
    const waiting = counters.acquire(0, 1, 1, 5_000).then((taken) => {
      settled = true;
      return taken;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(settled).toBe(false);
    counters.release(0, 0);
    await expect(waiting).resolves.toBe(true);
    expect(counters.open(0, 1)).toBe(1);
    expect(counters.total(0)).toBe(1);
  });

  it('acquire wakes when a dead worker is reset', async () => {
    const counters = ConnectionCounters.allocate(1, 2);
    counters.tryAcquire(0, 0, 1);
    const waiting = counters.acquire(0, 1, 1, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    counters.resetWorker(0);
    await expect(waiting).resolves.toBe(true);
    expect(counters.open(0, 1)).toBe(1);
  });

  it('acquire gives up after its timeout and returns false, taking nothing', async () => {
    const counters = ConnectionCounters.allocate(1, 2);
    counters.tryAcquire(0, 0, 1);
    await expect(counters.acquire(0, 1, 1, 50)).resolves.toBe(false);
    expect(counters.total(0)).toBe(1);
    expect(counters.open(0, 1)).toBe(0);
  });
});
