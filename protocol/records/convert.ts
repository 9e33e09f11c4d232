// Conversions between legacy message sets (magic 0/1) and magic-2 record batches.
// Up: an old producer's message set (Produce v0-v2) becomes one magic-2 batch, keeping the source
// codec as Kafka does with compression.type=producer. Down: for Fetch v0-v1 (magic 0) and v2-v3
// (magic 1), each magic-2 batch becomes messages with the same offsets, timestamps (magic 1) and
// codec; headers have no place in magic 0/1 and are dropped, control batches are dropped, and
// entries already at or below the target magic are copied unchanged. A partial trailing batch is
// dropped. When aborted transactions are given (a read_committed view), their data is dropped too.

import { DecodeError } from '../decode-error.ts';
import { CompressionType, TimestampType } from './batch-header.ts';
import { ControlRecordType, parseControlRecordKey } from './control-record.ts';
import { type LegacyMagic, type LegacyRecord, decodeLegacyMessage, decodeMessageSet, encodeMessageSet } from './legacy-message-set.ts';
import { type RecordInput, decodeRecordBatch, encodeRecordBatch, iterateBatches, recordOffset, recordTimestamp } from './record-batch.ts';

export interface UpConvertOptions {
  maxDecompressedBytes?: number;
  /** Codec of the new batch; default: the first compressed wrapper's codec, else none. */
  compression?: number;
  /** Give records offsetDeltas 0..n-1 and baseOffset 0, as the broker does on append. Default false. */
  assignOffsets?: boolean;
}

/** Converts a legacy message set into one magic-2 batch; null when it holds no messages. */
export function messageSetToRecordBatch(buf: Buffer, options: UpConvertOptions = {}): Buffer | null {
  const entries = decodeMessageSet(buf, { maxDecompressedBytes: options.maxDecompressedBytes });
  const all: LegacyRecord[] = [];
  let codec: number = CompressionType.None;
  for (const e of entries) {
    if (codec === CompressionType.None) codec = e.compression;
    for (const r of e.records) all.push(r);
  }
  if (all.length === 0) return null;
  const first = entries[0]!;
  const timestampType = first.timestampType;
  const baseOffset = options.assignOffsets ? 0n : all[0]!.offset;
  const baseTimestamp = all[0]!.timestamp;
  const records: RecordInput[] = all.map((r, i) => {
    const delta = options.assignOffsets ? i : Number(r.offset - baseOffset);
    if (!Number.isInteger(delta) || delta < -0x80000000 || delta > 0x7fffffff) {
      throw new DecodeError('CORRUPT_RECORD', `message offset ${r.offset} too far from ${baseOffset} for one batch`);
    }
    return { offsetDelta: delta, timestampDelta: Number(r.timestamp - baseTimestamp), key: r.key, value: r.value };
  });
  let maxTimestamp: bigint | undefined;
  if (timestampType === TimestampType.LogAppendTime) {
    maxTimestamp = -1n;
    for (const r of all) if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
  }
  return encodeRecordBatch({
    baseOffset,
    compression: options.compression ?? codec,
    timestampType,
    baseTimestamp,
    maxTimestamp,
    records,
  });
}

export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

export interface DownConvertOptions {
  magic: LegacyMagic;
  maxDecompressedBytes?: number;
  /** As in a FetchResponse: data of these transactions is dropped (read_committed). */
  abortedTransactions?: readonly AbortedTransaction[];
}

/** Converts a buffer of log entries (as read from a segment) to a magic 0/1 message set. */
export function recordBatchesToMessageSet(buf: Buffer, options: DownConvertOptions): Buffer {
  const target = options.magic;
  const decodeOptions = { maxDecompressedBytes: options.maxDecompressedBytes };
  const aborted = [...(options.abortedTransactions ?? [])].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  let nextAborted = 0;
  const abortedProducers = new Set<bigint>();
  const parts: Buffer[] = [];
  for (const { position: pos, size, magic } of iterateBatches(buf)) {
    if (magic < 2) {
      if (magic <= target) {
        parts.push(buf.subarray(pos, pos + size));
      } else {
        const m = decodeLegacyMessage(buf.subarray(pos, pos + size), 0, decodeOptions);
        parts.push(encodeMessageSet({ magic: target, compression: m.compression, records: m.records }));
      }
      continue;
    }
    const batch = decodeRecordBatch(buf, pos, decodeOptions);
    const h = batch.header;
    const lastOffset = h.baseOffset + BigInt(h.lastOffsetDelta);
    while (nextAborted < aborted.length && aborted[nextAborted]!.firstOffset <= lastOffset) {
      abortedProducers.add(aborted[nextAborted]!.producerId);
      nextAborted++;
    }
    if (h.isControl) {
      const first = batch.records[0];
      if (first !== undefined && parseControlRecordKey(first.key).type === ControlRecordType.Abort) {
        abortedProducers.delete(h.producerId);
      }
      continue;
    }
    if (h.isTransactional && abortedProducers.has(h.producerId)) continue;
    if (batch.records.length === 0) continue;
    const records: LegacyRecord[] = batch.records.map((r) => ({
      offset: recordOffset(h, r),
      timestamp: target === 1 ? recordTimestamp(h, r) : -1n,
      key: r.key,
      value: r.value,
    }));
    parts.push(
      encodeMessageSet({
        magic: target,
        compression: h.compression,
        timestampType: target === 1 ? h.timestampType : TimestampType.CreateTime,
        logAppendTime: h.timestampType === TimestampType.LogAppendTime ? h.maxTimestamp : undefined,
        records,
      }),
    );
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
