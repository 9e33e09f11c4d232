import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../decode-error.ts';
import { CompressionType, TimestampType } from './batch-header.ts';
import { compress } from './compression.ts';
import { type LegacyRecord, decodeMessageSet, encodeMessageSet } from './legacy-message-set.ts';

const require = createRequire(import.meta.url);
const CODECS = [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];

/** Bitwise CRC32 (IEEE, reflected 0xEDB88320), independent of the library under test. */
function referenceCrc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
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

function handBuiltMessage(magic: 0 | 1, offset: bigint, attributes: number, key: Buffer | null, value: Buffer | null): Buffer {
  const body = Buffer.concat([
    Buffer.from([magic, attributes]),
    magic === 1 ? Buffer.from([0, 0, 0, 0, 0, 0, 0x30, 0x39]) : Buffer.alloc(0), // timestamp 12345
    Buffer.from(key === null ? [0xff, 0xff, 0xff, 0xff] : [0, 0, 0, key.length]),
    key ?? Buffer.alloc(0),
    Buffer.from(value === null ? [0xff, 0xff, 0xff, 0xff] : [0, 0, (value.length >> 8) & 0xff, value.length & 0xff]),
    value ?? Buffer.alloc(0),
  ]);
  const head = Buffer.alloc(16);
  head.writeBigInt64BE(offset, 0);
  head.writeInt32BE(4 + body.length, 8);
  head.writeUInt32BE(referenceCrc32(body), 12);
  return Buffer.concat([head, body]);
}

describe('known answers', () => {
  it('decodes hand-built magic 0 and magic 1 messages', () => {
    const set = Buffer.concat([
      handBuiltMessage(0, 7n, 0, Buffer.from('k'), Buffer.from('v0')),
      handBuiltMessage(1, 8n, 0, null, Buffer.from('v1')),
    ]);
    const msgs = decodeMessageSet(set);
    expect(msgs.map((m) => [m.magic, m.offset, m.timestamp, m.key?.toString() ?? null, m.value?.toString()])).toEqual([
      [0, 7n, -1n, 'k', 'v0'],
      [1, 8n, 12345n, null, 'v1'],
    ]);
    expect(encodeMessageSet({ magic: 0, records: [msgs[0]!.records[0]!] }).equals(set.subarray(0, msgs[0]!.size))).toBe(true);
    expect(encodeMessageSet({ magic: 1, records: msgs[1]!.records }).equals(set.subarray(msgs[0]!.size))).toBe(true);
  });

  it('resolves magic 1 relative inner offsets against the wrapper offset', () => {
    const inner = Buffer.concat([0n, 1n, 2n].map((o) => handBuiltMessage(1, o, 0, null, Buffer.from(`m${o}`))));
    const wrapper = handBuiltMessage(1, 52n, CompressionType.Gzip, null, compress(CompressionType.Gzip, inner));
    expect(decodeMessageSet(wrapper)[0]!.records.map((r) => [r.offset, r.value!.toString()])).toEqual([
      [50n, 'm0'],
      [51n, 'm1'],
      [52n, 'm2'],
    ]);
  });

  it('keeps magic 0 inner offsets absolute', () => {
    const inner = Buffer.concat([10n, 11n].map((o) => handBuiltMessage(0, o, 0, null, Buffer.from('x'))));
    const wrapper = handBuiltMessage(0, 11n, CompressionType.Snappy, null, compress(CompressionType.Snappy, inner));
    expect(decodeMessageSet(wrapper)[0]!.records.map((r) => r.offset)).toEqual([10n, 11n]);
  });

  it('decodes what kafkajs encodes as a magic 1 message set', () => {
    const MessageSet = require('kafkajs/src/protocol/messageSet/index.js');
    const buf: Buffer = MessageSet({ messageVersion: 1, entries: [{ key: 'a', value: 'b', timestamp: 77 }, { key: null, value: 'c', timestamp: 78 }] }).buffer;
    expect(decodeMessageSet(buf).map((m) => [m.magic, m.timestamp, m.key?.toString() ?? null, m.value!.toString()])).toEqual([
      [1, 77n, 'a', 'b'],
      [1, 78n, null, 'c'],
    ]);
  });
});

const recordsArb = fc
  .array(
    fc.record({
      key: fc.option(fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a))),
      value: fc.option(fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a))),
      timestamp: fc.bigInt({ min: 0n, max: 2n ** 45n }),
      gap: fc.integer({ min: 1, max: 5 }),
    }),
    { minLength: 1, maxLength: 20 },
  )
  .chain((rs) =>
    fc.bigInt({ min: 0n, max: 2n ** 50n }).map((start) => {
      let offset = start;
      return rs.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp, offset: (offset += BigInt(r.gap)) }));
    }),
  );

describe('round trip', () => {
  it('decode(encode(records)) for both magics, every codec and timestamp type', () => {
    fc.assert(
      fc.property(recordsArb, fc.constantFrom<0 | 1>(0, 1), fc.constantFrom(...CODECS), fc.constantFrom(TimestampType.CreateTime, TimestampType.LogAppendTime), (records, magic, compression, timestampType) => {
        const logAppendTime = 999n;
        const buf = encodeMessageSet({ magic, compression, timestampType, logAppendTime, records });
        const decoded = decodeMessageSet(buf);
        const flat: LegacyRecord[] = decoded.flatMap((m) => m.records);
        const expectedTs = (r: LegacyRecord) => (magic === 0 ? -1n : timestampType === TimestampType.LogAppendTime && compression !== CompressionType.None ? logAppendTime : r.timestamp);
        expect(flat).toEqual(records.map((r) => ({ ...r, timestamp: expectedTs(r) })));
        expect(decoded.every((m) => m.compression === compression && m.magic === magic)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});

describe('bad input raises DecodeError and nothing else', () => {
  const sample = Buffer.concat([
    encodeMessageSet({ magic: 1, records: [{ offset: 0n, timestamp: 5n, key: Buffer.from('k'), value: Buffer.from('value') }] }),
    encodeMessageSet({ magic: 1, compression: CompressionType.Lz4, records: [{ offset: 1n, timestamp: 5n, key: null, value: Buffer.from('zz') }] }),
  ]);

  it('truncated at every offset, unless partial entries are allowed', () => {
    for (let k = 1; k < sample.length; k++) {
      const cut = sample.subarray(0, k);
      if (k !== decodeMessageSet(sample)[0]!.size) decodeErrorOf(() => decodeMessageSet(cut));
      expect(decodeMessageSet(cut, { allowPartial: true }).length).toBeLessThanOrEqual(1);
    }
  });

  it('bad CRC, magic, sizes; nested compression; null wrapper value; zip bomb', () => {
    const flip = (fn: (b: Buffer) => void) => {
      const b = Buffer.from(sample);
      fn(b);
      return b;
    };
    expect(decodeErrorOf(() => decodeMessageSet(flip((b) => (b[30]! ^= 1)))).code).toBe('CORRUPT_RECORD');
    expect(decodeErrorOf(() => decodeMessageSet(flip((b) => (b[16] = 2)))).code).toBe('CORRUPT_RECORD');
    expect(decodeErrorOf(() => decodeMessageSet(flip((b) => b.writeInt32BE(-1, 8)))).code).toBe('INVALID_LENGTH');
    expect(decodeErrorOf(() => decodeMessageSet(flip((b) => b.writeInt32BE(1 << 30, 8)))).code).toBe('TRUNCATED');
    const nested = handBuiltMessage(1, 0n, CompressionType.Gzip, null, compress(CompressionType.Gzip, handBuiltMessage(1, 0n, CompressionType.Gzip, null, Buffer.from('x'))));
    expect(decodeErrorOf(() => decodeMessageSet(nested)).code).toBe('CORRUPT_RECORD');
    expect(decodeErrorOf(() => decodeMessageSet(handBuiltMessage(0, 0n, CompressionType.Gzip, null, null))).code).toBe('CORRUPT_RECORD');
    const bomb = handBuiltMessage(1, 0n, CompressionType.Gzip, null, compress(CompressionType.Gzip, Buffer.alloc(4 << 20)));
    expect(decodeErrorOf(() => decodeMessageSet(bomb, { maxDecompressedBytes: 1 << 20 })).code).toBe('DECOMPRESSION_LIMIT');
  });

  it('random corruption behind a valid CRC', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const b = Buffer.from(sample);
        b[at % b.length]! ^= xor;
        try {
          decodeMessageSet(b, { maxDecompressedBytes: 1 << 20 });
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
        }
      }),
      { numRuns: 300 },
    );
  });
});
