// The bytes of a KRaft snapshot (KIP-630), as Kafka's RecordsSnapshotWriter lays them out: record
// batches (magic 2, uncompressed, offsets counted from 0 within the snapshot, every batch's
// partitionLeaderEpoch set to the snapshot's epoch):
//   a control batch opening with SnapshotHeaderRecord (version 0, lastContainedLogTimestamp),
//     possibly followed by KRaftVersionRecord and VotersRecord (a dynamic quorum's bootstrap);
//   data batches holding the state's records (null keys, values framed as the log's records);
//   a last control batch holding SnapshotFooterRecord.
// A snapshot is named by its id: the end offset (exclusive: the first log offset it does not
// cover) and the epoch of the last record it covers, in the file name
// `<20-digit end offset>-<10-digit epoch>.checkpoint`.
// Reading validates every batch's CRC, contiguous offsets, the header first and the footer last,
// so a torn or damaged file is refused as a whole.
import { DecodeError } from '../../protocol/decode-error.ts';
import { decodeSnapshotHeaderRecord, encodeSnapshotHeaderRecord } from '../../protocol/generated/message/snapshot-header-record.ts';
import { encodeSnapshotFooterRecord } from '../../protocol/generated/message/snapshot-footer-record.ts';
import { ControlRecordType, encodeControlRecordKey, parseControlRecordKey } from '../../protocol/records/control-record.ts';
import { ATTRIBUTES_OFFSET, readBatchHeader } from '../../protocol/records/batch-header.ts';
import { decodeRecordBatch, encodeRecordBatch, isControlBatch, iterateBatches, validateRecords } from '../../protocol/records/record-batch.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import { type VoterSet, votersControlRecords } from './voter-set.ts';

/** Kafka's OffsetAndEpoch naming a snapshot. */
export interface SnapshotId {
  endOffset: bigint;
  epoch: number;
}

export const SNAPSHOT_SUFFIX = '.checkpoint';
export const PARTIAL_SUFFIX = '.checkpoint.part';
export const DELETED_SUFFIX = '.checkpoint.deleted';

/** Most records and bytes in one data batch, so a reader never holds a huge batch. */
const BATCH_MAX_RECORDS = 2000;
const BATCH_MAX_BYTES = 256 << 10;

export class SnapshotFormatError extends Error {
  readonly code = 'CORRUPT_SNAPSHOT';
}

export function snapshotFileName(id: SnapshotId): string {
  return `${id.endOffset.toString().padStart(20, '0')}-${id.epoch.toString().padStart(10, '0')}${SNAPSHOT_SUFFIX}`;
}

/** The id in a snapshot file name, or undefined for any other name. */
export function parseSnapshotFileName(name: string): SnapshotId | undefined {
  const m = /^(\d{20})-(\d{10})\.checkpoint$/.exec(name);
  if (!m) return undefined;
  return { endOffset: BigInt(m[1]!), epoch: Number(m[2]!) };
}

export function compareSnapshotIds(a: SnapshotId, b: SnapshotId): number {
  if (a.endOffset !== b.endOffset) return a.endOffset < b.endOffset ? -1 : 1;
  return a.epoch - b.epoch;
}

export function sameSnapshot(a: SnapshotId | undefined, b: SnapshotId | undefined): boolean {
  return a !== undefined && b !== undefined && a.endOffset === b.endOffset && a.epoch === b.epoch;
}

function encoded(fn: (w: Writer) => void): Buffer {
  const w = new Writer(32);
  fn(w);
  return w.toBuffer();
}

/** The snapshot's bytes: header batch (with the voter set when given), `records` in data batches, footer batch. */
export function encodeSnapshot(id: SnapshotId, records: readonly Buffer[], lastContainedLogTimestamp: number, voters?: VoterSet): Buffer {
  const ts = BigInt(lastContainedLogTimestamp);
  const control = (type: number, value: Buffer) => ({ offsetDelta: 0, timestampDelta: 0, key: encodeControlRecordKey(type), value });
  const out: Buffer[] = [];
  let offset = 0n;
  const push = (isControl: boolean, recs: { offsetDelta: number; timestampDelta: number; key: Buffer | null; value: Buffer }[]): void => {
    out.push(encodeRecordBatch({ baseOffset: offset, partitionLeaderEpoch: id.epoch, isControl, baseTimestamp: ts, records: recs }));
    offset += BigInt(recs.length);
  };
  // A dynamic quorum's snapshot states its kraft.version and voter set after the header, as Kafka's does.
  const quorum = voters ? votersControlRecords(voters).map((r, i) => ({ offsetDelta: i + 1, timestampDelta: 0, ...r })) : [];
  push(true, [control(ControlRecordType.SnapshotHeader, encoded((w) => encodeSnapshotHeaderRecord(w, 0, { version: 0, lastContainedLogTimestamp: ts }))), ...quorum]);
  let batch: { offsetDelta: number; timestampDelta: number; key: Buffer | null; value: Buffer }[] = [];
  let bytes = 0;
  for (const value of records) {
    if (batch.length > 0 && (batch.length >= BATCH_MAX_RECORDS || bytes + value.length > BATCH_MAX_BYTES)) {
      push(false, batch);
      batch = [];
      bytes = 0;
    }
    batch.push({ offsetDelta: batch.length, timestampDelta: 0, key: null, value });
    bytes += value.length;
  }
  if (batch.length > 0) push(false, batch);
  push(true, [control(ControlRecordType.SnapshotFooter, encoded((w) => encodeSnapshotFooterRecord(w, 0, { version: 0 })))]);
  return Buffer.concat(out);
}

export interface DecodedSnapshot {
  lastContainedLogTimestamp: number;
  /** The data records' values, in order. */
  records: Buffer[];
}

/**
 * Decodes and validates a whole snapshot; throws SnapshotFormatError for anything amiss. With
 * `checkOnly` the data records are validated (CRC, framing) but not materialised, and `records`
 * is empty: what opening a snapshot store needs, at a fraction of the cost. The records returned
 * are views into `buf` (or into a decompressed batch), not copies.
 */
export function decodeSnapshot(buf: Buffer, options: { checkOnly?: boolean } = {}): DecodedSnapshot {
  const records: Buffer[] = [];
  let data = false;
  let header: number | undefined;
  let footer = false;
  let next = 0n;
  let pos = 0;
  try {
    for (const e of iterateBatches(buf, { allowPartial: false })) {
      if (footer) throw new SnapshotFormatError('batches after the snapshot footer');
      if (options.checkOnly && !isControlBatch(buf.readInt16BE(e.position + ATTRIBUTES_OFFSET))) {
        if (header === undefined) throw new SnapshotFormatError('data before the snapshot header');
        validateRecords(buf, e.position);
        const h = readBatchHeader(buf, e.position);
        if (h.baseOffset !== next) throw new SnapshotFormatError(`batch at offset ${h.baseOffset}, expected ${next}`);
        next = h.baseOffset + BigInt(h.lastOffsetDelta) + 1n;
        pos = e.position + e.size;
        data = true;
        continue;
      }
      const batch = decodeRecordBatch(buf, e.position);
      const h = batch.header;
      if (h.baseOffset !== next) throw new SnapshotFormatError(`batch at offset ${h.baseOffset}, expected ${next}`);
      next = h.baseOffset + BigInt(h.lastOffsetDelta) + 1n;
      pos = e.position + e.size;
      if (h.isControl) {
        for (const r of batch.records) {
          const type = parseControlRecordKey(r.key).type;
          if (type === ControlRecordType.SnapshotHeader) {
            if (header !== undefined || data) throw new SnapshotFormatError('snapshot header not first');
            header = Number(decodeSnapshotHeaderRecord(new Reader(r.value ?? Buffer.alloc(0)), 0).lastContainedLogTimestamp);
          } else if (type === ControlRecordType.SnapshotFooter) {
            footer = true;
          } else if (header === undefined) {
            throw new SnapshotFormatError(`control record ${type} before the snapshot header`);
          }
          // KRaftVersion and Voters records describe a dynamic quorum's voters: not state records.
        }
        continue;
      }
      if (header === undefined) throw new SnapshotFormatError('data before the snapshot header');
      data = true;
      for (const r of batch.records) if (r.value) records.push(r.value);
    }
  } catch (err) {
    if (err instanceof SnapshotFormatError) throw err;
    if (err instanceof DecodeError || err instanceof RangeError) throw new SnapshotFormatError(`damaged batch: ${err.message}`);
    throw err;
  }
  if (header === undefined) throw new SnapshotFormatError('no snapshot header');
  if (!footer) throw new SnapshotFormatError('no snapshot footer (truncated)');
  if (pos !== buf.length) throw new SnapshotFormatError(`${buf.length - pos} bytes after the footer`);
  return { lastContainedLogTimestamp: header, records };
}
