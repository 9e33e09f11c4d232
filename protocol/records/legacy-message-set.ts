// Legacy message sets (magic 0 and 1), spoken by clients before Kafka 0.11 (Produce v0-v2,
// Fetch v0-v3) and possibly still present in old segments. Each entry is
//   offset int64, messageSize int32, crc uint32 (CRC32 of magic..end), magic int8,
//   attributes int8 (codec in bits 0-2, timestamp type in bit 3 for magic 1),
//   timestamp int64 (magic 1 only), key int32-bytes, value int32-bytes.
// A compressed entry is a wrapper whose value is a compressed message set of uncompressed inner
// messages. Magic 1 inner offsets are relative (0..n-1) and the wrapper holds the absolute offset
// of the last one; magic 0 inner offsets are absolute. With LogAppendTime, every inner message of a
// magic-1 wrapper takes the wrapper's timestamp. Decoders throw only DecodeError.

import { DecodeError } from '../decode-error.ts';
import { COMPRESSION_MASK, CompressionType, LOG_OVERHEAD, NO_TIMESTAMP, TIMESTAMP_TYPE_MASK, TimestampType } from './batch-header.ts';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, compress, decompress } from './compression.ts';
import { crc32 } from './crc.ts';

export type LegacyMagic = 0 | 1;

const CRC_POS = LOG_OVERHEAD;
const MAGIC_POS = LOG_OVERHEAD + 4;
const ATTRIBUTES_POS = MAGIC_POS + 1;
const TIMESTAMP_POS = ATTRIBUTES_POS + 1;
/** crc + magic + attributes + key length + value length, plus the v1 timestamp. */
const MESSAGE_OVERHEAD_V0 = 14;
const MESSAGE_OVERHEAD_V1 = 22;

/** A message as a consumer sees it: inner messages of a wrapper get absolute offsets. */
export interface LegacyRecord {
  offset: bigint;
  /** NO_TIMESTAMP (-1) for magic 0. */
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
}

/** One top-level entry of a message set; `records` is itself, or a wrapper's inner messages. */
export interface LegacyMessage {
  offset: bigint;
  magic: LegacyMagic;
  attributes: number;
  compression: number;
  timestampType: TimestampType;
  timestamp: bigint;
  crc: number;
  key: Buffer | null;
  value: Buffer | null;
  records: LegacyRecord[];
  /** Bytes this entry occupies (LOG_OVERHEAD + messageSize). */
  size: number;
}

export interface LegacyDecodeOptions {
  maxDecompressedBytes?: number;
  /** Stop quietly at a partial last entry (fetch responses) instead of throwing. Default false. */
  allowPartial?: boolean;
}

function corrupt(message: string, offset: number): DecodeError {
  return new DecodeError('CORRUPT_RECORD', message, offset);
}

function overhead(magic: number): number {
  return magic === 0 ? MESSAGE_OVERHEAD_V0 : MESSAGE_OVERHEAD_V1;
}

interface RawMessage {
  offset: bigint;
  magic: LegacyMagic;
  attributes: number;
  timestamp: bigint;
  crc: number;
  key: Buffer | null;
  value: Buffer | null;
  size: number;
}

function readBytesField(buf: Buffer, pos: number, end: number, what: string): Buffer | null {
  const len = buf.readInt32BE(pos);
  if (len === -1) return null;
  if (len < 0 || len > end - pos - 4) throw new DecodeError('INVALID_LENGTH', `${what} length ${len} out of range at offset ${pos}`, pos);
  return buf.subarray(pos + 4, pos + 4 + len);
}

/**
 * Reads the message at `pos`; returns null when fewer bytes remain than it needs and `allowPartial`.
 */
function readMessage(buf: Buffer, pos: number, end: number, allowPartial: boolean): RawMessage | null {
  if (end - pos < MAGIC_POS + 1) {
    if (allowPartial) return null;
    throw new DecodeError('TRUNCATED', `message header cut at offset ${pos}`, pos);
  }
  const messageSize = buf.readInt32BE(pos + 8);
  const magic = buf.readInt8(pos + MAGIC_POS);
  if (magic !== 0 && magic !== 1) throw corrupt(`expected magic 0 or 1, found ${magic}`, pos + MAGIC_POS);
  if (messageSize < overhead(magic)) {
    throw new DecodeError('INVALID_LENGTH', `message size ${messageSize} below the ${overhead(magic)}-byte minimum at offset ${pos}`, pos);
  }
  if (messageSize > end - pos - LOG_OVERHEAD) {
    if (allowPartial) return null;
    throw new DecodeError('TRUNCATED', `message of ${messageSize} bytes cut at offset ${pos}`, pos);
  }
  const msgEnd = pos + LOG_OVERHEAD + messageSize;
  const stored = buf.readUInt32BE(pos + CRC_POS);
  const computed = crc32(buf, pos + MAGIC_POS, msgEnd);
  if (stored !== computed) throw corrupt(`message CRC32 mismatch (stored ${stored.toString(16)}, computed ${computed.toString(16)})`, pos + CRC_POS);
  const attributes = buf[pos + ATTRIBUTES_POS]!;
  let p = TIMESTAMP_POS + pos;
  let timestamp = NO_TIMESTAMP;
  if (magic === 1) {
    timestamp = buf.readBigInt64BE(p);
    p += 8;
  }
  const key = readBytesField(buf, p, msgEnd - 4, 'key');
  p += 4 + (key === null ? 0 : key.length);
  const value = readBytesField(buf, p, msgEnd, 'value');
  p += 4 + (value === null ? 0 : value.length);
  if (p !== msgEnd) throw corrupt(`message at offset ${pos} has ${msgEnd - p} bytes after its value`, pos);
  return { offset: buf.readBigInt64BE(pos), magic, attributes, timestamp, crc: stored, key, value, size: LOG_OVERHEAD + messageSize };
}

function timestampTypeOf(magic: number, attributes: number): TimestampType {
  return magic > 0 && attributes & TIMESTAMP_TYPE_MASK ? TimestampType.LogAppendTime : TimestampType.CreateTime;
}

function innerRecords(wrapper: RawMessage, pos: number, maxBytes: number): LegacyRecord[] {
  if (wrapper.value === null) throw corrupt('compressed message without a value', pos);
  const inner = decompress(wrapper.attributes & COMPRESSION_MASK, wrapper.value, maxBytes);
  const raw: RawMessage[] = [];
  for (let p = 0; p < inner.length; ) {
    const m = readMessage(inner, p, inner.length, false)!;
    if (m.attributes & COMPRESSION_MASK) throw corrupt('nested compressed message', pos);
    if (m.magic > wrapper.magic) throw corrupt(`inner magic ${m.magic} above wrapper magic ${wrapper.magic}`, pos);
    raw.push(m);
    p += m.size;
  }
  if (raw.length === 0) throw corrupt('compressed message with no inner messages', pos);
  const logAppend = timestampTypeOf(wrapper.magic, wrapper.attributes) === TimestampType.LogAppendTime;
  const base = wrapper.magic > 0 ? wrapper.offset - raw[raw.length - 1]!.offset : 0n;
  return raw.map((m) => ({
    offset: base + m.offset,
    timestamp: logAppend ? wrapper.timestamp : m.timestamp,
    key: m.key,
    value: m.value,
  }));
}

/** Decodes a message set; wrappers are expanded into their inner messages with absolute offsets. */
export function decodeMessageSet(buf: Buffer, options: LegacyDecodeOptions = {}): LegacyMessage[] {
  const maxBytes = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const out: LegacyMessage[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const m = readMessage(buf, pos, buf.length, options.allowPartial ?? false);
    if (m === null) break;
    const compression = m.attributes & COMPRESSION_MASK;
    const records =
      compression === CompressionType.None
        ? [{ offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value }]
        : innerRecords(m, pos, maxBytes);
    out.push({ ...m, compression, timestampType: timestampTypeOf(m.magic, m.attributes), records });
    pos += m.size;
  }
  return out;
}

/** Decodes the single entry at `pos` (for iterating a mixed log with iterateBatches). */
export function decodeLegacyMessage(buf: Buffer, pos = 0, options: LegacyDecodeOptions = {}): LegacyMessage {
  const m = readMessage(buf, pos, buf.length, false)!;
  const compression = m.attributes & COMPRESSION_MASK;
  const records =
    compression === CompressionType.None
      ? [{ offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value }]
      : innerRecords(m, pos, options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES);
  return { ...m, compression, timestampType: timestampTypeOf(m.magic, m.attributes), records };
}

// ---- encoding ----

export interface LegacyMessageSetInput {
  magic: LegacyMagic;
  compression?: number;
  timestampType?: TimestampType;
  /** Magic 1 with LogAppendTime: the wrapper's timestamp (default: the largest record timestamp). */
  logAppendTime?: bigint;
  records: readonly LegacyRecord[];
}

function messageSize(magic: number, key: Buffer | null, value: Buffer | null): number {
  return overhead(magic) + (key === null ? 0 : key.length) + (value === null ? 0 : value.length);
}

function writeMessage(
  buf: Buffer,
  pos: number,
  offset: bigint,
  magic: number,
  attributes: number,
  timestamp: bigint,
  key: Buffer | null,
  value: Buffer | null,
): number {
  const start = pos;
  buf.writeBigInt64BE(offset, pos);
  buf.writeInt32BE(messageSize(magic, key, value), pos + 8);
  pos += MAGIC_POS;
  buf[pos++] = magic;
  buf[pos++] = attributes;
  if (magic === 1) {
    buf.writeBigInt64BE(timestamp, pos);
    pos += 8;
  }
  for (const field of [key, value]) {
    if (field === null) {
      buf.writeInt32BE(-1, pos);
      pos += 4;
    } else {
      buf.writeInt32BE(field.length, pos);
      pos += 4 + field.copy(buf, pos + 4);
    }
  }
  buf.writeUInt32BE(crc32(buf, start + MAGIC_POS, pos), start + CRC_POS);
  return pos;
}

function writeMessages(
  magic: number,
  attributes: number,
  records: readonly LegacyRecord[],
  offsetOf: (r: LegacyRecord) => bigint,
): Buffer {
  let total = 0;
  for (const r of records) total += LOG_OVERHEAD + messageSize(magic, r.key, r.value);
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const r of records) pos = writeMessage(buf, pos, offsetOf(r), magic, attributes, magic === 1 ? r.timestamp : NO_TIMESTAMP, r.key, r.value);
  return buf;
}

/**
 * Encodes records as a magic 0/1 message set: one message per record, or, when compressed, one
 * wrapper holding them all (as Kafka's legacy builders write a batch).
 */
export function encodeMessageSet(input: LegacyMessageSetInput): Buffer {
  const { magic, records } = input;
  const compression = input.compression ?? CompressionType.None;
  const tsBit = magic === 1 && input.timestampType === TimestampType.LogAppendTime ? TIMESTAMP_TYPE_MASK : 0;
  if (compression === CompressionType.None || records.length === 0) {
    return writeMessages(magic, tsBit, records, (r) => r.offset);
  }
  const first = records[0]!.offset;
  const last = records[records.length - 1]!.offset;
  const inner = writeMessages(magic, tsBit, records, magic === 1 ? (r) => r.offset - first : (r) => r.offset);
  const packed = compress(compression, inner, { legacyLz4HeaderChecksum: magic === 0 });
  let timestamp = NO_TIMESTAMP;
  if (magic === 1) {
    if (tsBit && input.logAppendTime !== undefined) {
      timestamp = input.logAppendTime;
    } else {
      for (const r of records) if (r.timestamp > timestamp) timestamp = r.timestamp;
    }
  }
  const buf = Buffer.allocUnsafe(LOG_OVERHEAD + messageSize(magic, null, packed));
  writeMessage(buf, 0, last, magic, (compression & COMPRESSION_MASK) | tsBit, timestamp, null, packed);
  return buf;
}
