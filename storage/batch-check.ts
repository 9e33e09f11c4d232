// Checks one log entry (a magic-2 record batch) in a buffer without decoding its records: length
// field, magic, lastOffsetDelta and the CRC32C over the bytes from `attributes` to the end.
// Storage keeps only magic-2 batches on disk, so any other magic is corruption.
import { crc32c } from '@node-rs/crc32';
import {
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CRC_START,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  RECORD_BATCH_OVERHEAD,
} from '../protocol/records/batch-header.ts';

export const MIN_BATCH_SIZE = RECORD_BATCH_OVERHEAD;

/**
 * Why the entry at `pos` (with `avail` bytes from pos in `buf`) is not a complete valid batch, or
 * null if it is. 'TRUNCATED' means the bytes end inside the entry (a torn write at a file tail).
 */
export function checkBatch(buf: Buffer, pos: number, avail: number, verifyCrc = true): string | null {
  if (avail < LOG_OVERHEAD) return 'TRUNCATED';
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) return `batch length ${batchLength} below the minimum`;
  if (avail < RECORD_BATCH_OVERHEAD) return 'TRUNCATED';
  const magic = buf.readInt8(pos + MAGIC_OFFSET);
  if (magic !== 2) return `magic ${magic}`;
  if (buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET) < 0) return 'negative lastOffsetDelta';
  const size = LOG_OVERHEAD + batchLength;
  if (avail < size) return 'TRUNCATED';
  if (verifyCrc) {
    const stored = buf.readUInt32BE(pos + CRC_OFFSET);
    const actual = crc32c(buf.subarray(pos + CRC_START, pos + size)) >>> 0;
    if (stored !== actual) return `CRC mismatch (stored ${stored}, computed ${actual})`;
  }
  return null;
}
