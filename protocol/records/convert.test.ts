import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompressionType, TimestampType } from './batch-header.ts';
import { encodeEndTxnMarkerBatch } from './control-record.ts';
import { type AbortedTransaction, messageSetToRecordBatch, recordBatchesToMessageSet } from './convert.ts';
import { decodeMessageSet, encodeMessageSet } from './legacy-message-set.ts';
import { absoluteRecords, decodeRecordBatch, encodeRecordBatch, validateBatch } from './record-batch.ts';

const CODECS = [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];
const bytesArb = (max: number) => fc.option(fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a)));

describe('message set to record batch (old producers)', () => {
  it('preserves offsets, timestamps, keys, values and the codec', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: bytesArb(20), value: bytesArb(100), timestamp: fc.bigInt({ min: 0n, max: 2n ** 44n }) }), { minLength: 1, maxLength: 20 }),
        fc.constantFrom<0 | 1>(0, 1),
        fc.constantFrom(...CODECS),
        (rs, magic, compression) => {
          const records = rs.map((r, i) => ({ ...r, offset: 1000n + BigInt(i * 2) }));
          const batch = messageSetToRecordBatch(encodeMessageSet({ magic, compression, records }))!;
          const decoded = decodeRecordBatch(batch);
          expect(decoded.header.compression).toBe(compression);
          expect(absoluteRecords(decoded)).toEqual(records.map((r) => ({ ...r, timestamp: magic === 0 ? -1n : r.timestamp, headers: [] })));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('assigns offsets 0..n-1 when asked and honours a codec override', () => {
    const set = encodeMessageSet({ magic: 1, records: [5n, 9n].map((offset) => ({ offset, timestamp: 1n, key: null, value: Buffer.from('v') })) });
    const d = decodeRecordBatch(messageSetToRecordBatch(set, { assignOffsets: true, compression: CompressionType.Zstd })!);
    expect([d.header.baseOffset, d.header.compression, d.records.map((r) => r.offsetDelta)]).toEqual([0n, CompressionType.Zstd, [0, 1]]);
    expect(messageSetToRecordBatch(Buffer.alloc(0))).toBeNull();
  });
});

describe('record batches to message set (Fetch v0-v3)', () => {
  it('keeps offsets, keys, values, codec and (magic 1) timestamps', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: bytesArb(20), value: bytesArb(100), tsDelta: fc.integer({ min: 0, max: 10_000 }) }), { minLength: 1, maxLength: 20 }),
        fc.constantFrom<0 | 1>(0, 1),
        fc.constantFrom(...CODECS),
        fc.constantFrom(TimestampType.CreateTime, TimestampType.LogAppendTime),
        (rs, magic, compression, timestampType) => {
          const batch = encodeRecordBatch({
            baseOffset: 500n,
            compression,
            timestampType,
            baseTimestamp: 1_000_000n,
            maxTimestamp: timestampType === TimestampType.LogAppendTime ? 2_000_000n : undefined,
            records: rs.map((r, i) => ({ offsetDelta: i, timestampDelta: r.tsDelta, key: r.key, value: r.value, headers: [{ key: 'dropped', value: null }] })),
          });
          const expected = absoluteRecords(decodeRecordBatch(batch)).map((r) => ({ offset: r.offset, timestamp: magic === 0 ? -1n : r.timestamp, key: r.key, value: r.value }));
          const set = recordBatchesToMessageSet(batch, { magic });
          const msgs = decodeMessageSet(set);
          expect(msgs.flatMap((m) => m.records)).toEqual(expected);
          expect(msgs.every((m) => m.magic === magic && m.compression === compression)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('drops control batches, aborted data (when told) and a partial trailing batch; copies old messages', () => {
    const txn = (baseOffset: bigint, producerId: bigint) =>
      encodeRecordBatch({ baseOffset, isTransactional: true, producerId, producerEpoch: 0, baseTimestamp: 0n, records: [{ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from(`p${producerId}@${baseOffset}`) }] });
    const legacy = encodeMessageSet({ magic: 0, records: [{ offset: 0n, timestamp: -1n, key: null, value: Buffer.from('old') }] });
    const log = Buffer.concat([
      legacy,
      txn(1n, 7n),
      txn(2n, 8n),
      encodeEndTxnMarkerBatch({ baseOffset: 3n, producerId: 7n, producerEpoch: 0, timestamp: 0n, commit: false, coordinatorEpoch: 0 }),
      encodeEndTxnMarkerBatch({ baseOffset: 4n, producerId: 8n, producerEpoch: 0, timestamp: 0n, commit: true, coordinatorEpoch: 0 }),
      txn(5n, 7n),
    ]);
    const partial = Buffer.concat([log, txn(6n, 9n).subarray(0, 30)]);
    const values = (buf: Buffer) => decodeMessageSet(buf).flatMap((m) => m.records.map((r) => r.value!.toString()));
    expect(values(recordBatchesToMessageSet(partial, { magic: 1 }))).toEqual(['old', 'p7@1', 'p8@2', 'p7@5']);
    const aborted: AbortedTransaction[] = [{ producerId: 7n, firstOffset: 1n }];
    expect(values(recordBatchesToMessageSet(partial, { magic: 1, abortedTransactions: aborted }))).toEqual(['old', 'p8@2', 'p7@5']);
    expect(recordBatchesToMessageSet(log, { magic: 0 }).subarray(0, legacy.length).equals(legacy)).toBe(true);
  });

  it('down-converts magic 1 messages to magic 0', () => {
    const m1 = encodeMessageSet({ magic: 1, compression: CompressionType.Gzip, records: [3n, 4n].map((offset) => ({ offset, timestamp: 9n, key: null, value: Buffer.from('x') })) });
    const out = decodeMessageSet(recordBatchesToMessageSet(m1, { magic: 0 }));
    expect(out.map((m) => [m.magic, m.compression, m.records.map((r) => [r.offset, r.timestamp])])).toEqual([[0, CompressionType.Gzip, [[3n, -1n], [4n, -1n]]]]);
    validateBatch(messageSetToRecordBatch(m1)!);
  });
});
