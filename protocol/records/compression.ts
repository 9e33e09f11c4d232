// Compression codecs of record batches and legacy message sets, by Kafka's codec id
// (attributes & 0x07): 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. Ids 5..7 are UNSUPPORTED_COMPRESSION.
// Decompression is always bounded by maxBytes: passing it throws DECOMPRESSION_LIMIT, and any
// malformed input throws CORRUPT_RECORD; no other error escapes.

import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { DecodeError } from '../decode-error.ts';
import { CompressionType } from './batch-header.ts';
import { lz4FrameCompress, lz4FrameDecompress } from './lz4-frame.ts';
import { snappyCompressXerial, snappyDecompress } from './snappy-xerial.ts';
import { zstdCompress, zstdDecompress } from './zstd.ts';

/** Used when a caller gives no bound; a batch cannot exceed message.max.bytes by much more. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export interface CompressOptions {
  /** lz4 only: write the pre-0.10 frame header checksum, as Kafka does for magic-0 messages. */
  legacyLz4HeaderChecksum?: boolean;
  /** gzip (1..9) or zstd level; Kafka's defaults are gzip 6 (zlib default) and zstd 3. */
  level?: number;
}

export function compress(type: number, data: Buffer, options: CompressOptions = {}): Buffer {
  switch (type) {
    case CompressionType.None:
      return data;
    case CompressionType.Gzip:
      return gzipSync(data, { level: options.level ?? zlibConstants.Z_DEFAULT_COMPRESSION });
    case CompressionType.Snappy:
      return snappyCompressXerial(data);
    case CompressionType.Lz4:
      return lz4FrameCompress(data, { legacyHeaderChecksum: options.legacyLz4HeaderChecksum });
    case CompressionType.Zstd:
      return zstdCompress(data, options.level ?? 3);
    default:
      throw new DecodeError('UNSUPPORTED_COMPRESSION', `unknown compression codec ${type}`);
  }
}

function gunzipBounded(data: Buffer, maxBytes: number): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DecodeError('DECOMPRESSION_LIMIT', `gzip output passes the ${maxBytes}-byte limit`);
    }
    throw new DecodeError('CORRUPT_RECORD', `gzip: ${(err as Error).message}`);
  }
}

export function decompress(type: number, data: Buffer, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  let out: Buffer;
  switch (type) {
    case CompressionType.None:
      out = data;
      break;
    case CompressionType.Gzip:
      out = gunzipBounded(data, maxBytes);
      break;
    case CompressionType.Snappy:
      out = snappyDecompress(data, maxBytes);
      break;
    case CompressionType.Lz4:
      out = lz4FrameDecompress(data, maxBytes);
      break;
    case CompressionType.Zstd:
      out = zstdDecompress(data, maxBytes);
      break;
    default:
      throw new DecodeError('UNSUPPORTED_COMPRESSION', `unknown compression codec ${type}`);
  }
  if (out.length > maxBytes) {
    throw new DecodeError('DECOMPRESSION_LIMIT', `decompressed ${out.length} bytes, limit ${maxBytes}`);
  }
  return out;
}

export function compressionName(type: number): string {
  return ['none', 'gzip', 'snappy', 'lz4', 'zstd'][type] ?? `unknown(${type})`;
}
