// Snappy for Kafka: raw snappy blocks, and the xerial (snappy-java) stream framing that Java
// producers write: header 0x82 "SNAPPY" 0x00, int32 version (1), int32 compatible version (1),
// then chunks of [int32 BE length][raw snappy block]. Readers accept both forms, as Kafka clients
// do; the writer produces the xerial stream with 32 KiB chunks, as snappy-java does.
// Every raw block starts with its uncompressed length (uvarint), so the output bound is checked
// before anything is inflated.

import type * as Snappy from 'snappy';
import { DecodeError } from '../decode-error.ts';
import { lazyAddon } from './lazy-addon.ts';

const snappy = lazyAddon<typeof Snappy>('snappy');

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
const XERIAL_CHUNK_SIZE = 32 * 1024;
// Copying the output into a V8-owned buffer is several times faster for 32 KiB chunks than
// wrapping native memory as an external buffer (whose finalizers dominate).
const UNCOMPRESS_OPTIONS = { asBuffer: true, copyOutputData: true } as const;
const COMPRESS_OPTIONS = { copyOutputData: true } as const;

function corrupt(message: string, offset = -1): DecodeError {
  return new DecodeError('CORRUPT_RECORD', `snappy: ${message}`, offset);
}

export function isXerialSnappy(data: Buffer): boolean {
  return data.length >= XERIAL_MAGIC.length && data.compare(XERIAL_MAGIC, 0, XERIAL_MAGIC.length, 0, XERIAL_MAGIC.length) === 0;
}

/** The uncompressed length a raw snappy block declares (uvarint, at most 32 bits). */
function declaredLength(data: Buffer, start: number, end: number): number {
  let result = 0;
  for (let i = 0, shift = 0; i < 5; i++, shift += 7) {
    if (start + i >= end) throw corrupt('truncated length preamble', start);
    const b = data[start + i]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
  }
  throw corrupt('length preamble longer than 5 bytes', start);
}

function uncompressBlock(block: Buffer, offset: number): Buffer {
  // Loaded outside the try: a library that fails to load is a broker fault, not a corrupt batch.
  const codec = snappy();
  try {
    return codec.uncompressSync(block, UNCOMPRESS_OPTIONS) as Buffer;
  } catch (err) {
    throw corrupt(`bad block: ${(err as Error).message}`, offset);
  }
}

function limit(n: number, maxBytes: number, offset: number): DecodeError {
  return new DecodeError('DECOMPRESSION_LIMIT', `snappy output of ${n} bytes passes the ${maxBytes}-byte limit`, offset);
}

export function snappyCompressRaw(data: Buffer): Buffer {
  return snappy().compressSync(data, COMPRESS_OPTIONS);
}

export function snappyCompressXerial(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.allocUnsafe(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  parts.push(header);
  let total = XERIAL_HEADER_SIZE;
  for (let off = 0; off < data.length; off += XERIAL_CHUNK_SIZE) {
    const block = snappy().compressSync(data.subarray(off, Math.min(off + XERIAL_CHUNK_SIZE, data.length)), COMPRESS_OPTIONS);
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
    total += 4 + block.length;
  }
  return Buffer.concat(parts, total);
}

/** Decompresses a raw block or a xerial stream, whichever `data` is. */
export function snappyDecompress(data: Buffer, maxBytes: number): Buffer {
  if (!isXerialSnappy(data)) {
    const n = declaredLength(data, 0, data.length);
    if (n > maxBytes) throw limit(n, maxBytes, 0);
    return uncompressBlock(data, 0);
  }
  if (data.length < XERIAL_HEADER_SIZE) throw corrupt('truncated xerial header', 0);
  // First pass checks the framing and sums declared sizes, so the output is allocated once.
  let total = 0;
  let chunks = 0;
  for (let pos = XERIAL_HEADER_SIZE; pos < data.length; ) {
    if (pos + 4 > data.length) throw corrupt('truncated chunk length', pos);
    const len = data.readInt32BE(pos);
    if (len < 0 || pos + 4 + len > data.length) throw corrupt(`chunk length ${len} out of range`, pos);
    total += declaredLength(data, pos + 4, pos + 4 + len);
    if (total > maxBytes) throw limit(total, maxBytes, pos);
    chunks++;
    pos += 4 + len;
  }
  if (chunks === 1) return uncompressBlock(data.subarray(XERIAL_HEADER_SIZE + 4), XERIAL_HEADER_SIZE + 4);
  const out = Buffer.allocUnsafe(total);
  let written = 0;
  for (let pos = XERIAL_HEADER_SIZE; pos < data.length; ) {
    const len = data.readInt32BE(pos);
    const block = uncompressBlock(data.subarray(pos + 4, pos + 4 + len), pos + 4);
    if (written + block.length > total) throw corrupt('block longer than declared', pos);
    block.copy(out, written);
    written += block.length;
    pos += 4 + len;
  }
  if (written !== total) throw corrupt('blocks shorter than declared', data.length);
  return out;
}
