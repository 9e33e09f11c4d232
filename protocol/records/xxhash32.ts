// XXH32 (seeded 32-bit xxHash) as the LZ4 frame format uses it for its header, block and content
// checksums. Pure arithmetic on 32-bit lanes read little-endian; Math.imul keeps products exact.

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function round(acc: number, lane: number): number {
  acc = (acc + Math.imul(lane, PRIME2)) | 0;
  return Math.imul(rotl(acc, 13), PRIME1);
}

/** XXH32 of buf[start, end) with `seed`; returns the unsigned hash. */
export function xxhash32(buf: Buffer, start = 0, end = buf.length, seed = 0): number {
  const len = end - start;
  let p = start;
  let acc: number;
  if (len >= 16) {
    let v1 = (seed + PRIME1 + PRIME2) | 0;
    let v2 = (seed + PRIME2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME1) | 0;
    const limit = end - 16;
    while (p <= limit) {
      v1 = round(v1, buf.readInt32LE(p));
      v2 = round(v2, buf.readInt32LE(p + 4));
      v3 = round(v3, buf.readInt32LE(p + 8));
      v4 = round(v4, buf.readInt32LE(p + 12));
      p += 16;
    }
    acc = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    acc = (seed + PRIME5) | 0;
  }
  acc = (acc + len) | 0;
  while (p + 4 <= end) {
    acc = (acc + Math.imul(buf.readInt32LE(p), PRIME3)) | 0;
    acc = Math.imul(rotl(acc, 17), PRIME4);
    p += 4;
  }
  while (p < end) {
    acc = (acc + Math.imul(buf[p]!, PRIME5)) | 0;
    acc = Math.imul(rotl(acc, 11), PRIME1);
    p++;
  }
  acc ^= acc >>> 15;
  acc = Math.imul(acc, PRIME2);
  acc ^= acc >>> 13;
  acc = Math.imul(acc, PRIME3);
  acc ^= acc >>> 16;
  return acc >>> 0;
}
