import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_MAX_FRAME_SIZE,
  BufferPool,
  FrameReader,
  FrameSizeError,
  FrameTooLargeError,
  InvalidFrameSizeError,
  frame,
  peekRequestHeader,
} from './framing.ts';
import { DecodeError } from './decode-error.ts';

function encode(frames: Buffer[]): Buffer {
  return Buffer.concat(frames.flatMap((f) => frame([f])));
}

/** Cuts `buf` at the given positions (any order, duplicates allowed). */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

function feed(reader: FrameReader, chunks: Buffer[]): Buffer[] {
  return chunks.flatMap((c) => reader.push(c));
}

describe('FrameReader', () => {
  it('yields the same frames however the stream is split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (payloads, cuts) => {
          const frames = payloads.map((p) => Buffer.from(p));
          const stream = encode(frames);
          const reader = new FrameReader();
          const out = feed(reader, split(stream, cuts));
          expect(out.map((b) => b.toString('hex'))).toEqual(frames.map((b) => b.toString('hex')));
          expect(reader.bufferedBytes).toBe(0);
          expect(reader.pendingFrameSize).toBeUndefined();
          // Linear: each byte copied at most once, and only frames that straddle chunks copied.
          expect(reader.stats.copiedBytes).toBeLessThanOrEqual(stream.length);
          expect(reader.stats.assembled).toBeLessThanOrEqual(frames.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('returns many frames from one chunk as subarrays, without copying', () => {
    const frames = Array.from({ length: 1000 }, (_, i) => Buffer.from(`frame-${i}`));
    const stream = encode(frames);
    const reader = new FrameReader();
    const out = reader.push(stream);
    expect(out).toHaveLength(1000);
    expect(out[999]!.toString()).toBe('frame-999');
    expect(out[0]!.buffer).toBe(stream.buffer);
    expect(reader.stats).toEqual({ assembled: 0, copiedBytes: 0 });
  });

  it('assembles a big frame from many tiny chunks with one copy', () => {
    const payload = Buffer.alloc(1 << 20);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const stream = encode([payload, Buffer.from('next')]);
    const reader = new FrameReader();
    const out: Buffer[] = [];
    for (let at = 0; at < stream.length; at += 7) out.push(...reader.push(stream.subarray(at, at + 7)));
    expect(out).toHaveLength(2);
    expect(out[0]!.equals(payload)).toBe(true);
    expect(out[1]!.toString()).toBe('next');
    expect(reader.stats.assembled).toBe(2);
    expect(reader.stats.copiedBytes).toBe(payload.length + 4);
  });

  it('keeps copies linear as the number of chunks grows', () => {
    // Copy volume is what would grow quadratically with concat-on-every-chunk; it stays at the
    // stream length for every chunk size.
    const payload = Buffer.alloc(200_000, 1);
    const stream = encode([payload]);
    for (const step of [1, 10, 1000]) {
      const reader = new FrameReader();
      let frames = 0;
      for (let at = 0; at < stream.length; at += step) frames += reader.push(stream.subarray(at, at + step)).length;
      expect(frames).toBe(1);
      expect(reader.stats).toEqual({ assembled: 1, copiedBytes: payload.length });
    }
  });

  it('tracks a partial frame', () => {
    const reader = new FrameReader();
    expect(reader.push(Buffer.from([0, 0]))).toEqual([]);
    expect(reader.pendingFrameSize).toBeUndefined();
    expect(reader.push(Buffer.from([0, 5, 1, 2]))).toEqual([]);
    expect(reader.pendingFrameSize).toBe(5);
    expect(reader.bufferedBytes).toBe(2);
    expect(reader.push(Buffer.alloc(0))).toEqual([]);
    const out = reader.push(Buffer.from([3, 4, 5, 0]));
    expect(out.map((b) => [...b])).toEqual([[1, 2, 3, 4, 5]]);
    expect(reader.bufferedBytes).toBe(1);
  });

  it('passes an empty frame through for the header decoder to reject', () => {
    const reader = new FrameReader();
    const out = reader.push(Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 9]));
    expect(out.map((b) => b.length)).toEqual([0, 1]);
  });

  it('rejects a size above maxFrameSize before buffering the frame', () => {
    const reader = new FrameReader({ maxFrameSize: 1000 });
    expect(reader.push(frame([Buffer.alloc(1000)])[0]!)).toEqual([]);
    reader.push(Buffer.alloc(1000));
    const header = Buffer.alloc(4);
    header.writeInt32BE(1001);
    reader.push(header.subarray(0, 2));
    const caught = catchError(() => reader.push(header.subarray(2)));
    expect(caught).toBeInstanceOf(FrameTooLargeError);
    expect(caught).toBeInstanceOf(FrameSizeError);
    expect((caught as FrameTooLargeError).code).toBe('FRAME_TOO_LARGE');
    expect((caught as FrameTooLargeError).size).toBe(1001);
    expect((caught as FrameTooLargeError).maxFrameSize).toBe(1000);
    expect(reader.bufferedBytes).toBe(0);
    // The stream is unusable from here on.
    expect(() => reader.push(Buffer.from([0]))).toThrow(FrameTooLargeError);
  });

  it('defaults maxFrameSize to socket.request.max.bytes', () => {
    const reader = new FrameReader();
    expect(reader.maxFrameSize).toBe(DEFAULT_MAX_FRAME_SIZE);
    const header = Buffer.alloc(4);
    header.writeInt32BE(DEFAULT_MAX_FRAME_SIZE + 1);
    expect(() => reader.push(header)).toThrow(FrameTooLargeError);
    const ok = Buffer.alloc(4);
    ok.writeInt32BE(DEFAULT_MAX_FRAME_SIZE);
    const reader2 = new FrameReader();
    expect(reader2.push(ok)).toEqual([]);
    expect(reader2.pendingFrameSize).toBe(DEFAULT_MAX_FRAME_SIZE);
  });

  it('rejects a negative size, also when its bytes arrive one at a time', () => {
    for (const bytes of [[0xff, 0xff, 0xff, 0xff], [0x80, 0, 0, 0]]) {
      const reader = new FrameReader();
      const err = catchError(() => bytes.forEach((b) => reader.push(Buffer.from([b]))));
      expect(err).toBeInstanceOf(InvalidFrameSizeError);
      expect((err as InvalidFrameSizeError).code).toBe('INVALID_FRAME_SIZE');
      expect((err as InvalidFrameSizeError).size).toBe(Buffer.from(bytes).readInt32BE());
    }
  });
});

describe('BufferPool', () => {
  it('reuses the memory of a released frame for the next frame of its size class', () => {
    const pool = new BufferPool({ minSize: 16, maxSize: 4096 });
    const a = pool.acquire(1000)!;
    expect(a.length).toBe(1000);
    pool.release(a);
    expect(pool.pooledBytes).toBe(a.buffer.byteLength);
    const b = pool.acquire(1010)!;
    expect(b.length).toBe(1010);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.pooledBytes).toBe(0);
    // Rounded up to an eighth of the power of two below: at most 12.5% more than asked.
    expect(b.buffer.byteLength).toBeLessThanOrEqual(Math.ceil(1010 * 1.125));
    // Not yet released: a second frame gets other memory.
    expect(pool.acquire(1010)!.buffer).not.toBe(b.buffer);
  });

  it('ignores buffers it did not hand out, and a second release', () => {
    const pool = new BufferPool({ minSize: 16, maxSize: 4096 });
    pool.release(Buffer.alloc(1000));
    pool.release(Buffer.allocUnsafe(64).subarray(8, 40));
    expect(pool.pooledBytes).toBe(0);
    const a = pool.acquire(500)!;
    pool.release(a);
    pool.release(a);
    expect(pool.pooledBytes).toBe(a.buffer.byteLength);
    expect(pool.acquire(500)!.buffer).toBe(a.buffer);
    expect(pool.acquire(500)!.buffer).not.toBe(a.buffer);
  });

  it('keeps at most maxFreeBytes free and pools only sizes within its bounds', () => {
    const pool = new BufferPool({ minSize: 100, maxSize: 1000, maxFreeBytes: 2048 });
    expect(pool.acquire(99)).toBeNull();
    expect(pool.acquire(1001)).toBeNull();
    const frames = Array.from({ length: 5 }, () => pool.acquire(1000)!);
    for (const f of frames) {
      pool.release(f);
      expect(pool.pooledBytes).toBeLessThanOrEqual(2048);
    }
    // The last one given back is kept.
    expect(pool.acquire(1000)!.buffer).toBe(frames[4]!.buffer);
  });

  it('drops what it keeps for buffers of the sizes in use once full', () => {
    const pool = new BufferPool({ minSize: 100, maxSize: 4096, maxFreeBytes: 4096 });
    const small = Array.from({ length: 4 }, () => pool.acquire(1000)!);
    for (const f of small) pool.release(f);
    expect(pool.pooledBytes).toBe(4096);
    const big = pool.acquire(2000)!;
    pool.release(big);
    expect(pool.pooledBytes).toBe(big.buffer.byteLength);
    expect(pool.acquire(2000)!.buffer).toBe(big.buffer);
  });

  it('assembles frames spanning chunks in pooled memory, the same bytes however the stream is split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 20, maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (payloads, cuts) => {
          const pool = new BufferPool({ minSize: 20, maxSize: 300 });
          const frames = payloads.map((p) => Buffer.from(p));
          const reader = new FrameReader({ pool });
          const out: Buffer[] = [];
          for (const c of split(encode(frames), cuts)) {
            for (const f of reader.push(c)) {
              // Read it now, then give it back (as a connection does once answered): a later
              // frame may be assembled in the same memory.
              out.push(Buffer.from(f));
              pool.release(f);
            }
          }
          expect(out.map((b) => b.toString('hex'))).toEqual(frames.map((b) => b.toString('hex')));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('peekRequestHeader', () => {
  it('reads api key, version and correlation id', () => {
    const buf = Buffer.alloc(12);
    buf.writeInt16BE(18, 0);
    buf.writeInt16BE(4, 2);
    buf.writeInt32BE(-7, 4);
    expect(peekRequestHeader(buf)).toEqual({ apiKey: 18, apiVersion: 4, correlationId: -7 });
  });

  it('throws a DecodeError on a frame shorter than 8 bytes', () => {
    expect(() => peekRequestHeader(Buffer.alloc(7))).toThrow(DecodeError);
  });
});

describe('frame', () => {
  it('prefixes the total size and keeps the chunks as they are', () => {
    const a = Buffer.from('abc');
    const b = Buffer.from('de');
    const out = frame([a, b]);
    expect(out).toHaveLength(3);
    expect(out[0]!.readInt32BE()).toBe(5);
    expect(out[1]).toBe(a);
    expect(out[2]).toBe(b);
    expect(new FrameReader().push(Buffer.concat(out))[0]!.toString()).toBe('abcde');
  });
});
