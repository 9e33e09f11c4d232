import { describe, expect, it } from 'vitest';
import { FuzzContext, Journal } from './context.ts';
import { Prng } from './prng.ts';

describe('Journal', () => {
  it('keeps the last entries in order and counts them all', () => {
    const j = new Journal(3);
    for (let i = 0; i < 5; i++) j.add(`lane${i % 2}`, `action ${i}`);
    expect(j.total).toBe(5);
    expect(j.last().map((e) => e.action)).toEqual(['action 2', 'action 3', 'action 4']);
    expect(j.latestPerLane().split('\n').map((l) => l.trim().split(/\s+/).slice(1).join(' '))).toEqual(['lane1 action 3', 'lane0 action 4']);
  });

  it('shortens very long actions', () => {
    const j = new Journal(2);
    j.add('raw', 'x'.repeat(1000));
    expect(j.last()[0]!.action.length).toBeLessThan(410);
  });
});

describe('FuzzContext draws', () => {
  // A lane's stream must not depend on what the broker answered: reading a pool or the advertised
  // versions takes exactly one draw whatever they hold.
  it('takes one draw from a pool whether it is empty or not', () => {
    const ctx = new FuzzContext(0, new Map([[1, { min: 0, max: 5 }]]), 0);
    const a = new Prng(5);
    const b = new Prng(5);
    ctx.pickFrom(a, [], 'none');
    ctx.pickFrom(b, ['x', 'y', 'z'], 'none');
    expect(a.u32()).toBe(b.u32());
    ctx.version(a, 1);
    ctx.version(b, 99);
    expect(a.u32()).toBe(b.u32());
  });

  it('picks versions inside the advertised range and the bound asked for', () => {
    const ctx = new FuzzContext(0, new Map([[1, { min: 4, max: 17 }]]), 0);
    const r = new Prng(1);
    for (let i = 0; i < 200; i++) {
      const v = ctx.version(r, 1, 7)!;
      expect(v).toBeGreaterThanOrEqual(7);
      expect(v).toBeLessThanOrEqual(17);
    }
    expect(ctx.version(r, 1, 18)).toBeUndefined();
    expect(ctx.version(r, 2)).toBeUndefined();
  });
});
