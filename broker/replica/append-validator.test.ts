import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { CompressionType, readBatchHeader, TimestampType } from '../../protocol/records/batch-header.ts';
import { encodeMessageSet } from '../../protocol/records/legacy-message-set.ts';
import { encodeRecordBatch, validateBatch } from '../../protocol/records/record-batch.ts';
import { defaultLogConfig, type LogConfig } from '../../storage/log-config.ts';
import { AppendValidationError, validateProducedRecords } from './append-validator.ts';

const base = 1_700_000_000_000n;
const now = Number(base);
const opts = { apiVersion: 9, topicPartition: 't-0', config: defaultLogConfig, now };
const compacted: LogConfig = { ...defaultLogConfig, cleanupPolicy: ['compact'] };

function batch(maxTimestamp?: bigint, compression: number = CompressionType.None): Buffer {
  return encodeRecordBatch({
    baseTimestamp: base,
    maxTimestamp,
    compression,
    records: [0, 5, 2].map((d, i) => ({ offsetDelta: i, timestampDelta: d, key: Buffer.from('k'), value: Buffer.from('v') })),
  });
}

interface Rec {
  key?: string | null;
  /** Offset from `base`. */
  ts?: number;
}

function records(recs: Rec[], over: { compression?: number; baseTimestamp?: bigint; timestampType?: TimestampType; producerId?: bigint; baseSequence?: number } = {}): Buffer {
  const baseTimestamp = over.baseTimestamp ?? base;
  return encodeRecordBatch({
    baseTimestamp,
    compression: over.compression ?? CompressionType.None,
    timestampType: over.timestampType,
    producerId: over.producerId,
    producerEpoch: over.producerId === undefined ? undefined : 0,
    baseSequence: over.baseSequence,
    records: recs.map((r, i) => ({
      offsetDelta: i,
      timestampDelta: Number(base + BigInt(r.ts ?? 0) - baseTimestamp),
      key: r.key === null ? null : Buffer.from(r.key ?? `k${i}`),
      value: Buffer.from(`v${i}`),
    })),
  });
}

/** `count` records, keyless at `keyless`. */
function keyed(count: number, keyless: number[]): Rec[] {
  return Array.from({ length: count }, (_, i) => ({ key: keyless.includes(i) ? null : `k${i}` }));
}

function failure(fn: () => unknown): AppendValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppendValidationError) return err;
    throw err;
  }
  throw new Error('expected the batch to be refused');
}

const NO_KEY = 'Compacted topic cannot accept message without key in topic partition t-0';

describe('validateProducedRecords', () => {
  it('stamps a CreateTime batch with its largest record timestamp, as Kafka does, keeping the CRC valid', () => {
    for (const compression of [CompressionType.None, CompressionType.Gzip]) {
      const v = validateProducedRecords(batch(0n, compression), opts);
      expect(readBatchHeader(v.records, 0).maxTimestamp).toBe(base + 5n);
      expect(() => validateBatch(v.records, 0)).not.toThrow();
    }
  });

  it('leaves a correct batch untouched', () => {
    const b = batch();
    const copy = Buffer.from(b);
    validateProducedRecords(b, opts);
    expect(b.equals(copy)).toBe(true);
  });

  it('refuses two batches in one partition from Produce v3 on, and zstd before v7', () => {
    const two = Buffer.concat([batch(), batch()]);
    expect(() => validateProducedRecords(two, opts)).toThrow(expect.objectContaining({ errorCode: ErrorCode.INVALID_RECORD }));
    expect(() => validateProducedRecords(batch(undefined, CompressionType.Zstd), { ...opts, apiVersion: 6 })).toThrow(AppendValidationError);
  });
});

describe('record errors', () => {
  it('names every keyless record of a batch to a compacted topic, in batch order, uncompressed or not', () => {
    for (const compression of [CompressionType.None, CompressionType.Gzip, CompressionType.Lz4]) {
      const err = failure(() => validateProducedRecords(records(keyed(100, [3, 17, 42, 43, 99]), { compression }), { ...opts, config: compacted }));
      expect(err.errorCode).toBe(ErrorCode.INVALID_RECORD);
      expect(err.recordErrors).toEqual([3, 17, 42, 43, 99].map((batchIndex) => ({ batchIndex, batchIndexErrorMessage: NO_KEY })));
      expect(err.message).toBe(
        'One or more records have been rejected due to 5 record errors in total, and only showing the first three errors at most: ' +
          `[RecordError(batchIndex=3, message='${NO_KEY}'), RecordError(batchIndex=17, message='${NO_KEY}'), RecordError(batchIndex=42, message='${NO_KEY}')]`,
      );
    }
  });

  it('lets keyless records through where the topic is not compacted, and keyed ones where it is', () => {
    expect(validateProducedRecords(records(keyed(10, [0, 9])), opts).recordCount).toBe(10);
    expect(validateProducedRecords(records(keyed(10, [])), { ...opts, config: compacted }).recordCount).toBe(10);
    expect(validateProducedRecords(records(keyed(3, [1])), { ...opts, config: { ...defaultLogConfig, cleanupPolicy: ['delete'] } }).recordCount).toBe(3);
  });

  it('names every record older than message.timestamp.before.max.ms, wherever it sits in the batch', () => {
    const config = { ...defaultLogConfig, messageTimestampBeforeMaxMs: 1000 };
    // The first and largest timestamps are fine: only a record-by-record look finds 2 and 4.
    const recs: Rec[] = [{ ts: 0 }, { ts: 500 }, { ts: -5000 }, { ts: -1000 }, { ts: -1001 }];
    const err = failure(() => validateProducedRecords(records(recs), { ...opts, config }));
    expect(err.errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(err.message).toBe('One or more records have been rejected due to invalid timestamp');
    // The upper bound is Java's now + Long.MAX_VALUE, overflow included.
    const window = `[${now - 1000}, -9223370336854775809]`;
    expect(err.recordErrors).toEqual([
      { batchIndex: 2, batchIndexErrorMessage: `Timestamp ${now - 5000} of message with offset 2 is out of range. The timestamp should be within ${window}` },
      { batchIndex: 4, batchIndexErrorMessage: `Timestamp ${now - 1001} of message with offset 4 is out of range. The timestamp should be within ${window}` },
    ]);
  });

  it('names every record newer than message.timestamp.after.max.ms, and skips records without a timestamp', () => {
    const config = { ...defaultLogConfig, messageTimestampBeforeMaxMs: 60_000, messageTimestampAfterMaxMs: 10 };
    const recs: Rec[] = [{ ts: 11 }, { ts: 0 }, { ts: 10 }, { ts: 3_600_000 }];
    const err = failure(() => validateProducedRecords(records(recs, { compression: CompressionType.Snappy }), { ...opts, config }));
    expect(err.errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(err.recordErrors.map((e) => e.batchIndex)).toEqual([0, 3]);
    expect(err.recordErrors[1]!.batchIndexErrorMessage).toBe(`Timestamp ${now + 3_600_000} of message with offset 3 is out of range. The timestamp should be within [${now - 60_000}, ${now + 10}]`);
    // NO_TIMESTAMP (-1) is not checked, as in Kafka.
    const noTs = encodeRecordBatch({ baseTimestamp: -1n, records: [{ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k'), value: null }] });
    expect(validateProducedRecords(noTs, { ...opts, config }).recordCount).toBe(1);
  });

  it('reports key and timestamp errors together as INVALID_TIMESTAMP, a keyless record only for its key', () => {
    const config: LogConfig = { ...compacted, messageTimestampAfterMaxMs: 0 };
    const recs: Rec[] = [{ key: 'a' }, { key: null, ts: 50 }, { key: 'b', ts: 50 }, { key: null }];
    const err = failure(() => validateProducedRecords(records(recs), { ...opts, config }));
    expect(err.errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(err.recordErrors.map((e) => [e.batchIndex, e.batchIndexErrorMessage!.split(' of ')[0]])).toEqual([
      [1, NO_KEY],
      [2, `Timestamp ${now + 50}`],
      [3, NO_KEY],
    ]);
  });

  it('refuses every record of a batch a producer marked LogAppendTime, and checks no window on LogAppendTime topics', () => {
    const config: LogConfig = { ...defaultLogConfig, messageTimestampType: 'LogAppendTime', messageTimestampBeforeMaxMs: 1 };
    const err = failure(() => validateProducedRecords(records([{}, {}], { timestampType: TimestampType.LogAppendTime }), { ...opts, config }));
    expect(err.errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(err.recordErrors).toEqual([0, 1].map((i) => ({
      batchIndex: i,
      batchIndexErrorMessage: `Invalid timestamp type in message DefaultRecord(offset=${i}, timestamp=${base}, key=2 bytes, value=2 bytes). Producer should not set timestamp type to LogAppendTime.`,
    })));
    expect(validateProducedRecords(records([{ ts: -10_000 }, { ts: 10_000 }]), { ...opts, config }).recordCount).toBe(2);
  });

  it('refuses batch-level faults with no record errors', () => {
    const seq = failure(() => validateProducedRecords(records(keyed(2, [0]), { producerId: 7n, baseSequence: -1 }), { ...opts, config: compacted }));
    expect(seq).toMatchObject({ errorCode: ErrorCode.INVALID_RECORD, recordErrors: [], message: 'Invalid sequence number -1 in record batch with producerId 7 in topic partition t-0' });
    const tooBig = failure(() => validateProducedRecords(records(keyed(50, [1])), { ...opts, config: { ...compacted, maxMessageBytes: 100 } }));
    expect(tooBig).toMatchObject({ errorCode: ErrorCode.MESSAGE_TOO_LARGE, recordErrors: [] });
    const control = encodeRecordBatch({ baseTimestamp: base, isControl: true, records: [{ offsetDelta: 0, timestampDelta: 0, key: null, value: null }] });
    expect(failure(() => validateProducedRecords(control, { ...opts, config: compacted }))).toMatchObject({ errorCode: ErrorCode.INVALID_RECORD, recordErrors: [] });
  });

  it('finds record errors in old clients\' message sets once converted', () => {
    const ms = encodeMessageSet({ magic: 1, records: [0, 1, 2].map((i) => ({ offset: BigInt(i), timestamp: base, key: i === 1 ? null : Buffer.from('k'), value: Buffer.from('v') })) });
    const err = failure(() => validateProducedRecords(ms, { ...opts, apiVersion: 2, config: compacted }));
    expect(err.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(err.recordErrors.map((e) => e.batchIndex)).toEqual([1]);
  });

  it('refuses a batch whose base timestamp plus a record\'s delta is beyond a 64-bit long, as INVALID_TIMESTAMP', () => {
    const edge = 2n ** 63n - 2n;
    const buf = encodeRecordBatch({ baseTimestamp: edge, maxTimestamp: edge, records: [0, 5].map((d, i) => ({ offsetDelta: i, timestampDelta: d, key: Buffer.from('k'), value: Buffer.from('v') })) });
    const err = failure(() => validateProducedRecords(buf, opts));
    expect(err.errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
  });
});
