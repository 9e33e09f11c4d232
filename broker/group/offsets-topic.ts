// `__consumer_offsets`: which partition coordinates a group, and the records the classic group
// coordinator writes there, in Kafka's own formats so the topic reads as Kafka's does.
// A record's key is [int16 version][key struct] and its value [int16 version][value struct]:
//   key version 0 or 1: OffsetCommitKey (group, topic, partition) → OffsetCommitValue
//   key version 2:      GroupMetadataKey (group)                  → GroupMetadataValue
// A null value is a tombstone (the offset, or the whole group, is gone). Kafka's classic
// coordinator writes key version 1, OffsetCommitValue v3 (v1 when the commit carries an explicit
// expire timestamp) and GroupMetadataValue v3; the loader accepts every version.
import { decodeGroupMetadataKey, encodeGroupMetadataKey } from '../../protocol/generated/group-coordinator/group-metadata-key.ts';
import { decodeGroupMetadataValue, encodeGroupMetadataValue, type GroupMetadataValue } from '../../protocol/generated/group-coordinator/group-metadata-value.ts';
import { decodeOffsetCommitKey, encodeOffsetCommitKey } from '../../protocol/generated/group-coordinator/offset-commit-key.ts';
import { decodeOffsetCommitValue, encodeOffsetCommitValue, type OffsetCommitValue } from '../../protocol/generated/group-coordinator/offset-commit-value.ts';
import { Reader } from '../../protocol/reader.ts';
import type { CoordinatorSerde } from '../coordinator/coordinator-runtime.ts';
import type { LoadedRecord } from '../coordinator/partition-log.ts';
import { Writer } from '../../protocol/writer.ts';

export const GROUP_METADATA_TOPIC_NAME = '__consumer_offsets';

/** Java's String.hashCode: s[0]*31^(n-1) + ... over UTF-16 code units, in int32 arithmetic. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs: Integer.MIN_VALUE maps to 0 (Math.abs would leave it negative). */
export function kafkaAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n);
}

/** The `__consumer_offsets` partition whose leader coordinates `groupId`. */
export function partitionForGroup(groupId: string, partitionCount: number): number {
  return kafkaAbs(javaStringHashCode(groupId)) % partitionCount;
}

export interface OffsetAndMetadata {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** Only from OffsetCommit v2-v4 with an explicit retention time; else undefined. */
  expireTimestamp?: number;
}

function framed(version: number, encode: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  w.writeInt16(version);
  encode(w);
  return w.toBuffer();
}

export function offsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return framed(1, (w) => encodeOffsetCommitKey(w, 1, { group, topic, partition }));
}

export function offsetCommitValue(o: OffsetAndMetadata): Buffer {
  if (o.expireTimestamp !== undefined) {
    return framed(1, (w) =>
      encodeOffsetCommitValue(w, 1, { offset: o.offset, metadata: o.metadata, commitTimestamp: BigInt(o.commitTimestamp), expireTimestamp: BigInt(o.expireTimestamp!) }),
    );
  }
  return framed(3, (w) => encodeOffsetCommitValue(w, 3, { offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, commitTimestamp: BigInt(o.commitTimestamp) }));
}

export function groupMetadataKey(group: string): Buffer {
  return framed(2, (w) => encodeGroupMetadataKey(w, 2, { group }));
}

export function groupMetadataValue(value: GroupMetadataValue): Buffer {
  return framed(3, (w) => encodeGroupMetadataValue(w, 3, value));
}

export type OffsetsTopicRecord =
  | { kind: 'offset'; group: string; topic: string; partition: number; value: OffsetAndMetadata | null }
  | { kind: 'group'; group: string; value: GroupMetadataValue | null };

function toOffsetAndMetadata(v: OffsetCommitValue): OffsetAndMetadata {
  const out: OffsetAndMetadata = { offset: v.offset, leaderEpoch: v.leaderEpoch ?? -1, metadata: v.metadata, commitTimestamp: Number(v.commitTimestamp) };
  if (v.expireTimestamp !== undefined && v.expireTimestamp >= 0n) out.expireTimestamp = Number(v.expireTimestamp);
  return out;
}

/**
 * Decodes one record of `__consumer_offsets`; null for key versions this coordinator does not
 * own (the consumer-protocol and share-group records of KIP-848/932 coordinators).
 */
export function decodeOffsetsTopicRecord(key: Buffer, value: Buffer | null): OffsetsTopicRecord | null {
  const kr = new Reader(key);
  const keyVersion = kr.readInt16();
  if (keyVersion === 0 || keyVersion === 1) {
    const k = decodeOffsetCommitKey(kr, keyVersion);
    let v: OffsetAndMetadata | null = null;
    if (value !== null) {
      const vr = new Reader(value);
      v = toOffsetAndMetadata(decodeOffsetCommitValue(vr, vr.readInt16()));
    }
    return { kind: 'offset', group: k.group, topic: k.topic, partition: k.partition, value: v };
  }
  if (keyVersion === 2) {
    const k = decodeGroupMetadataKey(kr, keyVersion);
    let v: GroupMetadataValue | null = null;
    if (value !== null) {
      const vr = new Reader(value);
      v = decodeGroupMetadataValue(vr, vr.readInt16());
    }
    return { kind: 'group', group: k.group, value: v };
  }
  return null;
}

/**
 * What the group coordinator's shard replays: an offset (a plain commit, or one pending in the
 * transaction of `producerId` when that is not -1), a group's metadata, or the end of a
 * producer's transaction (a COMMIT/ABORT marker on the partition).
 */
export type GroupRecord =
  | { kind: 'offset'; group: string; topic: string; partition: number; value: OffsetAndMetadata | null; producerId: bigint }
  | { kind: 'group'; group: string; value: GroupMetadataValue | null }
  | { kind: 'marker'; producerId: bigint; commit: boolean };

/** Group records to and from `__consumer_offsets` entries, in the formats above (byte for byte). */
export const groupRecordSerde: CoordinatorSerde<GroupRecord> = {
  serialize(r) {
    switch (r.kind) {
      case 'offset':
        return { key: offsetCommitKey(r.group, r.topic, r.partition), value: r.value === null ? null : offsetCommitValue(r.value) };
      case 'group':
        return { key: groupMetadataKey(r.group), value: r.value === null ? null : groupMetadataValue(r.value) };
      case 'marker':
        throw new Error('transaction markers are written by WriteTxnMarkers, not by the group coordinator');
    }
  },
  deserialize(entry: LoadedRecord): GroupRecord | null {
    if (entry.kind === 'control') return { kind: 'marker', producerId: entry.producerId, commit: entry.commit };
    const rec = decodeOffsetsTopicRecord(entry.key, entry.value);
    if (!rec) return null;
    if (rec.kind === 'group') return entry.transactional ? null : rec;
    // A transactional tombstone is never written by a coordinator; Kafka's loader skips it too.
    if (entry.transactional && rec.value === null) return null;
    return { ...rec, producerId: entry.transactional ? entry.producerId : -1n };
  },
};
