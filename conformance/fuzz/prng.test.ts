import { describe, expect, it } from 'vitest';
import { Prng } from './prng.ts';

describe('Prng', () => {
  it('gives the same stream for the same seed and another for another seed', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const xs = Array.from({ length: 50 }, () => a.u32());
    expect(Array.from({ length: 50 }, () => b.u32())).toEqual(xs);
    expect(Array.from({ length: 50 }, () => c.u32())).not.toEqual(xs);
  });

  it('draws integers in range, roughly evenly', () => {
    const r = new Prng(7);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const x = r.range(0, 3);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(3);
      counts[x]!++;
    }
    for (const n of counts) expect(n).toBeGreaterThan(800);
  });

  it('forks streams that depend only on the parent seed and fork order', () => {
    const p1 = new Prng(9);
    const p2 = new Prng(9);
    const f1 = [p1.fork(), p1.fork()];
    const f2 = [p2.fork(), p2.fork()];
    expect(f1[1]!.u32()).toBe(f2[1]!.u32());
    expect(f1[0]!.u32()).not.toBe(f1[1]!.u32());
  });
});
