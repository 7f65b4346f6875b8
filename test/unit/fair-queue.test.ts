/**
 * The deficit-round-robin queue on its own: one tenant is a FIFO, backlogged tenants are served in the
 * ratio of their quanta, a tenant arriving behind a flood is served within one round, and emptied lanes
 * forfeit their credit.
 */
import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../dist/src/scheduling/fair-queue.js';

function drain<T>(queue: FairQueue<T>, count = Infinity): T[] {
  const out: T[] = [];
  while (out.length < count && queue.size > 0) {
    const peeked = queue.peek();
    const item = queue.shift();
    expect(item).toBe(peeked);
    out.push(item as T);
  }
  return out;
}

describe('FairQueue', () => {
  it('with one tenant is a plain FIFO', () => {
    const queue = new FairQueue<number>();
    for (let i = 0; i < 3000; i++) queue.push('a', i);
    expect(queue.size).toBe(3000);
    expect(drain(queue)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(queue.size).toBe(0);
    expect(queue.shift()).toBeUndefined();
    expect(queue.peek()).toBeUndefined();
  });

  it('keeps each tenant in its own submission order', () => {
    const queue = new FairQueue<string>();
    for (let i = 0; i < 50; i++) queue.push(i % 3 === 0 ? 'x' : 'y', `${i % 3 === 0 ? 'x' : 'y'}${i}`);
    const served = drain(queue);
    const xs = served.filter((s) => s.startsWith('x')).map((s) => Number(s.slice(1)));
    const ys = served.filter((s) => s.startsWith('y')).map((s) => Number(s.slice(1)));
    expect(xs).toEqual([...xs].sort((p, q) => p - q));
    expect(ys).toEqual([...ys].sort((p, q) => p - q));
  });

  it('serves a tenant arriving behind a 10,000-item flood in alternation (equal weights)', () => {
    const queue = new FairQueue<string>();
    for (let i = 0; i < 10_000; i++) queue.push('flood', 'A');
    drain(queue, 100);
    for (let i = 0; i < 20; i++) queue.push('small', 'B');
    const next = drain(queue, 40);
    expect(next.filter((s) => s === 'B')).toHaveLength(20);
    expect(next.lastIndexOf('B')).toBeLessThanOrEqual(39);
    // Strict alternation while both wait.
    for (let i = 0; i + 1 < next.length; i++) expect(next[i]).not.toBe(next[i + 1]);
  });

  it('serves backlogged tenants in the ratio of their quanta (3:1, 3:2, 1:1:2)', () => {
    const cases: [Record<string, number>, number][] = [
      [{ a: 3, b: 1 }, 400],
      [{ a: 1.5, b: 1 }, 500],
      [{ a: 1, b: 1, c: 2 }, 400],
    ];
    for (const [quanta, window] of cases) {
      const queue = new FairQueue<string>((tenant) => quanta[tenant] ?? 1);
      for (const tenant of Object.keys(quanta)) for (let i = 0; i < 2000; i++) queue.push(tenant, tenant);
      const served = drain(queue, window);
      const total = Object.values(quanta).reduce((x, y) => x + y, 0);
      for (const [tenant, quantum] of Object.entries(quanta)) {
        const share = served.filter((s) => s === tenant).length;
        // Exact within one quantum over the window.
        expect(Math.abs(share - (window * quantum) / total)).toBeLessThanOrEqual(Math.ceil(quantum) + 1);
      }
    }
  });

  it('a quantum below 1 still gets served, in proportion', () => {
    const queue = new FairQueue<string>((tenant) => (tenant === 'slow' ? 0.25 : 1));
    for (let i = 0; i < 1000; i++) {
      queue.push('slow', 's');
      queue.push('fast', 'f');
    }
    const served = drain(queue, 500);
    expect(served.filter((s) => s === 's').length).toBe(100);
  });

  it('an emptied lane forfeits its credit and the tenant queues afresh', () => {
    const quantumCalls: string[] = [];
    const queue = new FairQueue<string>((tenant) => {
      quantumCalls.push(tenant);
      return tenant === 'big' ? 5 : 1;
    });
    queue.push('big', 'b1');
    queue.push('other', 'o1');
    queue.push('other', 'o2');
    expect(drain(queue, 1)).toEqual(['b1']);
    expect(queue.sizeOf('big')).toBe(0);
    expect(queue.tenants).toBe(1);
    // big had 4 credits left when its lane emptied; they are gone: it now waits behind other's turn.
    queue.push('big', 'b2');
    queue.push('big', 'b3');
    expect(drain(queue)).toEqual(['o1', 'b2', 'b3', 'o2']);
    expect(quantumCalls).toEqual(['big', 'other', 'big']);
  });

  it('stays O(1) per item with 1,000 tenants: 100,000 items drain round by round', () => {
    const queue = new FairQueue<number>();
    for (let i = 0; i < 100_000; i++) queue.push(`t${i % 1000}`, i);
    expect(queue.tenants).toBe(1000);
    const firstRound = drain(queue, 1000);
    expect(new Set(firstRound.map((i) => i % 1000)).size).toBe(1000);
    let rest = 0;
    while (queue.shift() !== undefined) rest++;
    expect(rest).toBe(99_000);
    expect(queue.tenants).toBe(0);
  });
});
