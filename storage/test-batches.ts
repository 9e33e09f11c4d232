// Builds valid uncompressed magic-2 record batches for storage tests and benchmarks.
// Record layout (per the Kafka protocol guide): varint length, int8 attributes, varlong
// timestampDelta, varint offsetDelta, varint key length (-1 null) + key, varint value length + value,
// varint header count (0 here). The CRC32C covers attributes..end.
import { crc32c } from '@node-rs/crc32';
import { CRC_OFFSET, CRC_START, RECORD_BATCH_OVERHEAD } from '../protocol/records/batch-header.ts';

export interface TestRecord {
  key?: Buffer | null;
  value: Buffer | null;
  timestamp?: number;
}

export interface TestBatchOptions {
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  timestamp?: number; // base timestamp; records without their own get base + index
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  control?: boolean;
  attributes?: number; // extra attribute bits
}

function varintSize(v: number): number {
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  while (u >= 0x80) {
    buf[pos++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  buf[pos++] = u;
  return pos;
}

export function buildBatch(records: TestRecord[], opts: TestBatchOptions = {}): Buffer {
  if (records.length === 0) throw new Error('a batch needs at least one record');
  const baseTs = opts.timestamp ?? records[0]!.timestamp ?? 0;
  const bodies: { ts: number; key: Buffer | null; value: Buffer | null; size: number }[] = [];
  let total = RECORD_BATCH_OVERHEAD;
  let maxTs = -1;
  records.forEach((r, i) => {
    const ts = r.timestamp ?? baseTs + i;
    maxTs = Math.max(maxTs, ts);
    const key = r.key ?? null;
    const value = r.value;
    const inner =
      1 +
      varintSize(ts - baseTs) +
      varintSize(i) +
      (key === null ? varintSize(-1) : varintSize(key.length) + key.length) +
      (value === null ? varintSize(-1) : varintSize(value.length) + value.length) +
      varintSize(0);
    bodies.push({ ts, key, value, size: inner });
    total += varintSize(inner) + inner;
  });
  const buf = Buffer.alloc(total);
  let attributes = opts.attributes ?? 0;
  if (opts.transactional) attributes |= 0x10;
  if (opts.control) attributes |= 0x20;
  buf.writeBigInt64BE(BigInt(opts.baseOffset ?? 0), 0);
  buf.writeInt32BE(total - 12, 8);
  buf.writeInt32BE(opts.partitionLeaderEpoch ?? -1, 12);
  buf.writeInt8(2, 16);
  buf.writeInt16BE(attributes, 21);
  buf.writeInt32BE(records.length - 1, 23);
  buf.writeBigInt64BE(BigInt(baseTs), 27);
  buf.writeBigInt64BE(BigInt(maxTs), 35);
  buf.writeBigInt64BE(BigInt(opts.producerId ?? -1), 43);
  buf.writeInt16BE(opts.producerEpoch ?? -1, 51);
  buf.writeInt32BE(opts.baseSequence ?? -1, 53);
  buf.writeInt32BE(records.length, 57);
  let pos = RECORD_BATCH_OVERHEAD;
  bodies.forEach((b, i) => {
    pos = writeVarint(buf, pos, b.size);
    buf[pos++] = 0;
    pos = writeVarint(buf, pos, b.ts - baseTs);
    pos = writeVarint(buf, pos, i);
    if (b.key === null) pos = writeVarint(buf, pos, -1);
    else {
      pos = writeVarint(buf, pos, b.key.length);
      pos += b.key.copy(buf, pos);
    }
    if (b.value === null) pos = writeVarint(buf, pos, -1);
    else {
      pos = writeVarint(buf, pos, b.value.length);
      pos += b.value.copy(buf, pos);
    }
    pos = writeVarint(buf, pos, 0);
  });
  fixCrc(buf);
  return buf;
}

/** Recomputes the CRC of the single batch in `buf` (after editing covered fields). */
export function fixCrc(buf: Buffer, pos = 0): void {
  const size = 12 + buf.readInt32BE(pos + 8);
  buf.writeUInt32BE(crc32c(buf.subarray(pos + CRC_START, pos + size)) >>> 0, pos + CRC_OFFSET);
}

/** A batch of `count` records of `valueSize` bytes each (value bytes derived from `seed`). */
export function buildSimpleBatch(count: number, valueSize: number, opts: TestBatchOptions & { seed?: number } = {}): Buffer {
  const records: TestRecord[] = [];
  for (let i = 0; i < count; i++) {
    const value = Buffer.alloc(valueSize, ((opts.seed ?? 0) + i) & 0xff);
    records.push({ value });
  }
  return buildBatch(records, opts);
}
