import { describe, expect, it } from 'vitest';
import { decodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { batchPool, recordsPerBatch, scanBatches } from './record-batches.ts';

describe('load batches', () => {
  it('builds valid batches of unkeyed records of the asked size', () => {
    const [b] = batchPool({ recordSize: 1024, batchBytes: 16 * 1024 }, 1);
    const decoded = decodeRecordBatch(b!);
    expect(decoded.records).toHaveLength(16);
    expect(decoded.records.every((r) => r.key === null && r.value?.length === 1024)).toBe(true);
    expect(recordsPerBatch({ recordSize: 1024, batchBytes: 100 })).toBe(1);
  });

  it('scans complete batches and ignores a cut one at the end', () => {
    const pool = batchPool({ recordSize: 100, batchBytes: 1000 }, 3);
    pool[1]!.writeBigInt64BE(10n, 0);
    pool[2]!.writeBigInt64BE(20n, 0);
    const all = Buffer.concat(pool);
    expect(scanBatches(all)).toEqual({ bytes: all.length, records: 30, nextOffset: 30n });
    const cut = all.subarray(0, all.length - 5);
    expect(scanBatches(cut)).toEqual({ bytes: pool[0]!.length + pool[1]!.length, records: 20, nextOffset: 20n });
    expect(scanBatches(Buffer.alloc(0)).nextOffset).toBe(-1n);
  });
});
