import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../decode-error.ts';
import { CompressionType, RECORD_BATCH_OVERHEAD, TimestampType, readBatchHeader } from './batch-header.ts';
import {
  ControlRecordType,
  encodeEndTxnMarkerBatch,
  parseControlRecordKey,
  parseEndTxnMarker,
} from './control-record.ts';
import {
  type RecordInput,
  absoluteRecords,
  decodeRecordBatch,
  encodeRecordBatch,
  iterateBatches,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  validateBatch,
  validateRecords,
} from './record-batch.ts';

const require = createRequire(import.meta.url);
const CODECS = [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];

/** Bitwise CRC32C (reflected polynomial 0x82F63B78), independent of the native one under test. */
function referenceCrc32c(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function decodeErrorOf(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    return err as DecodeError;
  }
  throw new Error('expected a DecodeError, nothing was thrown');
}

function onlyDecodeErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
  }
}

// A batch laid out by hand from the protocol guide: two records, the second with a header.
function handBuiltBatch(): Buffer {
  const records = Buffer.from([
    0x10, 0x00, 0x00, 0x00, 0x02, 0x6b, 0x02, 0x76, 0x00, // len 8, attrs, tsΔ 0, offΔ 0, key "k", value "v", 0 headers
    0x16, 0x00, 0x0a, 0x02, 0x01, 0x04, 0x61, 0x62, 0x02, 0x02, 0x68, 0x01, // len 11, tsΔ 5, offΔ 1, key null, value "ab", 1 header "h"=null
  ]);
  const afterCrc = Buffer.alloc(40);
  afterCrc.writeInt16BE(0, 0); // attributes
  afterCrc.writeInt32BE(1, 2); // lastOffsetDelta
  afterCrc.writeBigInt64BE(1_700_000_000_000n, 6);
  afterCrc.writeBigInt64BE(1_700_000_000_005n, 14);
  afterCrc.writeBigInt64BE(7n, 22); // producerId
  afterCrc.writeInt16BE(1, 30); // producerEpoch
  afterCrc.writeInt32BE(3, 32); // baseSequence
  afterCrc.writeInt32BE(2, 36); // records count
  const crcd = Buffer.concat([afterCrc, records]);
  const head = Buffer.alloc(21);
  head.writeBigInt64BE(100n, 0);
  head.writeInt32BE(9 + crcd.length, 8);
  head.writeInt32BE(5, 12);
  head.writeInt8(2, 16);
  head.writeUInt32BE(referenceCrc32c(crcd), 17);
  return Buffer.concat([head, crcd]);
}

const handBuiltInput = {
  baseOffset: 100n,
  partitionLeaderEpoch: 5,
  producerId: 7n,
  producerEpoch: 1,
  baseSequence: 3,
  baseTimestamp: 1_700_000_000_000n,
  records: [
    { offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k'), value: Buffer.from('v'), headers: [] },
    { offsetDelta: 1, timestampDelta: 5, key: null, value: Buffer.from('ab'), headers: [{ key: 'h', value: null }] },
  ],
};

describe('known answer', () => {
  it('decodes a batch built byte by byte', () => {
    const buf = handBuiltBatch();
    const { header, records, size } = decodeRecordBatch(buf);
    expect(size).toBe(buf.length);
    expect(header).toMatchObject({
      baseOffset: 100n,
      partitionLeaderEpoch: 5,
      magic: 2,
      lastOffsetDelta: 1,
      baseTimestamp: 1_700_000_000_000n,
      maxTimestamp: 1_700_000_000_005n,
      producerId: 7n,
      producerEpoch: 1,
      baseSequence: 3,
      recordsCount: 2,
      compression: 0,
      timestampType: TimestampType.CreateTime,
      isTransactional: false,
      isControl: false,
    });
    expect(records).toEqual(handBuiltInput.records.map((r) => ({ ...r, attributes: 0 })));
    expect(records[0]!.key!.buffer).toBe(buf.buffer); // a view, not a copy
  });

  it('encodes the same bytes', () => {
    expect(encodeRecordBatch(handBuiltInput).equals(handBuiltBatch())).toBe(true);
  });
});

const headerArb = fc.record({ key: fc.string({ maxLength: 8 }), value: fc.option(fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a))) });
const recordArb = fc.record({
  attributes: fc.constant(0),
  timestampDelta: fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -(2 ** 50), max: 2 ** 50 })),
  key: fc.option(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a))),
  value: fc.option(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))),
  headers: fc.array(headerArb, { maxLength: 3 }),
});
const batchArb = fc.record({
  baseOffset: fc.bigInt({ min: 0n, max: 2n ** 62n }),
  partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  compression: fc.constantFrom(...CODECS),
  timestampType: fc.constantFrom(TimestampType.CreateTime, TimestampType.LogAppendTime),
  isTransactional: fc.boolean(),
  producerId: fc.bigInt({ min: -1n, max: 2n ** 62n }),
  producerEpoch: fc.integer({ min: -1, max: 32767 }),
  baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  baseTimestamp: fc.bigInt({ min: 0n, max: 2n ** 45n }),
  maxTimestamp: fc.bigInt({ min: 0n, max: 2n ** 45n }),
  records: fc.array(recordArb, { maxLength: 30 }).map((rs) => rs.map((r, i) => ({ ...r, offsetDelta: i }))),
});

describe('round trip', () => {
  it('decode(encode(batch)) gives the batch back, for every codec and timestamp type', () => {
    fc.assert(
      fc.property(batchArb, (input) => {
        const buf = encodeRecordBatch(input);
        const decoded = decodeRecordBatch(buf);
        expect(decoded.records).toEqual(input.records);
        expect(decoded.header).toMatchObject({
          baseOffset: input.baseOffset,
          partitionLeaderEpoch: input.partitionLeaderEpoch,
          compression: input.compression,
          timestampType: input.timestampType,
          isTransactional: input.isTransactional,
          producerId: input.producerId,
          producerEpoch: input.producerEpoch,
          baseSequence: input.baseSequence,
          baseTimestamp: input.baseTimestamp,
          maxTimestamp: input.maxTimestamp,
          recordsCount: input.records.length,
        });
        const summary = validateRecords(buf);
        expect(summary.count).toBe(input.records.length);
        expect(summary.offsetDeltasSequential).toBe(true);
        expect(summary.hasNullKey).toBe(input.records.some((r) => r.key === null));
      }),
      { numRuns: 150 },
    );
  });

  it('absolute records follow LogAppendTime', () => {
    const buf = encodeRecordBatch({ ...handBuiltInput, timestampType: TimestampType.LogAppendTime, maxTimestamp: 42n });
    expect(absoluteRecords(decodeRecordBatch(buf)).map((r) => [r.offset, r.timestamp])).toEqual([
      [100n, 42n],
      [101n, 42n],
    ]);
  });
});

describe('kafkajs as an oracle', () => {
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js');
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js');
  const Long = require('kafkajs/src/utils/long.js');

  for (const compression of [CompressionType.None, CompressionType.Gzip]) {
    it(`decodes what kafkajs encodes (codec ${compression})`, async () => {
      const records = [
        Record({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('a'), value: Buffer.from('one'), headers: { h1: Buffer.from('x') } }),
        Record({ offsetDelta: 1, timestampDelta: 3, key: null, value: Buffer.from('two') }),
      ];
      const encoder = await RecordBatch({
        compression,
        firstOffset: Long.fromInt(9),
        firstTimestamp: 1000,
        maxTimestamp: 1003,
        lastOffsetDelta: 1,
        producerId: Long.fromInt(55),
        producerEpoch: 2,
        firstSequence: 10,
        records,
      });
      const buf: Buffer = encoder.buffer;
      const decoded = decodeRecordBatch(buf);
      expect(decoded.header).toMatchObject({ baseOffset: 9n, compression, producerId: 55n, producerEpoch: 2, baseSequence: 10, maxTimestamp: 1003n });
      expect(decoded.records.map((r) => [r.offsetDelta, r.timestampDelta, r.key?.toString() ?? null, r.value?.toString(), r.headers.map((h) => [h.key, h.value?.toString()])])).toEqual([
        [0, 0, 'a', 'one', [['h1', 'x']]],
        [1, 3, null, 'two', []],
      ]);
    });
  }
});

describe('bad input raises DecodeError and nothing else', () => {
  const samples = CODECS.map((compression) => encodeRecordBatch({ ...handBuiltInput, compression }));

  it('truncated at every offset', () => {
    for (const buf of samples) {
      for (let k = 0; k < buf.length; k++) {
        const cut = buf.subarray(0, k);
        decodeErrorOf(() => validateBatch(cut));
        decodeErrorOf(() => decodeRecordBatch(cut));
        decodeErrorOf(() => validateRecords(cut));
      }
    }
  });

  it('bad CRC, bad magic, bad lengths, bad count', () => {
    const good = samples[0]!;
    const flip = (at: number, fn: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      fn(b);
      return b;
    };
    expect(decodeErrorOf(() => validateBatch(flip(RECORD_BATCH_OVERHEAD + 2, (b) => (b[RECORD_BATCH_OVERHEAD + 2]! ^= 1)))).code).toBe('CORRUPT_RECORD');
    expect(decodeErrorOf(() => validateBatch(flip(16, (b) => (b[16] = 3)))).code).toBe('CORRUPT_RECORD');
    expect(decodeErrorOf(() => validateBatch(flip(16, (b) => (b[16] = 1)))).code).toBe('CORRUPT_RECORD');
    expect(decodeErrorOf(() => validateBatch(flip(8, (b) => b.writeInt32BE(-5, 8)))).code).toBe('INVALID_LENGTH');
    expect(decodeErrorOf(() => validateBatch(flip(8, (b) => b.writeInt32BE(10, 8)))).code).toBe('INVALID_LENGTH');
    expect(decodeErrorOf(() => validateBatch(flip(8, (b) => b.writeInt32BE(0x7fffffff, 8)))).code).toBe('TRUNCATED');
    // Fields inside the CRC changed with a fresh CRC: only the record walk notices.
    const recrc = (b: Buffer) => {
      b.writeUInt32BE(referenceCrc32c(b.subarray(21)), 17);
      return b;
    };
    expect(decodeErrorOf(() => decodeRecordBatch(recrc(flip(57, (b) => b.writeInt32BE(3, 57))))).code).toBe('TRUNCATED');
    expect(decodeErrorOf(() => decodeRecordBatch(recrc(flip(57, (b) => b.writeInt32BE(1, 57))))).code).toBe('CORRUPT_RECORD');
    expect(decodeErrorOf(() => decodeRecordBatch(recrc(flip(57, (b) => b.writeInt32BE(-1, 57))))).code).toBe('CORRUPT_RECORD');
    expect(decodeErrorOf(() => decodeRecordBatch(recrc(flip(57, (b) => b.writeInt32BE(2 ** 30, 57))))).code).toBe('CORRUPT_RECORD');
    expect(decodeErrorOf(() => validateRecords(recrc(flip(21, (b) => b.writeInt16BE(6, 21))))).code).toBe('UNSUPPORTED_COMPRESSION');
  });

  it('random corruption of any byte behind a valid CRC', () => {
    fc.assert(
      fc.property(fc.constantFrom(...samples), fc.nat(), fc.integer({ min: 1, max: 255 }), (sample, at, xor) => {
        const b = Buffer.from(sample);
        const i = 21 + (at % (b.length - 21));
        b[i] = b[i]! ^ xor;
        b.writeUInt32BE(referenceCrc32c(b.subarray(21)), 17);
        onlyDecodeErrors(() => decodeRecordBatch(b, 0, { maxDecompressedBytes: 1 << 20 }));
        onlyDecodeErrors(() => validateRecords(b, 0, { maxDecompressedBytes: 1 << 20 }));
      }),
      { numRuns: 500 },
    );
  });

  it('a compressed batch that inflates past the limit', () => {
    const big = encodeRecordBatch({
      baseTimestamp: 0n,
      compression: CompressionType.Zstd,
      records: Array.from({ length: 64 }, (_, i) => ({ offsetDelta: i, timestampDelta: 0, key: null, value: Buffer.alloc(64 * 1024) })),
    });
    for (const codec of CODECS.slice(1)) {
      const b = encodeRecordBatch({ ...decodeRecordBatch(big, 0, { maxDecompressedBytes: 8 << 20 }).header, compression: codec, records: decodeRecordBatch(big, 0, { maxDecompressedBytes: 8 << 20 }).records });
      expect(decodeErrorOf(() => decodeRecordBatch(b, 0, { maxDecompressedBytes: 1 << 20 })).code).toBe('DECOMPRESSION_LIMIT');
      expect(decodeErrorOf(() => validateRecords(b, 0, { maxDecompressedBytes: 1 << 20 })).code).toBe('DECOMPRESSION_LIMIT');
    }
  });
});

describe('broker append edits', () => {
  it('set base offset and leader epoch without breaking the CRC', () => {
    const b = encodeRecordBatch(handBuiltInput);
    setBaseOffset(b, 0, 123456789012n);
    setPartitionLeaderEpoch(b, 0, 77);
    const h = validateBatch(b);
    expect([h.baseOffset, h.partitionLeaderEpoch]).toEqual([123456789012n, 77]);
  });

  it('setLogAppendTime sets the type bit and maxTimestamp and refreshes the CRC', () => {
    const b = Buffer.concat([Buffer.from('xx'), encodeRecordBatch(handBuiltInput)]);
    setLogAppendTime(b, 2, 99n);
    const d = decodeRecordBatch(b, 2);
    expect(d.header.timestampType).toBe(TimestampType.LogAppendTime);
    expect(d.header.maxTimestamp).toBe(99n);
    expect(d.header.baseTimestamp).toBe(handBuiltInput.baseTimestamp);
  });

  it('validateRecords reports gaps and the max timestamp', () => {
    const records: RecordInput[] = [0, 2, 3].map((o, i) => ({ offsetDelta: o, timestampDelta: [5, 9, 1][i]!, key: Buffer.from('k'), value: null }));
    const s = validateRecords(encodeRecordBatch({ baseTimestamp: 0n, records }));
    expect(s).toMatchObject({ count: 3, lastOffsetDelta: 3, offsetDeltasSequential: false, maxTimestampDelta: 9, maxTimestampIndex: 1, hasNullKey: false });
  });
});

describe('iterateBatches', () => {
  it('walks back-to-back batches and stops at a partial trailing one', () => {
    const a = encodeRecordBatch(handBuiltInput);
    const b = encodeRecordBatch({ ...handBuiltInput, baseOffset: 102n, compression: CompressionType.Gzip });
    const all = Buffer.concat([a, b]);
    for (let cut = a.length + 1; cut < all.length; cut++) {
      expect([...iterateBatches(all.subarray(0, cut))].map((e) => e.position)).toEqual([0]);
      decodeErrorOf(() => [...iterateBatches(all.subarray(0, cut), { allowPartial: false })]);
    }
    const entries = [...iterateBatches(all)];
    expect(entries).toEqual([
      { position: 0, size: a.length, magic: 2 },
      { position: a.length, size: b.length, magic: 2 },
    ]);
    expect(readBatchHeader(all, entries[1]!.position).baseOffset).toBe(102n);
  });

  it('throws on an impossible entry length', () => {
    const a = Buffer.from(encodeRecordBatch(handBuiltInput));
    a.writeInt32BE(3, 8);
    expect(decodeErrorOf(() => [...iterateBatches(a)]).code).toBe('INVALID_LENGTH');
  });
});

describe('control records', () => {
  it('builds and parses an end-transaction marker batch', () => {
    const b = encodeEndTxnMarkerBatch({ producerId: 5n, producerEpoch: 3, timestamp: 1234n, commit: false, coordinatorEpoch: 17, baseOffset: 40n });
    const d = decodeRecordBatch(b);
    expect(d.header).toMatchObject({ isControl: true, isTransactional: true, producerId: 5n, producerEpoch: 3, baseSequence: -1, baseOffset: 40n });
    expect(parseControlRecordKey(d.records[0]!.key)).toEqual({ version: 0, type: ControlRecordType.Abort });
    expect(parseEndTxnMarker(d.records[0]!.value)).toEqual({ version: 0, coordinatorEpoch: 17 });
  });

  it('rejects short keys and values', () => {
    expect(decodeErrorOf(() => parseControlRecordKey(Buffer.from([0, 0, 0]))).code).toBe('CORRUPT_RECORD');
    expect(decodeErrorOf(() => parseControlRecordKey(null)).code).toBe('CORRUPT_RECORD');
    expect(decodeErrorOf(() => parseEndTxnMarker(Buffer.from([0, 0, 0, 0, 1]))).code).toBe('CORRUPT_RECORD');
  });
});
