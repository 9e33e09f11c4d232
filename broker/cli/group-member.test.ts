import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeSubscription } from '../group/classic-group.ts';
import { decodeAssignment, decodeSubscribedTopics, encodeAssignment, encodeSubscription, rangeAssign } from './group-member.ts';

describe('rangeAssign (Kafka RangeAssignor)', () => {
  it('gives the first n%m members one extra partition, members sorted by id', () => {
    const subs = new Map([
      ['m-b', ['t']],
      ['m-a', ['t']],
      ['m-c', ['t']],
    ]);
    const plan = rangeAssign(subs, new Map([['t', 7]]));
    expect(plan.get('m-a')!.get('t')).toEqual([0, 1, 2]);
    expect(plan.get('m-b')!.get('t')).toEqual([3, 4]);
    expect(plan.get('m-c')!.get('t')).toEqual([5, 6]);
  });

  it('assigns per topic, to its subscribers only, and leaves extra members empty', () => {
    const subs = new Map([
      ['a', ['t1', 't2']],
      ['b', ['t1']],
      ['c', ['t1']],
    ]);
    const plan = rangeAssign(subs, new Map([['t1', 2], ['t2', 3]]));
    expect(plan.get('a')).toEqual(new Map([['t1', [0]], ['t2', [0, 1, 2]]]));
    expect(plan.get('b')).toEqual(new Map([['t1', [1]]]));
    expect(plan.get('c')).toEqual(new Map());
  });

  it('skips topics of unknown size', () => {
    const plan = rangeAssign(new Map([['a', ['gone']]]), new Map());
    expect(plan.get('a')).toEqual(new Map());
  });

  it('covers every partition exactly once with sizes differing by at most one', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 64 }), (members, count) => {
        const plan = rangeAssign(new Map(members.map((m) => [m, ['t']])), new Map([['t', count]]));
        const all = [...plan.values()].flatMap((a) => a.get('t') ?? []);
        expect(all.sort((x, y) => x - y)).toEqual(Array.from({ length: count }, (_, i) => i));
        const sizes = [...plan.values()].map((a) => a.get('t')?.length ?? 0);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });
});

describe('consumer protocol metadata', () => {
  it('round-trips subscriptions and assignments with the version prefix', () => {
    const sub = encodeSubscription(['a', 'b'], new Map([['a', [1]]]), 4);
    expect(sub.readInt16BE(0)).toBe(3);
    expect(decodeSubscribedTopics(sub)).toEqual(['a', 'b']);
    const a = new Map([['a', [0, 2]], ['b', [1]]]);
    expect(decodeAssignment(encodeAssignment(a))).toEqual(a);
    expect(decodeAssignment(Buffer.alloc(0))).toEqual(new Map());
  });

  it('writes subscriptions the coordinator reads as sent', () => {
    const bytes = encodeSubscription(['orders', 'refunds'], new Map([['orders', [2, 3]]]), 7);
    expect(decodeSubscription(bytes)).toMatchObject({ topics: ['orders', 'refunds'], userData: null, ownedPartitions: [{ topic: 'orders', partitions: [2, 3] }], generationId: 7, rackId: null });
  });

  it('reads a v0 assignment (older clients)', () => {
    // version 0, one topic "t" with partitions [5], null user data
    const bytes = Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0, 0, 0, 1, 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff]);
    expect(decodeAssignment(bytes)).toEqual(new Map([['t', [5]]]));
  });
});
