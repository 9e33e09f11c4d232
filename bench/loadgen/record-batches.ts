// Pre-encoded load: uncompressed magic-2 batches of unkeyed records with random (incompressible)
// values, built once so a load generator spends its time on the wire, not on encoding. Batches are
// read-only after building: the same buffer may be in several requests in flight at once.
import { randomBytes } from 'node:crypto';
import {
  BASE_OFFSET_OFFSET,
  BATCH_LENGTH_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
} from '../../protocol/records/batch-header.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';

export interface BatchShape {
  /** Bytes of each record's value (1 KiB in the benchmarks). */
  recordSize: number;
  /** Records per batch: as many as fit in this many value bytes, at least one. */
  batchBytes: number;
}

export function recordsPerBatch(shape: BatchShape): number {
  return Math.max(1, Math.floor(shape.batchBytes / shape.recordSize));
}

/** `count` distinct batches of the given shape, timestamped now. */
export function batchPool(shape: BatchShape, count: number): Buffer[] {
  const n = recordsPerBatch(shape);
  const baseTimestamp = BigInt(Date.now());
  return Array.from({ length: count }, () =>
    encodeRecordBatch({
      baseTimestamp,
      records: Array.from({ length: n }, (_, i) => ({ offsetDelta: i, timestampDelta: 0, key: null, value: randomBytes(shape.recordSize) })),
    }),
  );
}

/**
 * Walks the complete batches in a fetch answer's records: their byte and record counts and the
 * offset after the last one (-1n when none is complete). A partial batch at the end, which a
 * broker may send when a limit cuts it, is not counted.
 */
export function scanBatches(records: Buffer): { bytes: number; records: number; nextOffset: bigint } {
  let pos = 0;
  let count = 0;
  let nextOffset = -1n;
  while (pos + RECORD_BATCH_OVERHEAD <= records.length) {
    const size = LOG_OVERHEAD + records.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (pos + size > records.length) break;
    nextOffset = records.readBigInt64BE(pos + BASE_OFFSET_OFFSET) + BigInt(records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET)) + 1n;
    count += records.readInt32BE(pos + RECORDS_COUNT_OFFSET);
    pos += size;
  }
  return { bytes: pos, records: count, nextOffset };
}
