/**
 * The worker's chunk coalescer, without threads or sockets: bytes come out as they went in, a body in
 * one piece is not copied, and a body framed one byte per chunk comes out in a few blocks.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../dist/src/worker/request/coalescer.js';

const BLOCK = 1024;

function run(chunks: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  const coalescer = new Coalescer(BLOCK, (block) => out.push(block));
  for (const chunk of chunks) coalescer.push(chunk);
  coalescer.flush();
  return out;
}

describe('Coalescer', () => {
  it('passes a lone small chunk through as the same Buffer (the usual small body costs no copy)', () => {
    const chunk = Buffer.from('a small body');
    const out = run([chunk]);
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(chunk);
  });

  it('turns 10,000 one-byte chunks into full blocks and a short tail, bytes in order', () => {
    const body = randomBytes(10_000);
    const out = run([...body].map((byte) => Buffer.from([byte])));
    expect(out.map((b) => b.length)).toEqual([...Array<number>(9).fill(BLOCK), 10_000 - 9 * BLOCK]);
    expect(Buffer.concat(out).equals(body)).toBe(true);
  });

  it('copies a short tail out instead of keeping a whole block alive behind it', () => {
    const blockBytes = 65_536; // the worker's size, above Node's 8 KiB pool for small Buffers
    const out: Buffer[] = [];
    const coalescer = new Coalescer(blockBytes, (block) => out.push(block));
    coalescer.push(Buffer.from('ab'));
    coalescer.push(Buffer.from('cd'));
    coalescer.flush();
    expect(out.map((b) => b.toString())).toEqual(['abcd']);
    expect(out[0]?.buffer.byteLength).toBeLessThan(blockBytes);
  });

  it('lets a large chunk through as it is, after the small bytes gathered before it', () => {
    const large = randomBytes(BLOCK);
    const out = run([Buffer.from('x'), Buffer.from('y'), large, Buffer.from('z')]);
    expect(out.map((b) => b.length)).toEqual([2, BLOCK, 1]);
    expect(out[1]).toBe(large);
    expect(Buffer.concat(out).equals(Buffer.concat([Buffer.from('xy'), large, Buffer.from('z')]))).toBe(true);
  });

  it('emits nothing for no input, and nothing twice', () => {
    const out: Buffer[] = [];
    const coalescer = new Coalescer(BLOCK, (block) => out.push(block));
    coalescer.flush();
    coalescer.push(Buffer.from('q'));
    coalescer.flush();
    coalescer.flush();
    expect(out.map((b) => b.toString())).toEqual(['q']);
  });
});
