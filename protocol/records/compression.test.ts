import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../decode-error.ts';
import { CompressionType } from './batch-header.ts';
import { compress, decompress } from './compression.ts';
import { crc32, crc32c } from './crc.ts';
import { isLz4Frame, lz4FrameCompress, lz4FrameDecompress } from './lz4-frame.ts';
import { isXerialSnappy, snappyCompressRaw, snappyDecompress } from './snappy-xerial.ts';
import { xxhash32 } from './xxhash32.ts';

const CODECS = [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];

function decodeErrorOf(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    return err as DecodeError;
  }
  throw new Error('expected a DecodeError, nothing was thrown');
}

describe('checksums', () => {
  it('match the published check values', () => {
    const check = Buffer.from('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32c(check)).toBe(0xe3069283);
    expect(crc32c(Buffer.from('xx123456789yy'), 2, 11)).toBe(0xe3069283);
    expect(crc32(Buffer.from('xx123456789yy'), 2, 11)).toBe(0xcbf43926);
  });

  it('xxhash32 matches reference vectors', () => {
    expect(xxhash32(Buffer.alloc(0))).toBe(0x02cc5d05);
    expect(xxhash32(Buffer.from('a'))).toBe(0x550d7456);
    expect(xxhash32(Buffer.from('abc'))).toBe(0x32d153ff);
    expect(xxhash32(Buffer.from('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
  });
});

describe('codecs', () => {
  it('round-trip arbitrary bytes with every codec', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CODECS), fc.uint8Array({ maxLength: 200_000 }), (codec, bytes) => {
        const data = Buffer.from(bytes);
        expect(decompress(codec, compress(codec, data), data.length).equals(data)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('round-trip compressible data larger than one block', () => {
    const data = Buffer.from('kafka record '.repeat(50_000));
    for (const codec of CODECS) expect(decompress(codec, compress(codec, data), data.length).equals(data)).toBe(true);
  });

  it('refuses output past the limit with DECOMPRESSION_LIMIT, for every codec', () => {
    const bomb = Buffer.alloc(8 * 1024 * 1024);
    for (const codec of CODECS) {
      const packed = compress(codec, bomb);
      expect(decodeErrorOf(() => decompress(codec, packed, 1024 * 1024)).code).toBe('DECOMPRESSION_LIMIT');
      expect(decompress(codec, packed, bomb.length).length).toBe(bomb.length);
    }
  });

  it('stops a gzip zip bomb at the limit', () => {
    const packed = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    expect(packed.length).toBeLessThan(200_000);
    expect(decodeErrorOf(() => decompress(CompressionType.Gzip, packed, 1024 * 1024)).code).toBe('DECOMPRESSION_LIMIT');
  });

  it('rejects unknown codec ids', () => {
    for (const codec of [5, 6, 7]) {
      expect(decodeErrorOf(() => decompress(codec, Buffer.from('x'))).code).toBe('UNSUPPORTED_COMPRESSION');
      expect(decodeErrorOf(() => compress(codec, Buffer.from('x'))).code).toBe('UNSUPPORTED_COMPRESSION');
    }
  });

  it('turns garbage and truncation into DecodeError only', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CODECS.slice(1)), fc.uint8Array({ maxLength: 300 }), fc.nat(), (codec, junk, cut) => {
        const good = compress(codec, Buffer.from('some data some data some data '.repeat(20)));
        for (const input of [Buffer.from(junk), good.subarray(0, cut % good.length), Buffer.concat([good.subarray(0, 10), Buffer.from(junk)])]) {
          try {
            decompress(codec, input, 1 << 20);
          } catch (err) {
            expect(err).toBeInstanceOf(DecodeError);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('snappy', () => {
  // Raw blocks built by hand: uvarint length, then one literal element (tag (len-1)<<2).
  const literalBlock = (s: string) => Buffer.concat([Buffer.from([s.length, (s.length - 1) << 2]), Buffer.from(s)]);

  it('reads a hand-built xerial stream of two chunks', () => {
    const a = literalBlock('hello');
    const b = literalBlock(' world');
    const stream = Buffer.concat([
      Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]),
      Buffer.from([0, 0, 0, a.length]),
      a,
      Buffer.from([0, 0, 0, b.length]),
      b,
    ]);
    expect(isXerialSnappy(stream)).toBe(true);
    expect(snappyDecompress(stream, 100).toString()).toBe('hello world');
    expect(decodeErrorOf(() => snappyDecompress(stream, 10)).code).toBe('DECOMPRESSION_LIMIT');
    expect(decodeErrorOf(() => snappyDecompress(stream.subarray(0, stream.length - 2), 100)).code).toBe('CORRUPT_RECORD');
  });

  it('reads raw blocks, and writes the xerial framing', () => {
    expect(snappyDecompress(literalBlock('hello'), 100).toString()).toBe('hello');
    const raw = snappyCompressRaw(Buffer.from('abc'.repeat(100)));
    expect(decompress(CompressionType.Snappy, raw, 300).toString()).toBe('abc'.repeat(100));
    const written = compress(CompressionType.Snappy, Buffer.from('abc'));
    expect(written.subarray(0, 16)).toEqual(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]));
  });
});

describe('lz4 frames', () => {
  // A frame with one literal-only compressed block ("abc": token 0x30) and one stored block.
  function frame(hc: (descriptorWithMagic: Buffer) => number): Buffer {
    const head = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40]);
    return Buffer.concat([
      head,
      Buffer.from([hc(head)]),
      Buffer.from([4, 0, 0, 0, 0x30, 0x61, 0x62, 0x63]),
      Buffer.from([5, 0, 0, 0x80]),
      Buffer.from('defgh'),
      Buffer.from([0, 0, 0, 0]),
    ]);
  }
  const correct = (h: Buffer) => (xxhash32(h, 4, 6) >>> 8) & 0xff;
  const kafka3160 = (h: Buffer) => (xxhash32(h, 0, 6) >>> 8) & 0xff;

  it('reads a frame with the correct header checksum', () => {
    expect(lz4FrameDecompress(frame(correct), 100).toString()).toBe('abcdefgh');
  });

  it('tolerates the KAFKA-3160 header checksum (computed over the magic too)', () => {
    expect(correct(frame(correct))).not.toBe(kafka3160(frame(correct)));
    expect(decompress(CompressionType.Lz4, frame(kafka3160), 100).toString()).toBe('abcdefgh');
  });

  it('rejects any other header checksum, and limits output', () => {
    const bad = frame((h) => (correct(h) ^ kafka3160(h) ^ 0x5a) & 0xff);
    expect(decodeErrorOf(() => lz4FrameDecompress(bad, 100)).code).toBe('CORRUPT_RECORD');
    expect(decodeErrorOf(() => lz4FrameDecompress(frame(correct), 5)).code).toBe('DECOMPRESSION_LIMIT');
  });

  it('writes the legacy checksum only when asked', () => {
    const data = Buffer.from('x'.repeat(1000));
    const modern = lz4FrameCompress(data);
    const legacy = lz4FrameCompress(data, { legacyHeaderChecksum: true });
    expect(isLz4Frame(modern)).toBe(true);
    expect(modern[6]).toBe(correct(modern));
    expect(legacy[6]).toBe(kafka3160(legacy));
    expect(lz4FrameDecompress(legacy, 1000).equals(data)).toBe(true);
  });
});
