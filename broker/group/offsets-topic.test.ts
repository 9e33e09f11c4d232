// `__consumer_offsets` records as the group shard writes and replays them: Kafka's byte layout
// (so logs written before load as they did), and what loading makes of plain, transactional and
// control entries.
import { describe, expect, it } from 'vitest';
import { groupRecordSerde } from './offsets-topic.ts';

describe('group records', () => {
  it('an offset commit is OffsetCommitKey v1 and OffsetCommitValue v3, byte for byte', () => {
    const raw = groupRecordSerde.serialize({ kind: 'offset', group: 'g', topic: 't', partition: 2, value: { offset: 5n, leaderEpoch: 1, metadata: 'm', commitTimestamp: 1000 }, producerId: -1n });
    // [int16 version 1][string "g"][string "t"][int32 2]
    expect(raw.key.toString('hex')).toBe('0001' + '000167' + '000174' + '00000002');
    // [int16 version 3][int64 5][int32 1][string "m"][int64 1000]
    expect(raw.value!.toString('hex')).toBe('0003' + '0000000000000005' + '00000001' + '00016d' + '00000000000003e8');
    // With an explicit expiry: OffsetCommitValue v1.
    const v1 = groupRecordSerde.serialize({ kind: 'offset', group: 'g', topic: 't', partition: 2, value: { offset: 5n, leaderEpoch: 1, metadata: '', commitTimestamp: 1000, expireTimestamp: 2000 }, producerId: -1n });
    expect(v1.value!.toString('hex')).toBe('0001' + '0000000000000005' + '0000' + '00000000000003e8' + '00000000000007d0');
    expect(groupRecordSerde.serialize({ kind: 'group', group: 'g', value: null })).toEqual({ key: Buffer.from('0002000167', 'hex'), value: null });
  });

  it('loading: plain records, transactional ones with their producer, markers, and what is not the classic coordinator\'s', () => {
    const raw = groupRecordSerde.serialize({ kind: 'offset', group: 'g', topic: 't', partition: 0, value: { offset: 1n, leaderEpoch: -1, metadata: '', commitTimestamp: 1 }, producerId: -1n });
    const plain = groupRecordSerde.deserialize({ kind: 'record', offset: 0, producerId: -1n, transactional: false, ...raw });
    expect(plain).toMatchObject({ kind: 'offset', group: 'g', producerId: -1n, value: { offset: 1n } });
    expect(groupRecordSerde.deserialize({ kind: 'record', offset: 1, producerId: 7n, transactional: true, ...raw })).toMatchObject({ kind: 'offset', producerId: 7n });
    expect(groupRecordSerde.deserialize({ kind: 'record', offset: 2, producerId: 7n, transactional: true, key: raw.key, value: null })).toBeNull();
    expect(groupRecordSerde.deserialize({ kind: 'control', offset: 3, producerId: 7n, commit: true })).toEqual({ kind: 'marker', producerId: 7n, commit: true });
    // Key version 3 (a KIP-848 consumer group's metadata) belongs to another coordinator.
    expect(groupRecordSerde.deserialize({ kind: 'record', offset: 4, producerId: -1n, transactional: false, key: Buffer.from('00030001', 'hex'), value: null })).toBeNull();
    expect(() => groupRecordSerde.serialize({ kind: 'marker', producerId: 7n, commit: true })).toThrow();
  });
});
