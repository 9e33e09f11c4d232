// Builds one magic-2 record batch as records arrive, writing each record's bytes straight into a
// growing buffer (as the Java producer's MemoryRecordsBuilder does), so a batch costs no object per
// record. build() compresses the records section if asked, then fills the header and its CRC32C.
// Layout and field meaning are those of record-batch.ts; baseOffset is 0 (the broker assigns
// offsets) and the producer fields are "none" (-1) unless an idempotent producer stamps them.
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_MASK,
  CRC_OFFSET,
  CRC_START,
  CompressionType,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
} from '../../protocol/records/batch-header.ts';
import { compress } from '../../protocol/records/compression.ts';
import type { CompressOptions } from '../../protocol/records/compression.ts';
import { crc32c } from '../../protocol/records/crc.ts';
import type { RecordHeader } from '../../protocol/records/record-batch.ts';
import { MAGIC_V2 } from '../../protocol/records/record-batch.ts';
import { sizeOfVarint, sizeOfVarlongNumber, writeVarintAt, writeVarlongNumberAt } from '../../protocol/records/varint.ts';

/** An idempotent producer's identity and the batch's first sequence number. */
export interface ProducerStamp {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
}

export class BatchBuilder {
  readonly baseTimestamp: number;
  private buf: Buffer;
  private pos = RECORD_BATCH_OVERHEAD;
  private maxTimestampDelta = 0;
  count = 0;

  constructor(baseTimestamp: number, capacity: number) {
    this.baseTimestamp = baseTimestamp;
    this.buf = Buffer.allocUnsafe(Math.max(RECORD_BATCH_OVERHEAD + 64, capacity));
  }

  /** Bytes written so far, header included (the uncompressed batch size). */
  get sizeInBytes(): number {
    return this.pos;
  }

  append(timestamp: number, key: Buffer | null, value: Buffer | null, headers?: readonly RecordHeader[]): void {
    const timestampDelta = timestamp - this.baseTimestamp;
    const offsetDelta = this.count;
    let body = 1 + sizeOfVarlongNumber(timestampDelta) + sizeOfVarint(offsetDelta);
    body += key === null ? 1 : sizeOfVarint(key.length) + key.length;
    body += value === null ? 1 : sizeOfVarint(value.length) + value.length;
    if (headers === undefined || headers.length === 0) {
      body += 1;
    } else {
      body += sizeOfVarint(headers.length);
      for (const h of headers) {
        const k = Buffer.byteLength(h.key);
        body += sizeOfVarint(k) + k + (h.value === null ? 1 : sizeOfVarint(h.value.length) + h.value.length);
      }
    }
    this.ensure(sizeOfVarint(body) + body);
    const buf = this.buf;
    let pos = writeVarintAt(buf, this.pos, body);
    buf[pos++] = 0;
    pos = writeVarlongNumberAt(buf, pos, timestampDelta);
    pos = writeVarintAt(buf, pos, offsetDelta);
    if (key === null) buf[pos++] = 1;
    else {
      pos = writeVarintAt(buf, pos, key.length);
      pos += key.copy(buf, pos);
    }
    if (value === null) buf[pos++] = 1;
    else {
      pos = writeVarintAt(buf, pos, value.length);
      pos += value.copy(buf, pos);
    }
    if (headers === undefined || headers.length === 0) buf[pos++] = 0;
    else {
      pos = writeVarintAt(buf, pos, headers.length);
      for (const h of headers) {
        const k = Buffer.byteLength(h.key);
        pos = writeVarintAt(buf, pos, k);
        pos += buf.write(h.key, pos, k, 'utf8');
        if (h.value === null) buf[pos++] = 1;
        else {
          pos = writeVarintAt(buf, pos, h.value.length);
          pos += h.value.copy(buf, pos);
        }
      }
    }
    this.pos = pos;
    if (this.count === 0 || timestampDelta > this.maxTimestampDelta) this.maxTimestampDelta = timestampDelta;
    this.count++;
  }

  /** The finished batch; the builder must not be used afterwards. */
  build(compression: number = CompressionType.None, options?: CompressOptions, stamp?: ProducerStamp): Buffer {
    let out: Buffer;
    if (compression === CompressionType.None) {
      out = this.buf.subarray(0, this.pos);
    } else {
      const packed = compress(compression, this.buf.subarray(RECORD_BATCH_OVERHEAD, this.pos), options);
      out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + packed.length);
      packed.copy(out, RECORD_BATCH_OVERHEAD);
    }
    out.writeInt32BE(0, BASE_OFFSET_OFFSET);
    out.writeInt32BE(0, BASE_OFFSET_OFFSET + 4);
    out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
    out.writeInt32BE(NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET);
    out[MAGIC_OFFSET] = MAGIC_V2;
    out.writeInt16BE(compression & COMPRESSION_MASK, ATTRIBUTES_OFFSET);
    out.writeInt32BE(Math.max(0, this.count - 1), LAST_OFFSET_DELTA_OFFSET);
    out.writeBigInt64BE(BigInt(this.baseTimestamp), BASE_TIMESTAMP_OFFSET);
    out.writeBigInt64BE(BigInt(this.baseTimestamp + this.maxTimestampDelta), MAX_TIMESTAMP_OFFSET);
    if (stamp === undefined) {
      out.writeInt32BE(-1, PRODUCER_ID_OFFSET);
      out.writeInt32BE(-1, PRODUCER_ID_OFFSET + 4);
    } else {
      out.writeBigInt64BE(stamp.producerId, PRODUCER_ID_OFFSET);
    }
    out.writeInt16BE(stamp?.producerEpoch ?? NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
    out.writeInt32BE(stamp?.baseSequence ?? NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
    out.writeInt32BE(this.count, RECORDS_COUNT_OFFSET);
    out.writeUInt32BE(crc32c(out, CRC_START), CRC_OFFSET);
    return out;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}
