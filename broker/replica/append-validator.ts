// Validation of produced records before they reach the log, as Kafka's LogValidator and
// ProduceRequest.validateRecords do: one magic-2 batch per partition from Produce v3 on, CRCs,
// sizes, offsets, keys on compacted topics, timestamps, codecs; message sets of old clients are
// up-converted to magic 2; a batch whose codec differs from the topic's compression.type is
// recompressed. Otherwise the bytes are kept exactly as they came (no per-record re-encoding).
import { DecodeError } from '../../protocol/decode-error.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { CompressionType, readBatchHeader, TimestampType, type BatchHeader } from '../../protocol/records/batch-header.ts';
import { messageSetToRecordBatch } from '../../protocol/records/convert.ts';
import { batchCompression, batchTimestampType, decodeRecordBatch, encodeRecordBatch, isControlBatch, iterateBatches, MAGIC_V2, setMaxTimestamp, validateRecords } from '../../protocol/records/record-batch.ts';
import type { LogConfig } from '../../storage/log-config.ts';

export interface RecordError {
  batchIndex: number;
  batchIndexErrorMessage: string | null;
}

export class AppendValidationError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
    readonly recordErrors: RecordError[] = [],
  ) {
    super(message);
  }
}

export interface ValidatedBatch {
  /** Position of the batch in `records`. */
  position: number;
  size: number;
  header: BatchHeader;
}

export interface ValidatedRecords {
  /** Magic-2 batches ready for the log (the request's bytes unless converted or recompressed). */
  records: Buffer;
  batches: ValidatedBatch[];
  recordCount: number;
}

const CODEC_BY_NAME: Record<string, number> = {
  uncompressed: CompressionType.None,
  gzip: CompressionType.Gzip,
  snappy: CompressionType.Snappy,
  lz4: CompressionType.Lz4,
  zstd: CompressionType.Zstd,
};

/** The codec a topic's compression.type asks for, or null for "producer" (keep the producer's). */
export function targetCodec(compressionType: string): number | null {
  return compressionType === 'producer' ? null : (CODEC_BY_NAME[compressionType] ?? null);
}

function corrupt(err: unknown, tp: string): AppendValidationError {
  const msg = err instanceof Error ? err.message : String(err);
  return new AppendValidationError(ErrorCode.CORRUPT_MESSAGE, `Record batch for partition ${tp} is corrupt: ${msg}`);
}

export interface ValidateOptions {
  /** Produce request version: v3+ allows exactly one magic-2 batch; zstd needs v7+. */
  apiVersion: number;
  topicPartition: string;
  config: LogConfig;
  now: number;
  maxDecompressedBytes?: number;
}

export function validateProducedRecords(records: Buffer, opts: ValidateOptions): ValidatedRecords {
  const { apiVersion, topicPartition: tp, config } = opts;
  const decodeOptions = { maxDecompressedBytes: opts.maxDecompressedBytes };
  let entries;
  try {
    entries = [...iterateBatches(records, { allowPartial: false })];
  } catch (err) {
    throw corrupt(err, tp);
  }
  if (entries.length === 0) {
    throw new AppendValidationError(ErrorCode.INVALID_RECORD, `Produce request for ${tp} has no record batch`);
  }
  if (apiVersion >= 3) {
    if (entries.length !== 1) {
      throw new AppendValidationError(ErrorCode.INVALID_RECORD, `Produce requests with version ${apiVersion} are only allowed to contain exactly one record batch`);
    }
    if (entries[0]!.magic !== MAGIC_V2) {
      throw new AppendValidationError(ErrorCode.INVALID_RECORD, `Produce requests with version ${apiVersion} are only allowed to contain record batches with magic version 2`);
    }
  }
  // Old clients send magic 0/1 message sets: the log only holds magic 2, so convert them.
  if (entries.some((e) => e.magic !== MAGIC_V2)) {
    if (entries.some((e) => e.magic === MAGIC_V2)) {
      throw new AppendValidationError(ErrorCode.INVALID_RECORD, `Produce request for ${tp} mixes message formats`);
    }
    let converted: Buffer | null;
    try {
      converted = messageSetToRecordBatch(records, { ...decodeOptions, assignOffsets: true });
    } catch (err) {
      throw corrupt(err, tp);
    }
    if (!converted) throw new AppendValidationError(ErrorCode.INVALID_RECORD, `Produce request for ${tp} has no records`);
    records = converted;
    entries = [...iterateBatches(records, { allowPartial: false })];
  }
  const target = targetCodec(config.compressionType);
  const out: ValidatedBatch[] = [];
  // Batches re-encoded for the topic's codec; null while every batch is kept as it came.
  let rebuilt: Buffer[] | null = null;
  let recordCount = 0;
  for (const e of entries) {
    if (e.size > config.maxMessageBytes) {
      throw new AppendValidationError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `The request included a message larger than the max message size the server will accept: batch of ${e.size} bytes for ${tp}, max.message.bytes is ${config.maxMessageBytes}`,
      );
    }
    let summary;
    try {
      summary = validateRecords(records, e.position, decodeOptions);
    } catch (err) {
      if (err instanceof DecodeError && err.code === 'UNSUPPORTED_COMPRESSION') {
        throw new AppendValidationError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, err.message);
      }
      throw corrupt(err, tp);
    }
    const header = readBatchHeader(records, e.position);
    const codec = batchCompression(header.attributes);
    if (codec === CompressionType.Zstd && apiVersion < 7) {
      throw new AppendValidationError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `Produce requests with version ${apiVersion} are not allowed to use ZStandard compression`);
    }
    if (isControlBatch(header.attributes)) {
      throw new AppendValidationError(ErrorCode.INVALID_RECORD, 'Clients are not allowed to write control records');
    }
    if (summary.count === 0) {
      throw new AppendValidationError(ErrorCode.INVALID_RECORD, `Record batch for ${tp} has no records`);
    }
    if (!summary.offsetDeltasSequential || summary.lastOffsetDelta !== header.lastOffsetDelta || summary.count !== header.lastOffsetDelta + 1) {
      throw new AppendValidationError(ErrorCode.INVALID_RECORD, `Record batch for ${tp} has invalid offsets: ${summary.count} records, last offset delta ${header.lastOffsetDelta}`);
    }
    if (summary.hasNullKey && config.cleanupPolicy.includes('compact')) {
      throw new AppendValidationError(ErrorCode.INVALID_RECORD, `Compacted topic cannot accept message without key in topic partition ${tp}.`, [
        { batchIndex: 0, batchIndexErrorMessage: `Compacted topic cannot accept message without key in topic partition ${tp}.` },
      ]);
    }
    if (config.messageTimestampType === 'CreateTime') {
      // Kafka stamps every CreateTime batch with the largest record timestamp it found, whatever
      // the producer wrote there (some clients write 0), so time lookups can trust it.
      const recordMax = header.baseTimestamp + BigInt(summary.maxTimestampDelta);
      if (recordMax !== header.maxTimestamp || batchTimestampType(header.attributes) !== TimestampType.CreateTime) {
        setMaxTimestamp(records, e.position, TimestampType.CreateTime, recordMax);
      }
      const maxTs = Number(recordMax);
      const baseTs = Number(header.baseTimestamp);
      if (maxTs - opts.now > config.messageTimestampAfterMaxMs || opts.now - baseTs > config.messageTimestampBeforeMaxMs) {
        const message = `Timestamp ${maxTs - opts.now > config.messageTimestampAfterMaxMs ? maxTs : baseTs} of message is out of range. The timestamp should be within [${opts.now - config.messageTimestampBeforeMaxMs}, ${opts.now + config.messageTimestampAfterMaxMs}]`;
        throw new AppendValidationError(ErrorCode.INVALID_TIMESTAMP, message, [{ batchIndex: Math.max(0, summary.maxTimestampIndex), batchIndexErrorMessage: message }]);
      }
    }
    recordCount += summary.count;
    if (target !== null && target !== codec) {
      rebuilt ??= out.map((b) => records.subarray(b.position, b.position + b.size));
      rebuilt.push(recompress(records, e.position, target, decodeOptions));
    } else {
      rebuilt?.push(records.subarray(e.position, e.position + e.size));
    }
    // Read again: the maxTimestamp may have been stamped above.
    out.push({ position: e.position, size: e.size, header: readBatchHeader(records, e.position) });
  }
  if (rebuilt) {
    records = rebuilt.length === 1 ? rebuilt[0]! : Buffer.concat(rebuilt);
    out.length = 0;
    for (const e of iterateBatches(records, { allowPartial: false })) out.push({ position: e.position, size: e.size, header: readBatchHeader(records, e.position) });
  }
  return { records, batches: out, recordCount };
}

/** Re-encodes one batch with another codec, keeping producer fields, timestamps and records. */
function recompress(buf: Buffer, pos: number, codec: number, options: { maxDecompressedBytes?: number }): Buffer {
  const b = decodeRecordBatch(buf, pos, options);
  const h = b.header;
  return encodeRecordBatch({
    baseOffset: h.baseOffset,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    compression: codec,
    timestampType: h.timestampType,
    isTransactional: h.isTransactional,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    baseTimestamp: h.baseTimestamp,
    maxTimestamp: h.maxTimestamp,
    lastOffsetDelta: h.lastOffsetDelta,
    records: b.records,
  });
}
