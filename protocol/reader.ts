// Bounded cursor over a Buffer for decoding Kafka's primitive types.
// Invariants: never reads outside [pos, end); every length is checked against what remains
// before anything is allocated; byte fields are returned as subarrays (no copy).

import { isUtf8 } from 'node:buffer';
import { DecodeError } from './decode-error.ts';
import { uuidToString } from './uuid.ts';

export class Reader {
  buf: Buffer;
  pos: number;
  end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.end - this.pos < n) {
      throw new DecodeError('TRUNCATED', `need ${n} bytes at offset ${this.pos}, ${this.end - this.pos} remain`, this.pos);
    }
  }

  readInt8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  readUInt8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  readBool(): boolean {
    return this.readInt8() !== 0;
  }

  readInt16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  readUInt16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  readInt32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  readUInt32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  readInt64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  readFloat64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  readUuid(): string {
    this.need(16);
    const s = uuidToString(this.buf, this.pos);
    this.pos += 16;
    return s;
  }

  /** Unsigned LEB128 varint of at most 32 bits (5 bytes). */
  readUVarint(): number {
    let result = 0;
    let shift = 0;
    const start = this.pos;
    for (;;) {
      if (this.pos >= this.end) throw new DecodeError('TRUNCATED', `varint cut at offset ${start}`, start);
      const b = this.buf[this.pos++]!;
      if (shift === 28) {
        if (b > 0x0f) throw new DecodeError('INVALID_VARINT', `varint overflows 32 bits at offset ${start}`, start);
        return (result + b * 2 ** 28) >>> 0;
      }
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  }

  /** Zig-zag signed varint of at most 32 bits. */
  readVarint(): number {
    const u = this.readUVarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Zig-zag signed varlong of at most 64 bits, as a bigint. */
  readVarlong(): bigint {
    let result = 0n;
    let shift = 0n;
    const start = this.pos;
    for (let i = 0; ; i++) {
      if (this.pos >= this.end) throw new DecodeError('TRUNCATED', `varlong cut at offset ${start}`, start);
      if (i === 10) throw new DecodeError('INVALID_VARINT', `varlong longer than 10 bytes at offset ${start}`, start);
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    result = BigInt.asUintN(64, result);
    return (result >> 1n) ^ -(result & 1n);
  }

  /** Zig-zag varlong that must fit a JS safe integer (timestamps deltas, offsets deltas). */
  readVarlongNumber(): number {
    // Fast path: values below 2^28 in magnitude cover almost every record delta.
    const start = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw new DecodeError('TRUNCATED', `varlong cut at offset ${start}`, start);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      }
      mul *= 128;
    }
    this.pos = start;
    const v = this.readVarlong();
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new DecodeError('INVALID_VARINT', `varlong ${v} outside the safe integer range at offset ${start}`, start);
    }
    return Number(v);
  }

  private takeString(len: number): string {
    const start = this.pos;
    const slice = this.buf.subarray(start, start + len);
    // ASCII fast path; anything else must be valid UTF-8 as Java's decoder would reject it.
    let ascii = true;
    for (let i = 0; i < len; i++) {
      if (slice[i]! > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (!ascii && !isUtf8(slice)) throw new DecodeError('INVALID_UTF8', `invalid UTF-8 in string at offset ${start}`, start);
    this.pos += len;
    return slice.toString(ascii ? 'latin1' : 'utf8');
  }

  private checkLength(len: number, what: string): void {
    if (len < 0) throw new DecodeError('INVALID_LENGTH', `negative ${what} length ${len} at offset ${this.pos}`, this.pos);
    if (len > this.end - this.pos) {
      throw new DecodeError('INVALID_LENGTH', `${what} length ${len} exceeds the ${this.end - this.pos} bytes left at offset ${this.pos}`, this.pos);
    }
  }

  readString(): string {
    const len = this.readInt16();
    this.checkLength(len, 'string');
    return this.takeString(len);
  }

  readNullableString(): string | null {
    const len = this.readInt16();
    if (len === -1) return null;
    this.checkLength(len, 'string');
    return this.takeString(len);
  }

  readCompactString(): string {
    const len = this.readUVarint() - 1;
    if (len === -1) throw new DecodeError('INVALID_NULL', `null in a non-nullable string at offset ${this.pos}`, this.pos);
    this.checkLength(len, 'string');
    return this.takeString(len);
  }

  readCompactNullableString(): string | null {
    const len = this.readUVarint() - 1;
    if (len === -1) return null;
    this.checkLength(len, 'string');
    return this.takeString(len);
  }

  /** Bytes are a view into the frame: no copy. */
  readBytes(): Buffer {
    const len = this.readInt32();
    this.checkLength(len, 'bytes');
    return this.take(len);
  }

  readNullableBytes(): Buffer | null {
    const len = this.readInt32();
    if (len === -1) return null;
    this.checkLength(len, 'bytes');
    return this.take(len);
  }

  readCompactBytes(): Buffer {
    const len = this.readUVarint() - 1;
    if (len === -1) throw new DecodeError('INVALID_NULL', `null in non-nullable bytes at offset ${this.pos}`, this.pos);
    this.checkLength(len, 'bytes');
    return this.take(len);
  }

  readCompactNullableBytes(): Buffer | null {
    const len = this.readUVarint() - 1;
    if (len === -1) return null;
    this.checkLength(len, 'bytes');
    return this.take(len);
  }

  take(len: number): Buffer {
    this.need(len);
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  /** Array count (int32, -1 = null); checked against the bytes left so a lie cannot allocate. */
  readArrayLength(): number {
    const n = this.readInt32();
    if (n < -1) throw new DecodeError('INVALID_LENGTH', `negative array length ${n} at offset ${this.pos}`, this.pos);
    if (n > this.end - this.pos) {
      throw new DecodeError('INVALID_LENGTH', `array length ${n} exceeds the ${this.end - this.pos} bytes left`, this.pos);
    }
    return n;
  }

  /** Compact array count (uvarint n+1, 0 = null), returned as n. */
  readCompactArrayLength(): number {
    const n = this.readUVarint() - 1;
    if (n > this.end - this.pos) {
      throw new DecodeError('INVALID_LENGTH', `array length ${n} exceeds the ${this.end - this.pos} bytes left`, this.pos);
    }
    return n;
  }

  /** Varint-prefixed length used inside records (-1 = null). */
  readVarintLength(what: string): number {
    const n = this.readVarint();
    if (n < -1) throw new DecodeError('INVALID_LENGTH', `negative ${what} length ${n} at offset ${this.pos}`, this.pos);
    if (n > this.end - this.pos) {
      throw new DecodeError('INVALID_LENGTH', `${what} length ${n} exceeds the ${this.end - this.pos} bytes left`, this.pos);
    }
    return n;
  }
}

/** One tagged field that this codec version does not know; kept so a round trip preserves it. */
export interface UnknownTaggedField {
  tag: number;
  data: Buffer;
}
