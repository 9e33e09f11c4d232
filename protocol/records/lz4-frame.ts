// LZ4 frame format (the "LZ4F" framing Kafka uses for compression.type=lz4), written and read
// here so that decompression can be bounded and the KAFKA-3160 header checksum tolerated.
// Frame: magic 0x184D2204 (LE), FLG, BD, [content size u64 LE], [dict id u32], HC, then blocks of
// [u32 LE size, high bit = stored uncompressed][data][xxh32 if block checksums], end mark 0,
// [xxh32 content checksum]. HC = (xxh32(FLG..before HC) >> 8) & 0xff. Producers of magic 0/1
// before Kafka 0.10 hashed the magic bytes too; Kafka accepts that for magic 0 and writes it
// again when producing magic 0, so both variants are read here and `legacyHeaderChecksum` writes it.
// Blocks must be independent (as Kafka's reader requires); each is decoded with lz4-napi's raw
// block decoder, which takes the output bound as a 4-byte little-endian prefix.

import type * as Lz4 from 'lz4-napi';
import { DecodeError } from '../decode-error.ts';
import { lazyAddon } from './lazy-addon.ts';
import { xxhash32 } from './xxhash32.ts';

const lz4 = lazyAddon<typeof Lz4>('lz4-napi');

const MAGIC = 0x184d2204;
const VERSION_MASK = 0xc0;
const VERSION_01 = 0x40;
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const FLG_DICT_ID = 0x01;
const UNCOMPRESSED_BLOCK = 0x80000000;
/** Kafka's writer uses 64 KiB blocks (BD = 4). */
const WRITE_BLOCK_SIZE = 64 * 1024;

/** BD block-size codes 4..7; lower codes are invalid. */
const BLOCK_MAX_SIZES: readonly (number | undefined)[] = [undefined, undefined, undefined, undefined, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

let scratch = Buffer.allocUnsafe(4 + WRITE_BLOCK_SIZE);

function corrupt(message: string, offset = -1): DecodeError {
  return new DecodeError('CORRUPT_RECORD', `lz4 frame: ${message}`, offset);
}

export interface Lz4FrameOptions {
  /** Write the pre-0.10 header checksum (over magic and descriptor), as Kafka does for magic 0. */
  legacyHeaderChecksum?: boolean;
}

export function lz4FrameCompress(data: Buffer, options: Lz4FrameOptions = {}): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.allocUnsafe(7);
  header.writeUInt32LE(MAGIC, 0);
  header[4] = VERSION_01 | FLG_BLOCK_INDEPENDENCE;
  header[5] = 4 << 4;
  const hash = options.legacyHeaderChecksum ? xxhash32(header, 0, 6) : xxhash32(header, 4, 6);
  header[6] = (hash >>> 8) & 0xff;
  parts.push(header);
  let total = header.length;
  for (let off = 0; off < data.length; off += WRITE_BLOCK_SIZE) {
    const chunk = data.subarray(off, Math.min(off + WRITE_BLOCK_SIZE, data.length));
    // The raw block encoder prefixes the uncompressed size (4 bytes LE); the frame does not.
    const packed = lz4().compressSync(chunk).subarray(4);
    const size = Buffer.allocUnsafe(4);
    if (packed.length < chunk.length) {
      size.writeUInt32LE(packed.length, 0);
      parts.push(size, packed);
      total += 4 + packed.length;
    } else {
      size.writeUInt32LE((UNCOMPRESSED_BLOCK | chunk.length) >>> 0, 0);
      parts.push(size, chunk);
      total += 4 + chunk.length;
    }
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts, total + 4);
}

/** True when `data` starts with the LZ4 frame magic. */
export function isLz4Frame(data: Buffer): boolean {
  return data.length >= 4 && data.readUInt32LE(0) === MAGIC;
}

/** Decodes one LZ4 frame; throws DECOMPRESSION_LIMIT once the output would pass `maxBytes`. */
export function lz4FrameDecompress(data: Buffer, maxBytes: number): Buffer {
  if (data.length < 7) throw corrupt('shorter than a frame header', 0);
  if (data.readUInt32LE(0) !== MAGIC) throw corrupt('bad magic', 0);
  const flg = data[4]!;
  const bd = data[5]!;
  if ((flg & VERSION_MASK) !== VERSION_01) throw corrupt(`unsupported version ${(flg >> 6) & 3}`, 4);
  if ((flg & FLG_RESERVED) !== 0 || (bd & 0x8f) !== 0) throw corrupt('reserved bits set', 4);
  if ((flg & FLG_BLOCK_INDEPENDENCE) === 0) throw corrupt('dependent blocks are not supported', 4);
  const blockMax = BLOCK_MAX_SIZES[(bd >> 4) & 7];
  if (blockMax === undefined) throw corrupt(`unsupported block size code ${(bd >> 4) & 7}`, 5);
  let pos = 6;
  if (flg & FLG_CONTENT_SIZE) {
    if (data.length < pos + 8 + 1) throw corrupt('truncated content size', pos);
    const contentSize = data.readUInt32LE(pos) + data.readUInt32LE(pos + 4) * 2 ** 32;
    if (contentSize > maxBytes) {
      throw new DecodeError('DECOMPRESSION_LIMIT', `lz4 frame declares ${contentSize} bytes, limit ${maxBytes}`, pos);
    }
    pos += 8;
  }
  if (flg & FLG_DICT_ID) throw corrupt('dictionaries are not supported', 4);
  if (pos >= data.length) throw corrupt('truncated header', pos);
  const hc = data[pos]!;
  if (hc !== ((xxhash32(data, 4, pos) >>> 8) & 0xff) && hc !== ((xxhash32(data, 0, pos) >>> 8) & 0xff)) {
    throw corrupt('header checksum mismatch', pos);
  }
  pos++;

  const blocks: Buffer[] = [];
  let total = 0;
  const blockChecksums = (flg & FLG_BLOCK_CHECKSUM) !== 0;
  for (;;) {
    if (pos + 4 > data.length) throw corrupt('truncated block size', pos);
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const stored = (word & UNCOMPRESSED_BLOCK) !== 0;
    const size = word & 0x7fffffff;
    if (size > blockMax) throw corrupt(`block of ${size} bytes exceeds the ${blockMax} maximum`, pos - 4);
    if (pos + size + (blockChecksums ? 4 : 0) > data.length) throw corrupt('truncated block', pos);
    if (blockChecksums && data.readUInt32LE(pos + size) !== xxhash32(data, pos, pos + size)) {
      throw corrupt('block checksum mismatch', pos);
    }
    let out: Buffer;
    if (stored) {
      out = data.subarray(pos, pos + size);
    } else {
      if (scratch.length < 4 + size) scratch = Buffer.allocUnsafe(4 + Math.max(size, WRITE_BLOCK_SIZE));
      scratch.writeUInt32LE(blockMax, 0);
      data.copy(scratch, 4, pos, pos + size);
      const codec = lz4(); // outside the try: a library that fails to load is not a corrupt block
      try {
        out = codec.uncompressSync(scratch.subarray(0, 4 + size));
      } catch (err) {
        throw corrupt(`bad block: ${(err as Error).message}`, pos);
      }
    }
    total += out.length;
    if (total > maxBytes) throw new DecodeError('DECOMPRESSION_LIMIT', `lz4 output passes the ${maxBytes}-byte limit`, pos);
    blocks.push(out);
    pos += size + (blockChecksums ? 4 : 0);
  }
  // Kafka's reader skips the content checksum without checking it; checking costs a JS hash of
  // the whole output, so it is read for framing only.
  if (flg & FLG_CONTENT_CHECKSUM) {
    if (pos + 4 > data.length) throw corrupt('truncated content checksum', pos);
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks, total);
}
