// Varint sizing and in-place writing for the record encoder, which sizes a whole batch first and
// then writes into one exact allocation. Zig-zag encoding as in Kafka (and protobuf).
// Numbers stay JS numbers: timestamp deltas use float arithmetic up to 2^52 in magnitude and
// bigint only beyond that.

/** Bytes of an unsigned 32-bit LEB128 value. */
export function sizeOfUVarint(u: number): number {
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x200000) return 3;
  if (u < 0x10000000) return 4;
  return 5;
}

export function sizeOfVarint(v: number): number {
  return sizeOfUVarint(((v << 1) ^ (v >> 31)) >>> 0);
}

const FLOAT_SAFE = 2 ** 52;

function zigzagNumber(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

export function sizeOfVarlongNumber(v: number): number {
  if (v >= -0x40000000 && v < 0x40000000) return sizeOfVarint(v);
  if (v >= FLOAT_SAFE || v <= -FLOAT_SAFE) return sizeOfVarlongBig(BigInt(v));
  let z = zigzagNumber(v);
  let n = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    n++;
  }
  return n;
}

function zigzagBig(v: bigint): bigint {
  return BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
}

function sizeOfVarlongBig(v: bigint): number {
  let u = zigzagBig(v);
  let n = 1;
  while (u >= 0x80n) {
    u >>= 7n;
    n++;
  }
  return n;
}

export function writeUVarintAt(buf: Buffer, pos: number, u: number): number {
  u >>>= 0;
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

export function writeVarintAt(buf: Buffer, pos: number, v: number): number {
  return writeUVarintAt(buf, pos, ((v << 1) ^ (v >> 31)) >>> 0);
}

export function writeVarlongNumberAt(buf: Buffer, pos: number, v: number): number {
  if (v >= -0x40000000 && v < 0x40000000) return writeVarintAt(buf, pos, v);
  if (v >= FLOAT_SAFE || v <= -FLOAT_SAFE) {
    let u = zigzagBig(BigInt(v));
    while (u >= 0x80n) {
      buf[pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    buf[pos++] = Number(u);
    return pos;
  }
  let z = zigzagNumber(v);
  while (z >= 128) {
    buf[pos++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  buf[pos++] = z;
  return pos;
}
