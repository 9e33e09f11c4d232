import { describe, expect, it } from 'vitest';
import { MetadataRecordType } from '../../protocol/generated/metadata-records.ts';
import { applyRecords, TEST_TOPIC_ID, testCluster, testPartition } from '../test-images.ts';
import { record } from './record-serde.ts';

const change = (partitionId: number, isr: number[]) => record(MetadataRecordType.PartitionChangeRecord, { partitionId, topicId: TEST_TOPIC_ID, isr, leader: -2 });

describe('MetadataDelta partitions', () => {
  it('applies several records of one topic in one delta, each seeing the ones before it', () => {
    const image = applyRecords(testCluster([{ replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1 }, { replicas: [2, 3, 1], isr: [2, 3, 1], leader: 2 }]), [change(0, [1, 2]), change(1, [2]), change(0, [1])]);
    expect(testPartition(image, 0)).toMatchObject({ isr: [1], partitionEpoch: 2 });
    expect(testPartition(image, 1)).toMatchObject({ isr: [2], partitionEpoch: 1 });
  });

  it('never changes an image it handed out when later records change the same topic', () => {
    const first = testCluster([{ replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1 }, { replicas: [2, 3, 1], isr: [2, 3, 1], leader: 2 }]);
    const before = structuredClone(first.topicsByName.get('t')!.partitions);
    const second = applyRecords(first, [change(0, [1, 2])]);
    const third = applyRecords(second, [change(1, [2, 3])]);
    expect(first.topicsByName.get('t')!.partitions).toEqual(before);
    expect(testPartition(second, 0).isr).toEqual([1, 2]);
    expect(testPartition(second, 1).isr).toEqual([2, 3, 1]);
    expect(testPartition(third, 0).isr).toEqual([1, 2]);
    expect(testPartition(third, 1).isr).toEqual([2, 3]);
  });
});
