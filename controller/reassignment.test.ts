import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/errors.ts';
import type { AlterPartitionRequest } from '../protocol/generated/message/alter-partition-request.ts';
import { alterPartition } from './alter-partition.ts';
import type { MetadataImage, PartitionImage } from './metadata/image.ts';
import type { MetadataRecord } from './metadata/record-serde.ts';
import { applyRecords, TEST_TOPIC_ID, testCluster } from './test-images.ts';
import { alterPartitionReassignments, completeReassignments, hasCompletableReassignment, listPartitionReassignments } from './reassignment.ts';

const TOPIC_ID = TEST_TOPIC_ID;
const apply = applyRecords;

/** Brokers 1..6 unfenced (epoch 10 * id); topic t with one partition on `replicas`, led by the first. */
const cluster = (replicas = [1, 2, 3]): MetadataImage => testCluster([{ replicas, isr: replicas, leader: replicas[0]! }], { brokers: [1, 2, 3, 4, 5, 6] });

const part = (image: MetadataImage): PartitionImage => image.topicsById.get(TOPIC_ID)!.partitions[0]!;

function reassign(image: MetadataImage, replicas: number[] | null): { image: MetadataImage; errorCode: number; errorMessage: string | null; records: MetadataRecord[] } {
  const r = alterPartitionReassignments(image, [{ name: 't', partitions: [{ partitionIndex: 0, replicas }] }]);
  const a = r.response[0]!.partitions[0]!;
  return { image: apply(image, r.records), errorCode: a.errorCode, errorMessage: a.errorMessage, records: r.records };
}

/** The leader asks the controller to take `isr` (as it does when a follower catches up). */
function leaderSetsIsr(image: MetadataImage, isr: number[]): MetadataImage {
  const p = part(image);
  const req: AlterPartitionRequest = {
    brokerId: p.leader,
    brokerEpoch: BigInt(p.leader * 10),
    topics: [{ topicId: TOPIC_ID, partitions: [{ partitionIndex: 0, leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch, leaderRecoveryState: 0, newIsrWithEpochs: isr.map((id) => ({ brokerId: id, brokerEpoch: BigInt(id * 10) })) }] }],
  };
  const r = alterPartition(image, req, 3);
  expect(r.response.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
  return apply(image, r.records);
}

/** What the quorum controller does after each commit: complete what can complete. */
function settle(image: MetadataImage): MetadataImage {
  if (!hasCompletableReassignment(image, [TOPIC_ID])) return image;
  return apply(image, completeReassignments(image, [TOPIC_ID]).records);
}

describe('partition reassignment', () => {
  it('starts with replicas = target + removing, adding/removing set, ISR and leader unchanged', () => {
    const r = reassign(cluster(), [2, 3, 4]);
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.records).toHaveLength(1);
    expect(part(r.image)).toMatchObject({ replicas: [2, 3, 4, 1], addingReplicas: [4], removingReplicas: [1], isr: [1, 2, 3], leader: 1, leaderEpoch: 0 });
    expect(hasCompletableReassignment(r.image, [TOPIC_ID])).toBe(false);
    expect(listPartitionReassignments(r.image, null)).toEqual([{ name: 't', partitions: [{ partitionIndex: 0, replicas: [2, 3, 4, 1], addingReplicas: [4], removingReplicas: [1] }] }]);
  });

  it('progresses as the ISR grows and completes once every target replica is in it, moving the leader off a removed replica', () => {
    let image = reassign(cluster(), [3, 4, 5]).image;
    expect(part(image)).toMatchObject({ replicas: [3, 4, 5, 1, 2], addingReplicas: [4, 5], removingReplicas: [1, 2] });
    image = settle(leaderSetsIsr(image, [1, 2, 3, 4]));
    // 5 is not in sync yet: still going on.
    expect(part(image)).toMatchObject({ replicas: [3, 4, 5, 1, 2], isr: [3, 4, 1, 2], addingReplicas: [4, 5], leader: 1 });
    image = leaderSetsIsr(image, [1, 2, 3, 4, 5]);
    expect(hasCompletableReassignment(image, [TOPIC_ID])).toBe(true);
    const before = part(image);
    image = settle(image);
    expect(part(image)).toMatchObject({ replicas: [3, 4, 5], isr: [3, 4, 5], addingReplicas: [], removingReplicas: [], leader: 3, leaderEpoch: before.leaderEpoch + 1 });
    expect(part(image).directories).toHaveLength(3);
    expect(listPartitionReassignments(image, null)).toEqual([]);
    expect(completeReassignments(image).records).toEqual([]);
  });

  it('keeps the leader when it stays a replica', () => {
    let image = reassign(cluster(), [1, 2, 4]).image;
    image = settle(leaderSetsIsr(image, [1, 2, 3, 4]));
    expect(part(image)).toMatchObject({ replicas: [1, 2, 4], isr: [1, 2, 4], leader: 1, leaderEpoch: 0 });
  });

  it('completes a pure removal (or reordering) in the same record', () => {
    const r = reassign(cluster(), [2, 3]);
    expect(r.records).toHaveLength(1);
    expect(part(r.image)).toMatchObject({ replicas: [2, 3], isr: [2, 3], addingReplicas: [], removingReplicas: [], leader: 2 });
    const reorder = reassign(cluster(), [3, 1, 2]);
    expect(part(reorder.image)).toMatchObject({ replicas: [3, 1, 2], isr: [1, 2, 3], leader: 1 });
    // The same replicas again change nothing.
    expect(reassign(cluster(), [1, 2, 3]).records).toEqual([]);
  });

  it('cancels back to the original replicas; the adding replicas leave the ISR', () => {
    let image = reassign(cluster(), [4, 5, 6]).image;
    image = settle(leaderSetsIsr(image, [1, 2, 3, 4]));
    const c = reassign(image, null);
    expect(c.errorCode).toBe(ErrorCode.NONE);
    expect(part(c.image)).toMatchObject({ replicas: [1, 2, 3], isr: [1, 2, 3], addingReplicas: [], removingReplicas: [], leader: 1 });
    // Nothing left to cancel.
    const again = reassign(c.image, null);
    expect(again.errorCode).toBe(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
    expect(again.records).toEqual([]);
  });

  it('starts a new target over from the replicas before the reassignment; the same target again changes nothing', () => {
    let image = reassign(cluster(), [3, 4, 5]).image;
    image = settle(leaderSetsIsr(image, [1, 2, 3, 4]));
    expect(part(image)).toMatchObject({ replicas: [3, 4, 5, 1, 2], isr: [3, 4, 1, 2], addingReplicas: [4, 5] });
    expect(reassign(image, [3, 4, 5]).records).toEqual([]);
    image = reassign(image, [3, 5, 6]).image;
    // 4 was being added and is not in the new target: it goes, from the ISR too.
    expect(part(image)).toMatchObject({ replicas: [3, 5, 6, 1, 2], isr: [3, 1, 2], addingReplicas: [5, 6], removingReplicas: [1, 2], leader: 1 });
    image = settle(leaderSetsIsr(image, [1, 2, 3, 5, 6]));
    expect(part(image)).toMatchObject({ replicas: [3, 5, 6], isr: [3, 5, 6], leader: 3 });
  });

  it('answers Kafka errors per partition and changes nothing for them', () => {
    const image = cluster();
    const r = alterPartitionReassignments(image, [
      { name: 'nope', partitions: [{ partitionIndex: 0, replicas: [1] }] },
      {
        name: 't',
        partitions: [
          { partitionIndex: 9, replicas: [1] },
          { partitionIndex: 0, replicas: [] },
          { partitionIndex: 0, replicas: [1, 1, 2] },
          { partitionIndex: 0, replicas: [1, 2, 7] },
          { partitionIndex: 0, replicas: null },
        ],
      },
    ]);
    expect(r.records).toEqual([]);
    expect(r.response[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(r.response[1]!.partitions.map((p) => p.errorCode)).toEqual([
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
    ]);
    expect(r.response[1]!.partitions[3]!.errorMessage).toBe('The manual partition assignment includes broker 7, but no such broker is registered.');
  });

  it('lists only the partitions named that are being reassigned, skipping unknown topics', () => {
    const image = reassign(cluster(), [1, 2, 4]).image;
    expect(listPartitionReassignments(image, [{ name: 't', partitionIndexes: [0, 3] }, { name: 'nope', partitionIndexes: [0] }])).toEqual([
      { name: 't', partitions: [{ partitionIndex: 0, replicas: [1, 2, 4, 3], addingReplicas: [4], removingReplicas: [3] }] },
    ]);
    expect(listPartitionReassignments(cluster(), [{ name: 't', partitionIndexes: [0] }])).toEqual([]);
  });

  it('property: any target, with replicas joining the ISR in any order, ends on the target with a leader in it', () => {
    const target = fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(target, fc.infiniteStream(fc.nat()), fc.boolean(), (t, picks, cancelHalfway) => {
        let image = reassign(cluster(), t).image;
        const it = picks[Symbol.iterator]();
        for (let step = 0; step < 10; step++) {
          const p = part(image);
          // Invariants while it runs: the ISR holds only replicas and the leader is in it.
          expect(p.isr.every((r) => p.replicas.includes(r))).toBe(true);
          expect(p.isr).toContain(p.leader);
          const missing = p.addingReplicas.filter((r) => !p.isr.includes(r));
          if (missing.length === 0) break;
          if (cancelHalfway && step === 1) {
            image = reassign(image, null).image;
            // Kafka's revert keeps the union's order, less the adding replicas.
            expect([...part(image).replicas].sort()).toEqual([1, 2, 3]);
            expect(part(image)).toMatchObject({ addingReplicas: [], removingReplicas: [] });
            return;
          }
          const next = missing[it.next().value % missing.length]!;
          image = settle(leaderSetsIsr(image, [...p.isr, next]));
        }
        const done = part(image);
        expect(done.replicas).toEqual(t);
        expect(done.addingReplicas).toEqual([]);
        expect(done.removingReplicas).toEqual([]);
        expect(t).toContain(done.leader);
        expect(done.isr.every((r) => t.includes(r))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
