import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompressionType } from '../../protocol/records/batch-header.ts';
import { absoluteRecords, decodeRecordBatch, encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { BatchBuilder } from './batch-builder.ts';

const recordArb = fc.record({
  dt: fc.integer({ min: -1000, max: 100_000 }),
  key: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 8 }), value: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: null }) }), { maxLength: 3 }),
});

describe('BatchBuilder', () => {
  it('writes the same bytes as encodeRecordBatch for uncompressed batches', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 30 }), (rs) => {
        const base = 1_700_000_000_000;
        const b = new BatchBuilder(base, 80); // small on purpose: the buffer must grow
        const inputs = rs.map((r, i) => ({
          timestampDelta: r.dt,
          offsetDelta: i,
          key: r.key && Buffer.from(r.key),
          value: r.value && Buffer.from(r.value),
          headers: r.headers.map((h) => ({ key: h.key, value: h.value && Buffer.from(h.value) })),
        }));
        for (const r of inputs) b.append(base + r.timestampDelta, r.key, r.value, r.headers);
        expect(b.build().equals(encodeRecordBatch({ baseTimestamp: BigInt(base), records: inputs }))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips through every codec', () => {
    for (const codec of [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd]) {
      const b = new BatchBuilder(1000, 1024);
      for (let i = 0; i < 50; i++) b.append(1000 + i, Buffer.from(`k${i}`), Buffer.from(`value number ${i}`), [{ key: 'h', value: Buffer.from('x') }]);
      const batch = decodeRecordBatch(b.build(codec));
      expect(batch.header.compression).toBe(codec);
      const records = absoluteRecords(batch);
      expect(records).toHaveLength(50);
      expect(records[49]!.value?.toString()).toBe('value number 49');
      expect(records[49]!.timestamp).toBe(1049n);
      expect(batch.header.maxTimestamp).toBe(1049n);
      expect(batch.header.lastOffsetDelta).toBe(49);
    }
  });
});
