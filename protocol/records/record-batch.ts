// Magic-2 record batches (KIP-98 format): encode, validate, decode, and the in-place edits the
// broker's append path makes. Layout of the header is in batch-header.ts; after it come
// recordsCount records, compressed as one stream when attributes & 0x07 != 0. A record is
//   length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
//   key varint-bytes, value varint-bytes, headers varint count of (key varint-string, value varint-bytes).
// Invariants: the CRC32C covers attributes..end and is checked before anything else is trusted;
// decoded keys, values and header values are views of the input (or of the decompressed buffer);
// decoders throw only DecodeError; validation walks records without allocating per record.

import { DecodeError } from '../decode-error.ts';
import { Reader } from '../reader.ts';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  type BatchHeader,
  COMPRESSION_MASK,
  CONTROL_MASK,
  CRC_OFFSET,
  CRC_START,
  CompressionType,
  DELETE_HORIZON_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_MASK,
  TimestampType,
  readBatchHeader,
} from './batch-header.ts';
import { type CompressOptions, DEFAULT_MAX_DECOMPRESSED_BYTES, compress, decompress } from './compression.ts';
import { crc32c } from './crc.ts';
import { sizeOfUVarint, sizeOfVarint, sizeOfVarlongNumber, writeVarintAt, writeVarlongNumberAt } from './varint.ts';

export const MAGIC_V2 = 2;
/** Smallest possible encoded record: 1-byte length, attributes, and six 1-byte varints. */
const MIN_RECORD_SIZE = 7;
/** Legacy messages are at least this long (crc, magic, attributes, key and value lengths). */
const MIN_LEGACY_MESSAGE_SIZE = 14;

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** One record as stored: offset and timestamp relative to the batch. */
export interface Record {
  attributes: number;
  timestampDelta: number;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** What the encoder needs of a record; `Record` satisfies it. */
export interface RecordInput {
  attributes?: number;
  timestampDelta: number;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: readonly RecordHeader[];
}

/** BatchHeader plus the flags packed in its attributes. */
export interface RecordBatchHeader extends BatchHeader {
  compression: number;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizon: boolean;
}

export interface DecodedRecordBatch {
  header: RecordBatchHeader;
  records: Record[];
  /** Bytes the batch occupies in its buffer (LOG_OVERHEAD + batchLength). */
  size: number;
}

export interface DecodeOptions {
  /** Bound on the decompressed records section; default DEFAULT_MAX_DECOMPRESSED_BYTES. */
  maxDecompressedBytes?: number;
}

export interface RecordBatchInput {
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  compression?: number;
  compressOptions?: CompressOptions;
  timestampType?: TimestampType;
  isTransactional?: boolean;
  isControl?: boolean;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  baseTimestamp: bigint;
  /** Defaults to baseTimestamp + the largest timestampDelta (required for LogAppendTime). */
  maxTimestamp?: bigint;
  /** Defaults to the last record's offsetDelta (compaction can leave gaps, so it may differ). */
  lastOffsetDelta?: number;
  records: readonly RecordInput[];
}

export function batchCompression(attributes: number): number {
  return attributes & COMPRESSION_MASK;
}

export function batchTimestampType(attributes: number): TimestampType {
  return attributes & TIMESTAMP_TYPE_MASK ? TimestampType.LogAppendTime : TimestampType.CreateTime;
}

export function isTransactionalBatch(attributes: number): boolean {
  return (attributes & TRANSACTIONAL_MASK) !== 0;
}

export function isControlBatch(attributes: number): boolean {
  return (attributes & CONTROL_MASK) !== 0;
}

export function withFlags(header: BatchHeader): RecordBatchHeader {
  const a = header.attributes;
  return {
    ...header,
    compression: a & COMPRESSION_MASK,
    timestampType: batchTimestampType(a),
    isTransactional: (a & TRANSACTIONAL_MASK) !== 0,
    isControl: (a & CONTROL_MASK) !== 0,
    hasDeleteHorizon: (a & DELETE_HORIZON_MASK) !== 0,
  };
}

function corrupt(message: string, offset: number): DecodeError {
  return new DecodeError('CORRUPT_RECORD', message, offset);
}

// ---- encoding ----

function headersSize(headers: readonly RecordHeader[] | undefined): number {
  if (headers === undefined || headers.length === 0) return 1;
  let size = sizeOfUVarint(headers.length * 2);
  for (const h of headers) {
    const k = Buffer.byteLength(h.key);
    size += sizeOfVarint(k) + k;
    size += h.value === null ? 1 : sizeOfVarint(h.value.length) + h.value.length;
  }
  return size;
}

function recordBodySize(r: RecordInput): number {
  return (
    1 +
    sizeOfVarlongNumber(r.timestampDelta) +
    sizeOfVarint(r.offsetDelta) +
    (r.key === null ? 1 : sizeOfVarint(r.key.length) + r.key.length) +
    (r.value === null ? 1 : sizeOfVarint(r.value.length) + r.value.length) +
    headersSize(r.headers)
  );
}

function writeRecord(buf: Buffer, pos: number, r: RecordInput, bodySize: number): number {
  pos = writeVarintAt(buf, pos, bodySize);
  buf[pos++] = (r.attributes ?? 0) & 0xff;
  pos = writeVarlongNumberAt(buf, pos, r.timestampDelta);
  pos = writeVarintAt(buf, pos, r.offsetDelta);
  if (r.key === null) {
    buf[pos++] = 1; // zig-zag of -1
  } else {
    pos = writeVarintAt(buf, pos, r.key.length);
    pos += r.key.copy(buf, pos);
  }
  if (r.value === null) {
    buf[pos++] = 1;
  } else {
    pos = writeVarintAt(buf, pos, r.value.length);
    pos += r.value.copy(buf, pos);
  }
  const headers = r.headers;
  if (headers === undefined || headers.length === 0) {
    buf[pos++] = 0;
    return pos;
  }
  pos = writeVarintAt(buf, pos, headers.length);
  for (const h of headers) {
    const k = Buffer.byteLength(h.key);
    pos = writeVarintAt(buf, pos, k);
    pos += buf.write(h.key, pos, k, 'utf8');
    if (h.value === null) {
      buf[pos++] = 1;
    } else {
      pos = writeVarintAt(buf, pos, h.value.length);
      pos += h.value.copy(buf, pos);
    }
  }
  return pos;
}

/** Encodes records back to back into `buf` at `pos`; `sizes` holds each record's body size. */
function writeRecords(buf: Buffer, pos: number, records: readonly RecordInput[], sizes: Int32Array): number {
  for (let i = 0; i < records.length; i++) pos = writeRecord(buf, pos, records[i]!, sizes[i]!);
  return pos;
}

export function encodeRecordBatch(input: RecordBatchInput): Buffer {
  const records = input.records;
  const n = records.length;
  const sizes = new Int32Array(n);
  let recordsSize = 0;
  let maxDelta = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const body = recordBodySize(r);
    sizes[i] = body;
    recordsSize += sizeOfVarint(body) + body;
    if (i === 0 || r.timestampDelta > maxDelta) maxDelta = r.timestampDelta;
  }
  const compression = input.compression ?? CompressionType.None;
  let buf: Buffer;
  if (compression === CompressionType.None) {
    buf = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + recordsSize);
    writeRecords(buf, RECORD_BATCH_OVERHEAD, records, sizes);
  } else {
    const plain = Buffer.allocUnsafe(recordsSize);
    writeRecords(plain, 0, records, sizes);
    const packed = compress(compression, plain, input.compressOptions);
    buf = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + packed.length);
    packed.copy(buf, RECORD_BATCH_OVERHEAD);
  }
  let attributes = compression & COMPRESSION_MASK;
  if (input.timestampType === TimestampType.LogAppendTime) attributes |= TIMESTAMP_TYPE_MASK;
  if (input.isTransactional) attributes |= TRANSACTIONAL_MASK;
  if (input.isControl) attributes |= CONTROL_MASK;
  const lastOffsetDelta = input.lastOffsetDelta ?? (n > 0 ? records[n - 1]!.offsetDelta : 0);
  const maxTimestamp = input.maxTimestamp ?? (n > 0 ? input.baseTimestamp + BigInt(maxDelta) : input.baseTimestamp);
  buf.writeBigInt64BE(input.baseOffset ?? 0n, BASE_OFFSET_OFFSET);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  buf.writeInt32BE(input.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET);
  buf[MAGIC_OFFSET] = MAGIC_V2;
  buf.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  buf.writeBigInt64BE(input.baseTimestamp, BASE_TIMESTAMP_OFFSET);
  buf.writeBigInt64BE(maxTimestamp, MAX_TIMESTAMP_OFFSET);
  buf.writeBigInt64BE(input.producerId ?? NO_PRODUCER_ID, PRODUCER_ID_OFFSET);
  buf.writeInt16BE(input.producerEpoch ?? NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
  buf.writeInt32BE(input.baseSequence ?? NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
  buf.writeInt32BE(n, RECORDS_COUNT_OFFSET);
  buf.writeUInt32BE(crc32c(buf, CRC_START), CRC_OFFSET);
  return buf;
}

// ---- validation ----

/**
 * Checks the framing, magic and CRC32C of the batch at `pos` and returns its header, without
 * touching the records. This is all the produce path needs before the bytes are appended.
 */
export function validateBatch(buf: Buffer, pos = 0): BatchHeader {
  const remaining = buf.length - pos;
  if (pos < 0 || remaining < LOG_OVERHEAD) throw new DecodeError('TRUNCATED', `batch header cut at offset ${pos}`, pos);
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) {
    throw new DecodeError('INVALID_LENGTH', `batch length ${batchLength} is below the ${RECORD_BATCH_OVERHEAD - LOG_OVERHEAD}-byte minimum`, pos);
  }
  if (batchLength > remaining - LOG_OVERHEAD) {
    throw new DecodeError('TRUNCATED', `batch of ${batchLength} bytes but ${remaining - LOG_OVERHEAD} remain at offset ${pos}`, pos);
  }
  const magic = buf[pos + MAGIC_OFFSET]!;
  if (magic !== MAGIC_V2) throw corrupt(`expected magic 2, found ${(magic << 24) >> 24}`, pos + MAGIC_OFFSET);
  const end = pos + LOG_OVERHEAD + batchLength;
  const stored = buf.readUInt32BE(pos + CRC_OFFSET);
  const computed = crc32c(buf, pos + CRC_START, end);
  if (stored !== computed) {
    throw corrupt(`batch CRC32C mismatch (stored ${stored.toString(16)}, computed ${computed.toString(16)})`, pos + CRC_OFFSET);
  }
  const header = readBatchHeader(buf, pos);
  if (header.recordsCount < 0) throw corrupt(`negative record count ${header.recordsCount}`, pos + RECORDS_COUNT_OFFSET);
  if ((header.attributes & COMPRESSION_MASK) > CompressionType.Zstd) {
    throw new DecodeError('UNSUPPORTED_COMPRESSION', `unknown compression codec ${header.attributes & COMPRESSION_MASK}`, pos + ATTRIBUTES_OFFSET);
  }
  return header;
}

/** What a walk over a batch's records found; no per-record objects are made to get it. */
export interface RecordsSummary {
  count: number;
  /** offsetDelta of the last record, -1 when there are none. */
  lastOffsetDelta: number;
  /** offsetDeltas are exactly 0, 1, 2, ... (what Kafka requires of a produced batch). */
  offsetDeltasSequential: boolean;
  /** Largest timestampDelta, or NaN when there are no records. */
  maxTimestampDelta: number;
  /** Index of the first record with the largest timestampDelta, -1 when there are none. */
  maxTimestampIndex: number;
  /** Smallest timestampDelta (deltas may be negative), or NaN when there are no records. */
  minTimestampDelta: number;
  /** Some record has a null key (compacted topics refuse it). */
  hasNullKey: boolean;
  /** Size of the records section after decompression. */
  uncompressedSize: number;
}

/** The records section of a validated batch, decompressed if needed. */
function recordsSection(buf: Buffer, pos: number, header: BatchHeader, options: DecodeOptions): Buffer {
  const section = buf.subarray(pos + RECORD_BATCH_OVERHEAD, pos + LOG_OVERHEAD + header.batchLength);
  const codec = header.attributes & COMPRESSION_MASK;
  if (codec === CompressionType.None) return section;
  return decompress(codec, section, options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES);
}

function checkCount(count: number, available: number, pos: number): void {
  if (count > available / MIN_RECORD_SIZE) {
    throw corrupt(`record count ${count} cannot fit in ${available} bytes`, pos + RECORDS_COUNT_OFFSET);
  }
}

/**
 * Validates the batch (as validateBatch) and walks every record's framing: lengths, varints,
 * header counts, exact record and section sizes. Decompresses where the batch is compressed.
 */
export function validateRecords(buf: Buffer, pos = 0, options: DecodeOptions = {}): RecordsSummary {
  const header = validateBatch(buf, pos);
  const data = recordsSection(buf, pos, header, options);
  const count = header.recordsCount;
  checkCount(count, data.length, pos);
  const r = new Reader(data);
  let sequential = true;
  let hasNullKey = false;
  let maxDelta = NaN;
  let maxIndex = -1;
  let minDelta = NaN;
  let lastOffsetDelta = -1;
  for (let i = 0; i < count; i++) {
    const start = r.pos;
    const len = r.readVarint();
    if (len < 0 || len > r.remaining) throw corrupt(`record length ${len} out of range`, start);
    const end = r.pos + len;
    const outerEnd = r.end;
    r.end = end;
    r.pos++; // attributes (unused)
    if (r.pos > end) throw new DecodeError('TRUNCATED', `record cut at offset ${start}`, start);
    const tsDelta = r.readVarlongNumber();
    const offsetDelta = r.readVarint();
    const keyLen = r.readVarintLength('key');
    if (keyLen < 0) hasNullKey = true;
    else r.pos += keyLen;
    const valueLen = r.readVarintLength('value');
    if (valueLen > 0) r.pos += valueLen;
    const headerCount = r.readVarint();
    if (headerCount < 0) throw corrupt(`negative header count ${headerCount}`, r.pos);
    for (let h = 0; h < headerCount; h++) {
      const k = r.readVarintLength('header key');
      if (k < 0) throw corrupt('null header key', r.pos);
      r.pos += k;
      const v = r.readVarintLength('header value');
      if (v > 0) r.pos += v;
    }
    if (r.pos !== end) throw corrupt(`record at offset ${start} is longer than its fields`, start);
    r.end = outerEnd;
    if (offsetDelta !== i) sequential = false;
    if (i === 0 || tsDelta > maxDelta) {
      maxDelta = tsDelta;
      maxIndex = i;
    }
    if (i === 0 || tsDelta < minDelta) minDelta = tsDelta;
    lastOffsetDelta = offsetDelta;
  }
  if (r.pos !== data.length) throw corrupt(`${data.length - r.pos} bytes left after ${count} records`, pos);
  return {
    count,
    lastOffsetDelta,
    offsetDeltasSequential: sequential,
    maxTimestampDelta: maxDelta,
    maxTimestampIndex: maxIndex,
    minTimestampDelta: minDelta,
    hasNullKey,
    uncompressedSize: data.length,
  };
}

// ---- decoding ----

function readRecord(r: Reader): Record {
  const start = r.pos;
  const len = r.readVarint();
  if (len < 0 || len > r.remaining) throw corrupt(`record length ${len} out of range`, start);
  const end = r.pos + len;
  const outerEnd = r.end;
  r.end = end;
  const attributes = r.readInt8();
  const timestampDelta = r.readVarlongNumber();
  const offsetDelta = r.readVarint();
  const keyLen = r.readVarintLength('key');
  const key = keyLen < 0 ? null : r.take(keyLen);
  const valueLen = r.readVarintLength('value');
  const value = valueLen < 0 ? null : r.take(valueLen);
  const headerCount = r.readVarint();
  if (headerCount < 0) throw corrupt(`negative header count ${headerCount}`, r.pos);
  if (headerCount > r.remaining / 2) throw corrupt(`header count ${headerCount} cannot fit in the record`, r.pos);
  const headers: RecordHeader[] = [];
  for (let h = 0; h < headerCount; h++) {
    const k = r.readVarintLength('header key');
    if (k < 0) throw corrupt('null header key', r.pos);
    // Java decodes header keys leniently (malformed UTF-8 becomes U+FFFD); so do we.
    const hk = r.take(k).toString('utf8');
    const v = r.readVarintLength('header value');
    headers.push({ key: hk, value: v < 0 ? null : r.take(v) });
  }
  if (r.pos !== end) throw corrupt(`record at offset ${start} is ${end - r.pos} bytes longer than its fields`, start);
  r.end = outerEnd;
  return { attributes, timestampDelta, offsetDelta, key, value, headers };
}

/** Fully decodes the batch at `pos` (validating it first). */
export function decodeRecordBatch(buf: Buffer, pos = 0, options: DecodeOptions = {}): DecodedRecordBatch {
  const header = validateBatch(buf, pos);
  const data = recordsSection(buf, pos, header, options);
  const count = header.recordsCount;
  checkCount(count, data.length, pos);
  const r = new Reader(data);
  const records: Record[] = new Array(count);
  for (let i = 0; i < count; i++) records[i] = readRecord(r);
  if (r.pos !== data.length) throw corrupt(`${data.length - r.pos} bytes left after ${count} records`, pos);
  return { header: withFlags(header), records, size: LOG_OVERHEAD + header.batchLength };
}

/** A record with absolute offset and timestamp (LogAppendTime batches give every record maxTimestamp). */
export interface AbsoluteRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export function recordOffset(header: BatchHeader, record: Record): bigint {
  return header.baseOffset + BigInt(record.offsetDelta);
}

export function recordTimestamp(header: BatchHeader, record: Record): bigint {
  if (header.attributes & TIMESTAMP_TYPE_MASK) return header.maxTimestamp;
  return header.baseTimestamp + BigInt(record.timestampDelta);
}

export function absoluteRecords(batch: DecodedRecordBatch): AbsoluteRecord[] {
  const h = batch.header;
  return batch.records.map((r) => ({
    offset: recordOffset(h, r),
    timestamp: recordTimestamp(h, r),
    key: r.key,
    value: r.value,
    headers: r.headers,
  }));
}

// ---- in-place edits (broker append path) ----

/** baseOffset is outside the CRC, so no recomputation. */
export function setBaseOffset(buf: Buffer, pos: number, offset: bigint): void {
  buf.writeBigInt64BE(offset, pos + BASE_OFFSET_OFFSET);
}

/** partitionLeaderEpoch is outside the CRC, so no recomputation. */
export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
}

function rewriteCrc(buf: Buffer, pos: number): void {
  const end = pos + LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  buf.writeUInt32BE(crc32c(buf, pos + CRC_START, end), pos + CRC_OFFSET);
}

/** Sets the timestamp type bit and maxTimestamp, as Kafka's setMaxTimestamp, and refreshes the CRC. */
export function setMaxTimestamp(buf: Buffer, pos: number, timestampType: TimestampType, timestamp: bigint): void {
  let attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  attributes = timestampType === TimestampType.LogAppendTime ? attributes | TIMESTAMP_TYPE_MASK : attributes & ~TIMESTAMP_TYPE_MASK;
  buf.writeInt16BE(attributes, pos + ATTRIBUTES_OFFSET);
  buf.writeBigInt64BE(timestamp, pos + MAX_TIMESTAMP_OFFSET);
  rewriteCrc(buf, pos);
}

/** For topics with message.timestamp.type=LogAppendTime. */
export function setLogAppendTime(buf: Buffer, pos: number, timestamp: bigint): void {
  setMaxTimestamp(buf, pos, TimestampType.LogAppendTime, timestamp);
}

// ---- iterating a log buffer ----

/** One entry of a log buffer: a magic-2 batch or a legacy (magic 0/1) message. */
export interface LogEntry {
  position: number;
  size: number;
  magic: number;
}

/**
 * Entries of a buffer of back-to-back batches (a log segment slice, a produce or fetch payload).
 * A partial entry at the end (as Kafka's fetch responses may carry) ends the iteration quietly
 * unless `allowPartial` is false; an entry whose size field is impossible throws.
 */
export function* iterateBatches(buf: Buffer, options: { allowPartial?: boolean } = {}): Generator<LogEntry> {
  const allowPartial = options.allowPartial ?? true;
  let pos = 0;
  while (pos < buf.length) {
    const remaining = buf.length - pos;
    if (remaining < MAGIC_OFFSET + 1) {
      if (allowPartial) return;
      throw new DecodeError('TRUNCATED', `log entry header cut at offset ${pos}`, pos);
    }
    const length = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    const magic = buf.readInt8(pos + MAGIC_OFFSET);
    const min = magic >= MAGIC_V2 ? RECORD_BATCH_OVERHEAD - LOG_OVERHEAD : MIN_LEGACY_MESSAGE_SIZE;
    if (length < min) throw new DecodeError('INVALID_LENGTH', `log entry length ${length} below the ${min}-byte minimum at offset ${pos}`, pos);
    if (length > remaining - LOG_OVERHEAD) {
      if (allowPartial) return;
      throw new DecodeError('TRUNCATED', `log entry of ${length} bytes cut at offset ${pos}`, pos);
    }
    yield { position: pos, size: LOG_OVERHEAD + length, magic };
    pos += LOG_OVERHEAD + length;
  }
}
