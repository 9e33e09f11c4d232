import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/errors.ts';
import type { AlterPartitionRequest } from '../protocol/generated/message/alter-partition-request.ts';
import { MetadataRecordType } from '../protocol/generated/metadata-records.ts';
import { alterPartition } from './alter-partition.ts';
import { record } from './metadata/record-serde.ts';
import { applyRecords, TEST_TOPIC_ID, testCluster } from './test-images.ts';

const TOPIC_ID = TEST_TOPIC_ID;
const apply = applyRecords;

/** Brokers 1..3 unfenced (epochs 10, 20, 30); topic t with one partition on [1,2,3], leader 1. */
const cluster = () => testCluster([{ replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1 }]);

function request(isr: number[], over: { leaderEpoch?: number; partitionEpoch?: number; brokerId?: number; brokerEpoch?: bigint; epochs?: Record<number, bigint> } = {}): AlterPartitionRequest {
  return {
    brokerId: over.brokerId ?? 1,
    brokerEpoch: over.brokerEpoch ?? 10n,
    topics: [
      {
        topicId: TOPIC_ID,
        partitions: [
          {
            partitionIndex: 0,
            leaderEpoch: over.leaderEpoch ?? 0,
            newIsrWithEpochs: isr.map((id) => ({ brokerId: id, brokerEpoch: over.epochs?.[id] ?? BigInt(id * 10) })),
            leaderRecoveryState: 0,
            partitionEpoch: over.partitionEpoch ?? 0,
          },
        ],
      },
    ],
  };
}

describe('alterPartition', () => {
  it('shrinks the ISR with a PartitionChangeRecord and answers the new partition epoch, leader epoch unchanged', () => {
    const image = cluster();
    const r = alterPartition(image, request([1, 3]), 3);
    expect(r.response.errorCode).toBe(ErrorCode.NONE);
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({ type: MetadataRecordType.PartitionChangeRecord, data: { isr: [1, 3], leader: -2 } });
    expect(r.response.topics[0]!.partitions[0]).toMatchObject({ errorCode: ErrorCode.NONE, leaderId: 1, leaderEpoch: 0, isr: [1, 3], partitionEpoch: 1 });
    const next = apply(image, r.records).topicsById.get(TOPIC_ID)!.partitions[0]!;
    expect(next).toMatchObject({ isr: [1, 3], leaderEpoch: 0, partitionEpoch: 1, leader: 1 });
    // The expansion back, against the new partition epoch.
    const back = alterPartition(apply(image, r.records), request([1, 2, 3], { partitionEpoch: 1 }), 3);
    expect(back.response.topics[0]!.partitions[0]).toMatchObject({ errorCode: ErrorCode.NONE, isr: [1, 2, 3], partitionEpoch: 2 });
  });

  it('refuses a stale partition epoch, a stale leader epoch and a sender that is not the leader', () => {
    const image = cluster();
    expect(alterPartition(image, request([1, 2], { partitionEpoch: 5 }), 3).response.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.INVALID_UPDATE_VERSION);
    expect(alterPartition(image, request([1, 2], { leaderEpoch: 1 }), 3).response.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    const notLeader = alterPartition(image, request([2, 3], { brokerId: 2, brokerEpoch: 20n }), 3);
    expect(notLeader.response.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    for (const r of [notLeader]) expect(r.records).toEqual([]);
  });

  it('refuses a stale broker epoch of the sender for the whole request', () => {
    const r = alterPartition(cluster(), request([1, 2], { brokerEpoch: 11n }), 3);
    expect(r.response.errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);
    expect(r.records).toEqual([]);
  });

  it('refuses fenced, shutting-down and re-registered brokers in the new ISR (INELIGIBLE_REPLICA)', () => {
    const image = cluster();
    const fenced = apply(image, [record(MetadataRecordType.FenceBrokerRecord, { id: 2, epoch: 20n })]);
    expect(alterPartition(fenced, request([1, 2, 3]), 3).response.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.INELIGIBLE_REPLICA);
    const v1: AlterPartitionRequest = { brokerId: 1, brokerEpoch: 10n, topics: [{ topicName: 't', partitions: [{ partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [1, 2, 3], leaderRecoveryState: 0 }] }] };
    expect(alterPartition(fenced, v1, 1).response.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OPERATION_NOT_ATTEMPTED);
    const staleEpoch = alterPartition(image, request([1, 2, 3], { epochs: { 3: 29n } }), 3);
    expect(staleEpoch.response.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.INELIGIBLE_REPLICA);
    // Shrinking away from a fenced broker is always allowed.
    expect(alterPartition(fenced, request([1, 3]), 3).response.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
  });

  it('refuses an ISR without the leader or with a non-replica, and answers an unchanged ISR without a record', () => {
    const image = cluster();
    expect(alterPartition(image, request([2, 3]), 3).response.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(alterPartition(image, request([1, 4]), 3).response.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const same = alterPartition(image, request([1, 2, 3]), 3);
    expect(same.records).toEqual([]);
    expect(same.response.topics[0]!.partitions[0]).toMatchObject({ errorCode: ErrorCode.NONE, partitionEpoch: 0, isr: [1, 2, 3] });
  });

  it('answers unknown topic ids and partitions', () => {
    const r = alterPartition(cluster(), { brokerId: 1, brokerEpoch: 10n, topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAw', partitions: [{ partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 0, newIsrWithEpochs: [] }] }] }, 3);
    expect(r.response.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
    const req = request([1]);
    req.topics[0]!.partitions[0]!.partitionIndex = 7;
    expect(alterPartition(cluster(), req, 3).response.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});
