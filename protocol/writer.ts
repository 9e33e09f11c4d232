// Append-only encoder for Kafka's primitive types.
// Small fields go into a growing scratch buffer; large byte fields (record batches) are kept
// as references and emitted as separate chunks, so a fetch response never copies its records.
import { uuidToBytes } from './uuid.ts';

const ZERO_COPY_MIN = 4096;

export class Writer {
  private buf: Buffer;
  private pos = 0;
  private chunks: Buffer[] = [];
  private flushedLength = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.flushedLength + this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  writeInt8(v: number): void {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos++);
  }

  writeUInt8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  writeBool(v: boolean): void {
    this.writeInt8(v ? 1 : 0);
  }

  writeInt16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  writeUInt16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  writeInt32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  writeUInt32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  writeInt64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
  }

  writeFloat64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  writeUuid(v: string): void {
    this.writeRaw(uuidToBytes(v));
  }

  writeUVarint(v: number): void {
    this.ensure(5);
    v >>>= 0;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  writeVarint(v: number): void {
    this.writeUVarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  writeVarlong(v: bigint): void {
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    this.ensure(10);
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  /** Zig-zag varlong from a safe integer, without bigint on the common path. */
  writeVarlongNumber(v: number): void {
    if (v >= -0x40000000 && v < 0x40000000) {
      this.writeVarint(v);
      return;
    }
    this.writeVarlong(BigInt(v));
  }

  writeString(v: string): void {
    const len = Buffer.byteLength(v);
    this.writeInt16(len);
    this.writeUtf8(v, len);
  }

  writeNullableString(v: string | null | undefined): void {
    if (v == null) return this.writeInt16(-1);
    this.writeString(v);
  }

  writeCompactString(v: string): void {
    const len = Buffer.byteLength(v);
    this.writeUVarint(len + 1);
    this.writeUtf8(v, len);
  }

  writeCompactNullableString(v: string | null | undefined): void {
    if (v == null) return this.writeUVarint(0);
    this.writeCompactString(v);
  }

  private writeUtf8(v: string, len: number): void {
    this.ensure(len);
    this.buf.write(v, this.pos, len, 'utf8');
    this.pos += len;
  }

  writeBytes(v: Buffer): void {
    this.writeInt32(v.length);
    this.writeRaw(v);
  }

  writeNullableBytes(v: Buffer | null | undefined): void {
    if (v == null) return this.writeInt32(-1);
    this.writeBytes(v);
  }

  writeCompactBytes(v: Buffer): void {
    this.writeUVarint(v.length + 1);
    this.writeRaw(v);
  }

  writeCompactNullableBytes(v: Buffer | null | undefined): void {
    if (v == null) return this.writeUVarint(0);
    this.writeCompactBytes(v);
  }

  writeArrayLength(n: number): void {
    this.writeInt32(n);
  }

  writeCompactArrayLength(n: number): void {
    this.writeUVarint(n + 1);
  }

  /** Raw bytes; large ones are referenced, not copied. */
  writeRaw(v: Buffer): void {
    if (v.length >= ZERO_COPY_MIN) {
      this.flushScratch();
      this.chunks.push(v);
      this.flushedLength += v.length;
      return;
    }
    this.ensure(v.length);
    v.copy(this.buf, this.pos);
    this.pos += v.length;
  }

  private flushScratch(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.flushedLength += this.pos;
    this.buf = this.buf.length - this.pos >= 256 ? this.buf.subarray(this.pos) : Buffer.allocUnsafe(256);
    this.pos = 0;
  }

  /** Reserve 4 bytes for a length written later with patchInt32 (only before any chunk flush). */
  reserveInt32(): number {
    this.ensure(4);
    const at = this.pos;
    this.pos += 4;
    return at;
  }

  /** The output as chunks (for writev). The writer must not be used afterwards. */
  chunksOut(): Buffer[] {
    this.flushScratch();
    return this.chunks;
  }

  /** The output as one contiguous buffer. */
  toBuffer(): Buffer {
    if (this.chunks.length === 0) return this.buf.subarray(0, this.pos);
    const out = this.chunksOut();
    return out.length === 1 ? out[0]! : Buffer.concat(out, this.flushedLength);
  }
}
