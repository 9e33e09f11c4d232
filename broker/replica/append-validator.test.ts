import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { CompressionType, readBatchHeader } from '../../protocol/records/batch-header.ts';
import { encodeRecordBatch, validateBatch } from '../../protocol/records/record-batch.ts';
import { defaultLogConfig } from '../../storage/log-config.ts';
import { AppendValidationError, validateProducedRecords } from './append-validator.ts';

const base = 1_700_000_000_000n;
const opts = { apiVersion: 9, topicPartition: 't-0', config: defaultLogConfig, now: Number(base) };

function batch(maxTimestamp?: bigint, compression: number = CompressionType.None): Buffer {
  return encodeRecordBatch({
    baseTimestamp: base,
    maxTimestamp,
    compression,
    records: [0, 5, 2].map((d, i) => ({ offsetDelta: i, timestampDelta: d, key: Buffer.from('k'), value: Buffer.from('v') })),
  });
}

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

  it('refuses timestamps outside message.timestamp.after.max.ms', () => {
    const config = { ...defaultLogConfig, messageTimestampAfterMaxMs: 1 };
    expect(() => validateProducedRecords(batch(), { ...opts, config })).toThrow(expect.objectContaining({ errorCode: ErrorCode.INVALID_TIMESTAMP }));
  });
});
