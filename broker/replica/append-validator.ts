// Validation of produced records before they reach the log, as Kafka's LogValidator and
// ProduceRequest.validateRecords do: one magic-2 batch per partition from Produce v3 on, CRCs,
// sizes, offsets, keys on compacted topics, timestamps, codecs; message sets of old clients are
// up-converted to magic 2; a batch whose codec differs from the topic's compression.type is
// recompressed. Otherwise the bytes are kept exactly as they came (no per-record re-encoding).
//
// Record-level rules (a key on compacted topics, the timestamp window, no LogAppendTime from
// producers) fail the whole batch with one record error per offending record, in batch order,
// as Kafka's RecordValidationException carries them (KIP-467), so a client can fail exactly those
// records. Batch-level rules fail the batch with no record errors. The per-record walk runs only
// when the batch's summary shows that some record may break a rule.
import { DecodeError } from '../../protocol/decode-error.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { CompressionType, readBatchHeader, TimestampType, type BatchHeader } from '../../protocol/records/batch-header.ts';
import { messageSetToRecordBatch } from '../../protocol/records/convert.ts';
import {
  batchCompression,
  batchTimestampType,
  decodeRecordBatch,
  encodeRecordBatch,
  isControlBatch,
  iterateBatches,
  MAGIC_V2,
  type RecordsSummary,
  setMaxTimestamp,
  validateRecords,
} from '../../protocol/records/record-batch.ts';
import { isCompacted, type LogConfig } from '../../storage/log-config.ts';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

export interface RecordError {
  batchIndex: number;
  batchIndexErrorMessage: string | null;
}

/** `recordErrors` is non-empty exactly when a record-level rule failed (Kafka then also sends the message). */
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
    // Batch-level checks, as Kafka's LogValidator.validateBatch: no record errors.
    const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
    if (header.lastOffsetDelta < 0) {
      throw new AppendValidationError(ErrorCode.INVALID_RECORD, `Batch has an invalid offset range: [${header.baseOffset}, ${lastOffset}] in topic partition ${tp}`);
    }
    if (summary.count <= 0) {
      throw new AppendValidationError(ErrorCode.INVALID_RECORD, `Invalid reported count for record batch: ${summary.count} in topic partition ${tp}`);
    }
    if (summary.count !== header.lastOffsetDelta + 1) {
      throw new AppendValidationError(ErrorCode.INVALID_RECORD, `Inconsistent batch offset range [${header.baseOffset}, ${lastOffset}] and count of records ${summary.count} in topic partition ${tp}`);
    }
    // Stricter than Kafka, which rewrites such offsets: the batch is stored as it came.
    if (!summary.offsetDeltasSequential) {
      throw new AppendValidationError(ErrorCode.INVALID_RECORD, `Record batch for ${tp} has invalid offsets: ${summary.count} records, last offset delta ${header.lastOffsetDelta}`);
    }
    if (isControlBatch(header.attributes)) {
      throw new AppendValidationError(ErrorCode.INVALID_RECORD, `Clients are not allowed to write control records in topic partition ${tp}`);
    }
    if (header.producerId >= 0n && header.baseSequence < 0) {
      throw new AppendValidationError(ErrorCode.INVALID_RECORD, `Invalid sequence number ${header.baseSequence} in record batch with producerId ${header.producerId} in topic partition ${tp}`);
    }
    if (mayHaveRecordErrors(header, summary, config, opts.now)) {
      const failure = recordErrorsOf(records, e.position, config, opts.now, tp, decodeOptions);
      if (failure) throw failure;
    }
    if (config.messageTimestampType === 'CreateTime') {
      // Kafka stamps every CreateTime batch with the largest record timestamp it found, whatever
      // the producer wrote there (some clients write 0), so time lookups can trust it.
      const recordMax = header.baseTimestamp + BigInt(summary.maxTimestampDelta);
      if (recordMax > INT64_MAX || recordMax < INT64_MIN) {
        throw new AppendValidationError(ErrorCode.INVALID_TIMESTAMP, `Timestamp ${recordMax} of a record in ${tp} is beyond the range of a 64-bit timestamp`);
      }
      if (recordMax !== header.maxTimestamp || batchTimestampType(header.attributes) !== TimestampType.CreateTime) {
        setMaxTimestamp(records, e.position, TimestampType.CreateTime, recordMax);
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

/** Java's Long.MAX_VALUE as LogConfig holds it: no bound. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;
const JAVA_LONG_MAX = (1n << 63n) - 1n;
const NO_TIMESTAMP = -1;

/**
 * Whether some record of the batch may break a record-level rule: a cheap look at the summary
 * (null keys, smallest and largest timestamp), so the per-record walk runs only when it can find
 * something. It may say yes where the walk then finds nothing (a NO_TIMESTAMP record, say).
 */
function mayHaveRecordErrors(header: BatchHeader, summary: RecordsSummary, config: LogConfig, now: number): boolean {
  if (summary.hasNullKey && isCompacted(config)) return true;
  if (batchTimestampType(header.attributes) === TimestampType.LogAppendTime) return true;
  if (config.messageTimestampType !== 'CreateTime') return false;
  const base = Number(header.baseTimestamp);
  return timestampOutOfRange(base + summary.minTimestampDelta, now, config) || timestampOutOfRange(base + summary.maxTimestampDelta, now, config);
}

function timestampOutOfRange(timestamp: number, now: number, config: LogConfig): boolean {
  const before = config.messageTimestampBeforeMaxMs;
  const after = config.messageTimestampAfterMaxMs;
  return (before !== UNBOUNDED && now - timestamp > before) || (after !== UNBOUNDED && timestamp - now > after);
}

/** A bound of the timestamp window as Kafka prints it: Java long arithmetic, overflow included. */
function windowBound(now: number, limit: number, sign: 1n | -1n): bigint {
  const l = limit === UNBOUNDED ? JAVA_LONG_MAX : BigInt(limit);
  return BigInt.asIntN(64, BigInt(now) + sign * l);
}

/**
 * The batch's failure for its record-level errors (each record's, in batch order, as Kafka's
 * LogValidator.validateRecord finds them), or null when every record passes.
 */
export function recordErrorsOf(buf: Buffer, pos: number, config: LogConfig, now: number, tp: string, options: { maxDecompressedBytes?: number } = {}): AppendValidationError | null {
  const batch = decodeRecordBatch(buf, pos, options);
  const h = batch.header;
  const compacted = isCompacted(config);
  const createTimeTopic = config.messageTimestampType === 'CreateTime';
  const logAppendBatch = h.timestampType === TimestampType.LogAppendTime;
  const errors: RecordError[] = [];
  let invalidTimestamp = false;
  let window: string | null = null;
  for (let i = 0; i < batch.records.length; i++) {
    const r = batch.records[i]!;
    if (compacted && r.key === null) {
      errors.push({ batchIndex: i, batchIndexErrorMessage: `Compacted topic cannot accept message without key in topic partition ${tp}` });
      continue;
    }
    // A LogAppendTime batch gives every record its maxTimestamp.
    const timestamp = logAppendBatch ? h.maxTimestamp : h.baseTimestamp + BigInt(r.timestampDelta);
    const offset = h.baseOffset + BigInt(r.offsetDelta);
    if (createTimeTopic && timestamp !== BigInt(NO_TIMESTAMP)) {
      if (timestampOutOfRange(Number(timestamp), now, config)) {
        window ??= `[${windowBound(now, config.messageTimestampBeforeMaxMs, -1n)}, ${windowBound(now, config.messageTimestampAfterMaxMs, 1n)}]`;
        invalidTimestamp = true;
        errors.push({ batchIndex: i, batchIndexErrorMessage: `Timestamp ${timestamp} of message with offset ${offset} is out of range. The timestamp should be within ${window}` });
      }
    } else if (logAppendBatch) {
      invalidTimestamp = true;
      const shown = `DefaultRecord(offset=${offset}, timestamp=${timestamp}, key=${r.key?.length ?? 0} bytes, value=${r.value?.length ?? 0} bytes)`;
      errors.push({ batchIndex: i, batchIndexErrorMessage: `Invalid timestamp type in message ${shown}. Producer should not set timestamp type to LogAppendTime.` });
    }
  }
  if (errors.length === 0) return null;
  // Worded as Kafka's LogValidator.processRecordErrors: INVALID_TIMESTAMP if any record has a bad
  // timestamp (the list still holds every error), else INVALID_RECORD naming the first three.
  if (invalidTimestamp) {
    return new AppendValidationError(ErrorCode.INVALID_TIMESTAMP, 'One or more records have been rejected due to invalid timestamp', errors);
  }
  const shown = errors
    .slice(0, 3)
    .map((e) => `RecordError(batchIndex=${e.batchIndex}, message=${e.batchIndexErrorMessage === null ? 'null' : `'${e.batchIndexErrorMessage}'`})`)
    .join(', ');
  return new AppendValidationError(
    ErrorCode.INVALID_RECORD,
    `One or more records have been rejected due to ${errors.length} record errors in total, and only showing the first three errors at most: [${shown}]`,
    errors,
  );
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

/**
 * KIP-890 part 1: before a producer's first transactional batch of a transaction is appended to a
 * partition, the leader asks the producer's transaction coordinator whether the partition was
 * added to the producer's ongoing transaction (AddPartitionsToTxn with verifyOnly in Kafka). The
 * transaction coordinator provides this; without one, transactional batches are accepted as
 * Kafka 3.0 accepted them.
 */
export interface TransactionVerifier {
  /** Resolves with ErrorCode.NONE when the partition is in the transaction, else the error to answer. */
  verify(request: { transactionalId: string; producerId: bigint; producerEpoch: number; topic: string; partition: number }): Promise<number>;
}
