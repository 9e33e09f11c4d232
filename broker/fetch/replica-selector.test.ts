import { describe, expect, it } from 'vitest';
import { EMPTY_IMAGE, type BrokerRegistration, type MetadataImage } from '../../controller/metadata/image.ts';
import type { Partition } from '../replica/partition.ts';
import { LEADER_SELECTOR, preferredReadReplica, RACK_AWARE_SELECTOR, replicaSelectorFor } from './replica-selector.ts';

function image(racks: Record<number, string | null>, fenced: number[] = []): MetadataImage {
  const brokers = new Map<number, BrokerRegistration>();
  for (const [id, rack] of Object.entries(racks)) {
    brokers.set(Number(id), { id: Number(id), epoch: 1n, incarnationId: '', endpoints: [], rack, fenced: fenced.includes(Number(id)), inControlledShutdown: false, logDirs: [] });
  }
  return { ...EMPTY_IMAGE, brokers };
}

/** A leader on broker 1 with log end 100 and followers at the given log ends. */
function partition(isr: number[], followerEnds: Record<number, number>, caughtUpAt: Record<number, number> = {}, isLeader = true): Partition {
  return {
    isLeader,
    leaderId: 1,
    isr,
    log: { logEndOffset: 100 },
    followers: { get: (id: number) => (id in followerEnds ? { replicaId: id, logEndOffset: followerEnds[id], lastCaughtUpTimeMs: caughtUpAt[id] ?? 1000 } : undefined) },
  } as unknown as Partition;
}

const rackAware = replicaSelectorFor(RACK_AWARE_SELECTOR)!;
const racks = { 1: 'a', 2: 'b', 3: 'c', 4: 'b' };

describe('replica selectors (KIP-392)', () => {
  it('sends a consumer to the in-sync follower in its rack that has its offset', () => {
    expect(preferredReadReplica(rackAware, partition([1, 2, 3], { 2: 100, 3: 100 }), image(racks), 'b', 50, 1000)).toBe(2);
    expect(preferredReadReplica(rackAware, partition([1, 2, 3], { 2: 100, 3: 100 }), image(racks), 'c', 100, 1000)).toBe(3);
  });

  it('keeps the consumer on the leader when the leader is in its rack, no replica is, or it names no rack', () => {
    expect(preferredReadReplica(rackAware, partition([1, 2, 3], { 2: 100, 3: 100 }), image(racks), 'a', 50, 1000)).toBe(-1);
    expect(preferredReadReplica(rackAware, partition([1, 2, 3], { 2: 100, 3: 100 }), image(racks), 'z', 50, 1000)).toBe(-1);
    expect(preferredReadReplica(rackAware, partition([1, 2, 3], { 2: 100, 3: 100 }), image(racks), '', 50, 1000)).toBe(-1);
  });

  it('passes over followers out of the ISR, behind the fetch offset, or fenced', () => {
    expect(preferredReadReplica(rackAware, partition([1, 3], { 2: 100, 3: 100 }), image(racks), 'b', 50, 1000)).toBe(-1);
    expect(preferredReadReplica(rackAware, partition([1, 2, 3], { 2: 40, 3: 100 }), image(racks), 'b', 50, 1000)).toBe(-1);
    expect(preferredReadReplica(rackAware, partition([1, 2, 3], { 2: 100, 3: 100 }), image(racks, [2]), 'b', 50, 1000)).toBe(-1);
  });

  it('picks the most caught-up replica of the rack, then the most recently caught up', () => {
    expect(preferredReadReplica(rackAware, partition([1, 2, 4], { 2: 90, 4: 95 }), image(racks), 'b', 50, 1000)).toBe(4);
    expect(preferredReadReplica(rackAware, partition([1, 2, 4], { 2: 95, 4: 95 }, { 2: 900, 4: 500 }), image(racks), 'b', 50, 1000)).toBe(2);
  });

  it('only a leader redirects; the leader selector never does; unknown classes are refused', () => {
    expect(preferredReadReplica(rackAware, partition([1, 2, 3], { 2: 100 }, {}, false), image(racks), 'b', 50, 1000)).toBe(-1);
    expect(preferredReadReplica(replicaSelectorFor(LEADER_SELECTOR)!, partition([1, 2, 3], { 2: 100 }), image(racks), 'b', 50, 1000)).toBe(-1);
    expect(replicaSelectorFor(null)).toBeNull();
    expect(() => replicaSelectorFor('com.example.Selector')).toThrow(TypeError);
  });
});
