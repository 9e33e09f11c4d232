// Checksums over Buffer ranges, computed on views (subarray) so no bytes are copied.
// CRC32C (Castagnoli) guards magic-2 record batches; CRC32 (IEEE) guards magic 0/1 messages.
// Both return the unsigned 32-bit value, as stored on the wire (read with readUInt32BE).

import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import CRC32 from 'crc-32';

/** CRC32C of buf[start, end). */
export function crc32c(buf: Buffer, start = 0, end = buf.length): number {
  return nativeCrc32c(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0;
}

/** CRC32 (IEEE 802.3, as java.util.zip.CRC32) of buf[start, end). */
export function crc32(buf: Buffer, start = 0, end = buf.length): number {
  return CRC32.buf(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0;
}
