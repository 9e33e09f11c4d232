// The fuzzer's seeded randomness: splitmix64 to spread a seed, xoshiro128** to draw. Every choice the
// fuzzer makes comes from one of these, so a seed replays the same actions (timing aside).
// Lanes get independent streams (`fork`) so one lane's draws never shift another's.

const MASK64 = (1n << 64n) - 1n;

/** One splitmix64 step: a well-mixed 64-bit value from a counter, used only for seeding. */
function splitmix64(state: bigint): [bigint, bigint] {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [next, z ^ (z >> 31n)];
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | bigint) {
    let s = BigInt.asUintN(64, BigInt(seed));
    const words: number[] = [];
    for (let i = 0; i < 2; i++) {
      const [next, out] = splitmix64(s);
      s = next;
      words.push(Number(out >> 32n) >>> 0, Number(out & 0xffffffffn) >>> 0);
    }
    [this.a, this.b, this.c, this.d] = words as [number, number, number, number];
    // xoshiro must not start from all zeros.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** An integer in [0, n); n up to 2^32. */
  int(n: number): number {
    if (n <= 0) return 0;
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [lo, hi], both included. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** Picks by weight: `[weight, value]` pairs. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of choices) total += w;
    let x = this.int(total);
    for (const [w, v] of choices) {
      if (x < w) return v;
      x -= w;
    }
    return choices[choices.length - 1]![1];
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** A signed 64-bit value, biased towards edges (0, -1, limits) and small numbers. */
  int64(): bigint {
    switch (this.int(6)) {
      case 0: return this.pick([0n, -1n, 1n, -2n]);
      case 1: return this.pick([(1n << 63n) - 1n, -(1n << 63n), (1n << 31n) - 1n, 1n << 32n]);
      case 2: return BigInt(this.int(1000));
      default: return BigInt.asIntN(64, (BigInt(this.u32()) << 32n) | BigInt(this.u32()));
    }
  }

  /** A signed 32-bit value, biased the same way. */
  int32(): number {
    switch (this.int(6)) {
      case 0: return this.pick([0, -1, 1, -2]);
      case 1: return this.pick([0x7fffffff, -0x80000000, 0x7fff, -0x8000, 0xffff]);
      case 2: return this.int(1000);
      default: return this.u32() | 0;
    }
  }

  /** A new independent stream, derived from this one's next draws. */
  fork(): Prng {
    return new Prng((BigInt(this.u32()) << 32n) | BigInt(this.u32()));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A fresh seed for a run that was not given one. */
export function freshSeed(): number {
  return Math.floor(Math.random() * 0x7fff_ffff) + 1;
}
