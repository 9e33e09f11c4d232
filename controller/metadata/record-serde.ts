// Serialization of one metadata record inside a __cluster_metadata record's value, as Kafka's
// AbstractApiMessageSerde frames it: [frame version uvarint = 1][record type uvarint]
// [record version uvarint][record body]. The record key is always null.
import { DecodeError } from '../../protocol/decode-error.ts';
import { MetadataRecordType, METADATA_RECORD_SPECS, type MetadataRecords } from '../../protocol/generated/metadata-records.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';

const FRAME_VERSION = 1;

export type MetadataRecordTypeId = keyof MetadataRecords;

/** A decoded metadata record: its type id, schema version and message. */
export type MetadataRecord = {
  [K in MetadataRecordTypeId]: { type: K; version: number; data: MetadataRecords[K] };
}[MetadataRecordTypeId];

const SPECS = new Map(METADATA_RECORD_SPECS.map((s) => [s.type, s]));

/**
 * The version each record type is written at: the newest whose fields this broker fills
 * (Kafka 3.9 at metadata.version 3.9-IV0 writes PartitionRecord and PartitionChangeRecord v1 with
 * directories, and no ELR fields unless that feature is on).
 */
const WRITE_VERSION: Partial<Record<number, number>> = {
  [MetadataRecordType.PartitionRecord]: 1,
  [MetadataRecordType.PartitionChangeRecord]: 1,
};

export function writeVersionOf(type: number): number {
  return WRITE_VERSION[type] ?? SPECS.get(type)!.maxVersion;
}

export function record<K extends MetadataRecordTypeId>(type: K, data: MetadataRecords[K]): MetadataRecord {
  return { type, version: writeVersionOf(type), data } as MetadataRecord;
}

export function encodeMetadataRecord(rec: MetadataRecord): Buffer {
  const spec = SPECS.get(rec.type);
  if (!spec) throw new TypeError(`unknown metadata record type ${rec.type}`);
  const w = new Writer(64);
  w.writeUVarint(FRAME_VERSION);
  w.writeUVarint(rec.type);
  w.writeUVarint(rec.version);
  spec.encode(w, rec.version, rec.data as never);
  return w.toBuffer();
}

export function decodeMetadataRecord(value: Buffer): MetadataRecord {
  const r = new Reader(value);
  const frame = r.readUVarint();
  if (frame !== FRAME_VERSION) throw new DecodeError('CORRUPT_RECORD', `unknown metadata record frame version ${frame}`);
  const type = r.readUVarint();
  const version = r.readUVarint();
  const spec = SPECS.get(type);
  if (!spec) throw new DecodeError('CORRUPT_RECORD', `unknown metadata record type ${type}`);
  const data = spec.decode(r, version);
  if (r.remaining !== 0) throw new DecodeError('TRAILING_BYTES', `${r.remaining} bytes after ${spec.name}`);
  return { type, version, data } as MetadataRecord;
}
