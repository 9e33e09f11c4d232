// The benchmark member's consumer-protocol pieces: Kafka's range assignment and the versioned
// subscription and assignment encodings the coordinator and other clients read.
import { describe, expect, it } from 'vitest';
import { decodeSubscription } from '../broker/group/classic-group.ts';
import { decodeAssignment, decodeSubscribedTopics, encodeAssignment, encodeSubscription, rangeAssign } from './group-member.ts';

describe('rangeAssign', () => {
  it('gives contiguous ranges in member id order, the first members one extra', () => {
    const plan = rangeAssign(
      new Map([
        ['c', ['t']],
        ['a', ['t']],
        ['b', ['t']],
      ]),
      new Map([['t', 8]]),
    );
    expect(plan.get('a')!.get('t')).toEqual([0, 1, 2]);
    expect(plan.get('b')!.get('t')).toEqual([3, 4, 5]);
    expect(plan.get('c')!.get('t')).toEqual([6, 7]);
  });

  it('assigns each topic among its own subscribers; more members than partitions leaves some empty', () => {
    const plan = rangeAssign(
      new Map([
        ['m1', ['x', 'y']],
        ['m2', ['y']],
        ['m3', ['y']],
      ]),
      new Map([
        ['x', 2],
        ['y', 2],
      ]),
    );
    expect(plan.get('m1')).toEqual(new Map([['x', [0, 1]], ['y', [0]]]));
    expect(plan.get('m2')).toEqual(new Map([['y', [1]]]));
    expect(plan.get('m3')).toEqual(new Map());
  });

  it('covers every partition exactly once for any member count', () => {
    for (const members of [1, 3, 7, 30, 61]) {
      const subs = new Map(Array.from({ length: members }, (_, i) => [`member-${String(i).padStart(2, '0')}`, ['t']] as const));
      const plan = rangeAssign(subs, new Map([['t', 60]]));
      const all = [...plan.values()].flatMap((a) => a.get('t') ?? []).sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: 60 }, (_, i) => i));
    }
  });
});

describe('consumer protocol encodings', () => {
  it('a subscription is version-prefixed and read by the coordinator as sent', () => {
    const bytes = encodeSubscription(['orders', 'refunds'], new Map([['orders', [2, 3]]]), 7);
    expect(bytes.readInt16BE(0)).toBe(3);
    expect(decodeSubscribedTopics(bytes)).toEqual(['orders', 'refunds']);
    expect(decodeSubscription(bytes)).toMatchObject({ topics: ['orders', 'refunds'], userData: null, ownedPartitions: [{ topic: 'orders', partitions: [2, 3] }], generationId: 7, rackId: null });
  });

  it('an assignment round-trips, and an empty one means no partitions', () => {
    const a = new Map([
      ['orders', [0, 1]],
      ['refunds', [4]],
    ]);
    const bytes = encodeAssignment(a);
    expect(bytes.readInt16BE(0)).toBe(3);
    expect(decodeAssignment(bytes)).toEqual(a);
    expect(decodeAssignment(Buffer.alloc(0))).toEqual(new Map());
  });
});
