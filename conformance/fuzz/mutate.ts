// Mutations of captured client request frames (protocol/golden): each turns one well-formed frame
// (header + body, no size prefix) into bytes for the wire, prefix included, that are wrong in one
// chosen way: flipped bits, cut or extended bodies, lying size prefixes, other API keys and
// versions, huge or negative lengths and counts, endless varints, invalid UTF-8, and record batches
// whose fields are bent and whose CRC is then made right again so validation gets past the CRC.
// Pure functions of the frame and the PRNG, so a seed gives the same bytes every time.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32c } from '../../protocol/records/crc.ts';
import type { Prng } from './prng.ts';

const GOLDEN = resolve(dirname(fileURLToPath(import.meta.url)), '../../protocol/golden');

export interface CorpusFrame {
  name: string;
  apiKey: number;
  apiVersion: number;
  /** Header and body, without the size prefix. */
  frame: Buffer;
}

interface GoldenIndex {
  frames: { client: string; apiName: string; apiKey: number; apiVersion: number; direction: string; file: string }[];
}

/** Every captured request frame of the golden corpus. */
export function loadCorpus(dir = GOLDEN): CorpusFrame[] {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as GoldenIndex;
  return index.frames
    .filter((f) => f.direction === 'request')
    .map((f) => ({ name: `${f.client}/${f.apiName}-v${f.apiVersion}`, apiKey: f.apiKey, apiVersion: f.apiVersion, frame: readFileSync(join(dir, f.file)) }));
}

export interface Mutation {
  /** What was done, for the action log. */
  kind: string;
  /** Bytes to write, in the chunks to write them in. */
  chunks: Buffer[];
}

export function sizePrefixed(body: Buffer, size = body.length): Buffer {
  const out = Buffer.allocUnsafe(body.length + 4);
  out.writeInt32BE(size | 0, 0);
  body.copy(out, 4);
  return out;
}

const INTERESTING_16 = [0x7fff, -0x8000, -1, -2, 0, 1, 0x7ffe];
const INTERESTING_32 = [0x7fffffff, -0x80000000, -1, -2, 0, 1, 0x10000000, 0x7ffffffe, 104857601];

// Where the request body starts: after apiKey, version, correlation id and the client id string.
function bodyStart(frame: Buffer): number {
  if (frame.length < 10) return Math.min(frame.length, 8);
  const len = frame.readInt16BE(8);
  return Math.min(frame.length, 10 + Math.max(0, len));
}

/** Record batches (magic 2) inside a frame, found by their self-consistent length and magic. */
export function findBatches(frame: Buffer): number[] {
  const found: number[] = [];
  for (let i = 0; i + 61 <= frame.length; i++) {
    if (frame[i + 16] !== 2) continue;
    const len = frame.readInt32BE(i + 8);
    if (len < 49 || i + 12 + len > frame.length) continue;
    const crc = frame.readUInt32BE(i + 17);
    if (crc32c(frame, i + 21, i + 12 + len) !== crc) continue;
    found.push(i);
    i += 11 + len;
  }
  return found;
}

/** Runs of printable ASCII of at least 3 bytes: likely strings (names, ids). */
function findStrings(frame: Buffer, from: number): [number, number][] {
  const runs: [number, number][] = [];
  let start = -1;
  for (let i = from; i <= frame.length; i++) {
    const c = i < frame.length ? frame[i]! : 0;
    const printable = c >= 0x20 && c < 0x7f;
    if (printable && start < 0) start = i;
    if (!printable && start >= 0) {
      if (i - start >= 3) runs.push([start, i]);
      start = -1;
    }
  }
  return runs;
}

type Mutator = (frame: Buffer, rng: Prng) => Mutation;

const mutators: [number, Mutator][] = [
  [6, (f, rng) => {
    const b = Buffer.from(f);
    const n = rng.range(1, 8);
    for (let i = 0; i < n && b.length > 0; i++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
    return { kind: `flip ${n} bits`, chunks: [sizePrefixed(b)] };
  }],
  [4, (f, rng) => {
    const b = Buffer.from(f);
    const n = rng.range(1, 4);
    for (let i = 0; i < n && b.length > 0; i++) b[rng.int(b.length)] = rng.pick([0, 0xff, 0x7f, 0x80, 0x01]);
    return { kind: `set ${n} bytes`, chunks: [sizePrefixed(b)] };
  }],
  [5, (f, rng) => {
    const cut = rng.int(f.length);
    const honest = rng.chance(0.6);
    const b = f.subarray(0, cut);
    return { kind: `truncate to ${cut}${honest ? '' : ' under the full size'}`, chunks: [sizePrefixed(b, honest ? cut : f.length)] };
  }],
  [4, (f, rng) => {
    const extra = rng.chance(0.2) ? rng.range(1000, 200_000) : rng.range(1, 64);
    const b = Buffer.concat([f, rng.chance(0.5) ? rng.bytes(extra) : Buffer.alloc(extra, rng.pick([0, 0xff]))]);
    return { kind: `extend by ${extra}`, chunks: [sizePrefixed(b)] };
  }],
  [5, (f, rng) => {
    const size = rng.pick([0, 1, 2, 3, 4, f.length - 1, f.length + 1, f.length + 1000, -1, -0x80000000, 0x7fffffff, 104857601, 104857600]);
    return { kind: `size prefix ${size}`, chunks: [sizePrefixed(f, size)] };
  }],
  [6, (f, rng) => {
    const b = Buffer.from(f);
    const key = rng.chance(0.7) ? rng.range(-2, 90) : rng.pick([0x7fff, -0x8000, 1000]);
    const version = rng.chance(0.7) ? rng.range(-1, 18) : rng.pick([0x7fff, -0x8000, 100]);
    if (b.length >= 4) {
      if (rng.chance(0.7)) b.writeInt16BE(key, 0);
      b.writeInt16BE(version, 2);
    }
    return { kind: `api key ${b.length >= 2 ? b.readInt16BE(0) : '?'} version ${version}`, chunks: [sizePrefixed(b)] };
  }],
  [8, (f, rng) => {
    // A length or count field, guessed at an offset in the body, made huge or negative.
    const b = Buffer.from(f);
    const from = bodyStart(b);
    if (b.length - from < 4) return { kind: 'header only', chunks: [sizePrefixed(b)] };
    const at = rng.range(from, b.length - 4);
    const wide = rng.chance(0.5);
    const value = wide ? rng.pick(INTERESTING_32) : rng.pick(INTERESTING_16);
    if (wide) b.writeInt32BE(value, at);
    else b.writeInt16BE(value, at);
    return { kind: `int${wide ? 32 : 16} ${value} at ${at}`, chunks: [sizePrefixed(b)] };
  }],
  [4, (f, rng) => {
    // Header client id length itself.
    const b = Buffer.from(f);
    if (b.length >= 10) b.writeInt16BE(rng.pick([0x7fff, -2, -1, b.length, 0]), 8);
    return { kind: `client id length ${b.length >= 10 ? b.readInt16BE(8) : '?'}`, chunks: [sizePrefixed(b)] };
  }],
  [5, (f, rng) => {
    // A varint that never ends (or ends past 5 bytes), spliced in or written over.
    const from = bodyStart(f);
    const at = rng.range(from, f.length);
    const run = Buffer.alloc(rng.range(5, 12), rng.pick([0xff, 0x80]));
    if (rng.chance(0.3)) run[run.length - 1] = 0x0f;
    const b = rng.chance(0.5)
      ? Buffer.concat([f.subarray(0, at), run, f.subarray(at)])
      : Buffer.concat([f.subarray(0, at), run, f.subarray(Math.min(f.length, at + run.length))]);
    return { kind: `bad varint of ${run.length} at ${at}`, chunks: [sizePrefixed(b)] };
  }],
  [5, (f, rng) => {
    const b = Buffer.from(f);
    const runs = findStrings(b, 4);
    if (runs.length === 0) return { kind: 'no string', chunks: [sizePrefixed(b)] };
    const [s, e] = rng.pick(runs);
    const bad = rng.pick([[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80], [0x00]]);
    const at = rng.range(s, e - 1);
    for (let i = 0; i < bad.length && at + i < e; i++) b[at + i] = bad[i]!;
    return { kind: `bad utf-8 at ${at}`, chunks: [sizePrefixed(b)] };
  }],
  [7, (f, rng) => {
    const b = Buffer.from(f);
    const batches = findBatches(b);
    if (batches.length === 0) return { kind: 'no batch: flip', chunks: [sizePrefixed(flip(b, rng))] };
    const at = rng.pick(batches);
    const what = mutateBatch(b, at, rng);
    return { kind: `batch at ${at}: ${what}`, chunks: [sizePrefixed(b)] };
  }],
  [3, (f, rng) => {
    // Random bytes behind this frame's header.
    const from = bodyStart(f);
    const garbage = rng.bytes(rng.range(0, 200));
    return { kind: `random body of ${garbage.length}`, chunks: [sizePrefixed(Buffer.concat([f.subarray(0, from), garbage]))] };
  }],
];

function flip(b: Buffer, rng: Prng): Buffer {
  if (b.length > 0) b[rng.int(b.length)]! ^= 1 << rng.int(8);
  return b;
}

/** Bends one field of the batch at `at` in place and re-signs it; returns what was done. */
function mutateBatch(b: Buffer, at: number, rng: Prng): string {
  const len = b.readInt32BE(at + 8);
  const end = at + 12 + len;
  let what: string;
  switch (rng.int(9)) {
    case 0: { const n = rng.pick(INTERESTING_32); b.writeInt32BE(n, at + 57); what = `records count ${n}`; break; }
    case 1: { const c = rng.range(1, 7); b.writeInt16BE((b.readInt16BE(at + 21) & ~7) | c, at + 21); what = `compression ${c}`; break; }
    case 2: { const a = rng.int(0x10000) - 0x8000; b.writeInt16BE(a, at + 21); what = `attributes ${a}`; break; }
    case 3: { const d = rng.pick(INTERESTING_32); b.writeInt32BE(d, at + 23); what = `last offset delta ${d}`; break; }
    case 4: { const s = rng.pick(INTERESTING_32); b.writeInt32BE(s, at + 53); what = `base sequence ${s}`; break; }
    case 5: { const p = rng.int64(); b.writeBigInt64BE(p, at + 43); what = `producer id ${p}`; break; }
    case 6: { const o = rng.int64(); b.writeBigInt64BE(o, at + 0); what = `base offset ${o}`; break; }
    case 7: {
      // A record's own varint length or key length, somewhere past the header.
      const p = rng.range(at + 61, Math.max(at + 61, end - 1));
      if (p < end) b[p] = rng.pick([0xff, 0x7f, 0x01, 0x00, 0x80]);
      what = `record byte at ${p - at}`;
      break;
    }
    default: { const l = rng.pick([0, 1, 48, len + 1, len - 1, 0x7fffffff, -1]); b.writeInt32BE(l, at + 8); what = `batch length ${l}`; break; }
  }
  if (rng.chance(0.85) && end <= b.length) b.writeUInt32BE(crc32c(b, at + 21, end), at + 17);
  return what;
}

/** One mutation of one frame; may also split the bytes into odd chunks. */
export function mutate(frame: Buffer, rng: Prng): Mutation {
  const m = rng.weighted(mutators)(frame, rng);
  if (rng.chance(0.15)) m.chunks = splitChunks(Buffer.concat(m.chunks), rng);
  return m;
}

/** Splits bytes into 2-6 writes at random points (the size prefix may straddle them). */
export function splitChunks(bytes: Buffer, rng: Prng): Buffer[] {
  const cuts = new Set<number>();
  const n = rng.range(1, 5);
  for (let i = 0; i < n && bytes.length > 1; i++) cuts.add(rng.range(1, bytes.length - 1));
  const sorted = [...cuts].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of sorted) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}
