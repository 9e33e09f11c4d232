// Control records: the single record of a control batch (attributes bit 5), written by the broker
// and never by clients. Key: version int16 (0), type int16. Transaction markers (ABORT, COMMIT)
// carry the value version int16 (0), coordinatorEpoch int32. KRaft's types (LEADER_CHANGE,
// snapshot header/footer, kraft.version, voters) carry a schema'd message value decoded elsewhere.

import { DecodeError } from '../decode-error.ts';
import { encodeRecordBatch } from './record-batch.ts';

export const ControlRecordType = {
  Abort: 0,
  Commit: 1,
  LeaderChange: 2,
  SnapshotHeader: 3,
  SnapshotFooter: 4,
  KRaftVersion: 5,
  KRaftVoters: 6,
} as const;
export type ControlRecordType = (typeof ControlRecordType)[keyof typeof ControlRecordType];

const CURRENT_KEY_VERSION = 0;
const CURRENT_END_TXN_MARKER_VERSION = 0;
const KEY_SIZE = 4;
const END_TXN_MARKER_SIZE = 6;

export interface ControlRecordKey {
  version: number;
  /** Any int16; types this code does not know are passed through, as Kafka maps them to UNKNOWN. */
  type: number;
}

export function encodeControlRecordKey(type: number, version = CURRENT_KEY_VERSION): Buffer {
  const key = Buffer.allocUnsafe(KEY_SIZE);
  key.writeInt16BE(version, 0);
  key.writeInt16BE(type, 2);
  return key;
}

/** Later key versions must still start with version and type, so they are read the same way. */
export function parseControlRecordKey(key: Buffer | null): ControlRecordKey {
  if (key === null || key.length < KEY_SIZE) {
    throw new DecodeError('CORRUPT_RECORD', `control record key needs ${KEY_SIZE} bytes, has ${key === null ? 'null' : key.length}`);
  }
  const version = key.readInt16BE(0);
  if (version < 0) throw new DecodeError('CORRUPT_RECORD', `negative control record key version ${version}`);
  return { version, type: key.readInt16BE(2) };
}

export interface EndTxnMarker {
  version: number;
  coordinatorEpoch: number;
}

export function encodeEndTxnMarker(coordinatorEpoch: number, version = CURRENT_END_TXN_MARKER_VERSION): Buffer {
  const value = Buffer.allocUnsafe(END_TXN_MARKER_SIZE);
  value.writeInt16BE(version, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return value;
}

export function parseEndTxnMarker(value: Buffer | null): EndTxnMarker {
  if (value === null || value.length < END_TXN_MARKER_SIZE) {
    throw new DecodeError('CORRUPT_RECORD', `end transaction marker needs ${END_TXN_MARKER_SIZE} bytes`);
  }
  const version = value.readInt16BE(0);
  if (version < 0) throw new DecodeError('CORRUPT_RECORD', `negative end transaction marker version ${version}`);
  return { version, coordinatorEpoch: value.readInt32BE(2) };
}

export interface EndTxnMarkerBatchInput {
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  producerId: bigint;
  producerEpoch: number;
  timestamp: bigint;
  commit: boolean;
  coordinatorEpoch: number;
}

/** The control batch a transaction coordinator's WriteTxnMarkers appends to each partition. */
export function encodeEndTxnMarkerBatch(input: EndTxnMarkerBatchInput): Buffer {
  return encodeRecordBatch({
    baseOffset: input.baseOffset ?? 0n,
    partitionLeaderEpoch: input.partitionLeaderEpoch,
    isTransactional: true,
    isControl: true,
    producerId: input.producerId,
    producerEpoch: input.producerEpoch,
    baseTimestamp: input.timestamp,
    records: [
      {
        offsetDelta: 0,
        timestampDelta: 0,
        key: encodeControlRecordKey(input.commit ? ControlRecordType.Commit : ControlRecordType.Abort),
        value: encodeEndTxnMarker(input.coordinatorEpoch),
      },
    ],
  });
}
