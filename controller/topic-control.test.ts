import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/errors.ts';
import { MetadataRecordType } from '../protocol/generated/metadata-records.ts';
import { MetadataDelta } from './metadata/delta.ts';
import { EMPTY_IMAGE, type MetadataImage } from './metadata/image.ts';
import { record } from './metadata/record-serde.ts';
import { createPartitions, createTopics, MAX_PARTITIONS_PER_REQUEST } from './topic-control.ts';

function withBroker(): MetadataImage {
  const d = new MetadataDelta(EMPTY_IMAGE);
  d.replay(record(MetadataRecordType.RegisterBrokerRecord, { brokerId: 1, isMigratingZkBroker: false, incarnationId: 'AAAAAAAAAAAAAAAAAAAAAQ', brokerEpoch: 1n, endPoints: [], features: [], rack: null, fenced: false, inControlledShutdown: false, logDirs: [] }), 0n, 1);
  return d.apply();
}

const defaults = { numPartitions: 1, defaultReplicationFactor: 1, validateConfigs: () => [] };

describe('partitions per request', () => {
  it('refuses a topic that would take the request past the limit, without placing anything', () => {
    // Placing 2^31 - 1 partitions first would not finish within the test's timeout.
    const r = createTopics(withBroker(), [{ name: 'huge', numPartitions: 2147483647, replicationFactor: 1, assignments: [], configs: [] }], defaults, false);
    expect(r.records).toEqual([]);
    expect(r.response[0]).toMatchObject({ errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: 'Excessively large number of partitions per request.' });
  });

  it('counts every topic of the request against the limit', () => {
    const half = MAX_PARTITIONS_PER_REQUEST / 2;
    const r = createTopics(
      withBroker(),
      ['a', 'b', 'c'].map((name) => ({ name, numPartitions: half, replicationFactor: 1, assignments: [], configs: [] })),
      defaults,
      true,
    );
    expect(r.response.map((o) => o.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.NONE, ErrorCode.POLICY_VIOLATION]);
  });

  it('refuses CreatePartitions growing a topic past the limit', () => {
    const base = withBroker();
    const created = createTopics(base, [{ name: 't', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], defaults, false);
    const d = new MetadataDelta(base);
    for (const [i, rec] of created.records.entries()) d.replay(rec, BigInt(i + 1), 1);
    const r = createPartitions(d.apply(), [{ name: 't', count: 2147483647, assignments: null }], false);
    expect(r.records).toEqual([]);
    expect(r.response[0]).toMatchObject({ errorCode: ErrorCode.POLICY_VIOLATION });
  });
});
