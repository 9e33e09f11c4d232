// Metadata images for the controller's unit tests, built by replaying records as the controller
// and brokers do: brokers 1..n with epochs id*10, and one topic `t` with the partitions given.
import { MetadataRecordType } from '../protocol/generated/metadata-records.ts';
import { MetadataDelta } from './metadata/delta.ts';
import { ConfigResourceType, EMPTY_IMAGE, type MetadataImage, type PartitionImage } from './metadata/image.ts';
import { type MetadataRecord, record } from './metadata/record-serde.ts';

export const TEST_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAg';

/** `image` with `records` replayed at the offsets after it. */
export function applyRecords(image: MetadataImage, records: MetadataRecord[]): MetadataImage {
  const d = new MetadataDelta(image);
  for (const [i, r] of records.entries()) d.replay(r, image.offset + BigInt(i + 1), 1);
  return d.apply();
}

/** The registration of broker `id` (epoch id*10, incarnation ending in its id). */
export function brokerRecord(id: number, fenced = false, rack: string | null = null): MetadataRecord {
  return record(MetadataRecordType.RegisterBrokerRecord, {
    brokerId: id,
    isMigratingZkBroker: false,
    incarnationId: `AAAAAAAAAAAAAAAAAAAAA${id}`,
    brokerEpoch: BigInt(id * 10),
    endPoints: [],
    features: [],
    rack,
    fenced,
    inControlledShutdown: false,
    logDirs: [],
  });
}

export interface TestPartition {
  replicas: number[];
  isr: number[];
  leader: number;
}

export interface TestClusterOptions {
  /** Broker ids (1..3 by default). */
  brokers?: number[];
  fenced?: number[];
  /** Topic configs of `t`. */
  configs?: Record<string, string>;
}

/** Brokers (1..3 unless given; those in `fenced` fenced) and topic `t` with `partitions`. */
export function testCluster(partitions: TestPartition[], opts: TestClusterOptions = {}): MetadataImage {
  const fenced = opts.fenced ?? [];
  return applyRecords(EMPTY_IMAGE, [
    ...(opts.brokers ?? [1, 2, 3]).map((id) => brokerRecord(id, fenced.includes(id))),
    record(MetadataRecordType.TopicRecord, { name: 't', topicId: TEST_TOPIC_ID }),
    ...partitions.map((p, i) =>
      record(MetadataRecordType.PartitionRecord, {
        partitionId: i,
        topicId: TEST_TOPIC_ID,
        replicas: p.replicas,
        isr: p.isr,
        removingReplicas: [],
        addingReplicas: [],
        leader: p.leader,
        leaderRecoveryState: 0,
        leaderEpoch: 0,
        partitionEpoch: 0,
        directories: [],
      }),
    ),
    ...Object.entries(opts.configs ?? {}).map(([name, value]) => record(MetadataRecordType.ConfigRecord, { resourceType: ConfigResourceType.Topic, resourceName: 't', name, value })),
  ]);
}

/** Partition `id` of topic `t`. */
export function testPartition(image: MetadataImage, id: number): PartitionImage {
  return image.topicsByName.get('t')!.partitions[id]!;
}
