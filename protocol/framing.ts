// Kafka's framing on a TCP stream: every request and response is [size int32][size bytes].
// FrameReader cuts a stream of chunks into frames (without the size prefix).
// Invariants: bytes are never copied more than once; a frame lying inside one chunk is a
// subarray of it (no copy), and a frame spanning chunks is assembled with a single copy once all
// of it has arrived (into a BufferPool's reused memory when the reader has one), so splitting a
// stream any way costs time linear in its length. A size above maxFrameSize
// (socket.request.max.bytes) or below zero fails before anything is buffered for it, so a
// hostile header cannot make the broker allocate.

import { DecodeError } from './decode-error.ts';

/** Kafka's default socket.request.max.bytes. */
export const DEFAULT_MAX_FRAME_SIZE = 104857600;

export const SIZE_PREFIX_LENGTH = 4;

/** A size prefix the connection must not honour; the connection closes after logging it. */
export class FrameSizeError extends Error {
  readonly code: 'FRAME_TOO_LARGE' | 'INVALID_FRAME_SIZE';
  /** The size the header announced. */
  readonly size: number;
  readonly maxFrameSize: number;
  constructor(code: 'FRAME_TOO_LARGE' | 'INVALID_FRAME_SIZE', size: number, maxFrameSize: number, message: string) {
    super(message);
    this.name = 'FrameSizeError';
    this.code = code;
    this.size = size;
    this.maxFrameSize = maxFrameSize;
  }
}

export class FrameTooLargeError extends FrameSizeError {
  constructor(size: number, maxFrameSize: number) {
    super('FRAME_TOO_LARGE', size, maxFrameSize, `Invalid receive (size = ${size} larger than ${maxFrameSize})`);
    this.name = 'FrameTooLargeError';
  }
}

export class InvalidFrameSizeError extends FrameSizeError {
  constructor(size: number, maxFrameSize: number) {
    super('INVALID_FRAME_SIZE', size, maxFrameSize, `Invalid receive (size = ${size})`);
    this.name = 'InvalidFrameSizeError';
  }
}

export interface FrameReaderOptions {
  /** socket.request.max.bytes on a broker; a client sets what it accepts. */
  maxFrameSize?: number;
  /** Where frames spanning chunks are assembled; fresh memory per frame when absent. */
  pool?: BufferPool;
}

/**
 * Reusable memory for the data path's large buffers: frames assembled from several chunks, and
 * the log's reads for fetches (storage/segment.ts). Every fresh buffer is external memory to V8,
 * and under a produce load of frames a little larger than a socket read (64 KiB batches), or a
 * fetch load of 1 MiB reads, those allocations are what start V8's full collections (external
 * memory pressure, one per ~64 MB). A buffer is given back with `release` by whoever knows that
 * nothing reads it any more (the connection: once a produce request with acks is answered, its
 * appends have completed; once a fetch answer's write has completed, the kernel has its bytes);
 * a buffer never released is collected as any other. Sizes are rounded up to an eighth of their
 * power of two, so a pooled buffer wastes at most 12.5%. At most `maxFreeBytes` are kept free
 * (when full, what is kept is dropped for what comes back); sizes outside [minSize, maxSize] are
 * not pooled.
 */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  // Backing memory handed out and not yet back: only these may be released (not a chunk's memory).
  private readonly issued = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;
  readonly maxFreeBytes: number;
  readonly minSize: number;
  readonly maxSize: number;

  constructor(options: { maxFreeBytes?: number; minSize?: number; maxSize?: number } = {}) {
    this.maxFreeBytes = options.maxFreeBytes ?? 32 * 1024 * 1024;
    this.minSize = options.minSize ?? 16 * 1024;
    this.maxSize = options.maxSize ?? 1024 * 1024;
  }

  /** Bytes held for reuse. */
  get pooledBytes(): number {
    return this.freeBytes;
  }

  /** A buffer of exactly `n` bytes (content undefined), or null when `n` is not pooled. */
  acquire(n: number): Buffer | null {
    if (n < this.minSize || n > this.maxSize) return null;
    const step = 2 ** (Math.floor(Math.log2(n)) - 3);
    const capacity = Math.ceil(n / step) * step;
    let memory = this.free.get(capacity)?.pop();
    if (memory) this.freeBytes -= capacity;
    else memory = Buffer.allocUnsafeSlow(capacity).buffer as ArrayBuffer;
    this.issued.add(memory);
    return Buffer.from(memory, 0, n);
  }

  /** Gives a frame from `acquire` back; anything else (or a second release) is ignored. */
  release(frame: Buffer): void {
    const memory = frame.buffer as ArrayBuffer;
    if (!this.issued.delete(memory)) return;
    const capacity = memory.byteLength;
    if (capacity > this.maxFreeBytes) return;
    if (this.freeBytes + capacity > this.maxFreeBytes) {
      // Full: what is kept no longer fits the sizes in use (a load of other sizes came), so
      // start over from what is given back now rather than stop reusing.
      this.free.clear();
      this.freeBytes = 0;
    }
    let list = this.free.get(capacity);
    if (!list) this.free.set(capacity, (list = []));
    list.push(memory);
    this.freeBytes += capacity;
  }
}

/** How many bytes were copied to assemble frames: tests and benchmarks check it stays linear. */
export interface FrameReaderStats {
  /** Frames that spanned chunks and were assembled by copying. */
  assembled: number;
  /** Bytes copied while assembling them (each stream byte at most once). */
  copiedBytes: number;
}

// Placeholder for dropped chunk slots, so consumed input can be garbage collected.
const EMPTY = Buffer.alloc(0);

export class FrameReader {
  /** May change between pushes (a SASL connection's limit rises once it has authenticated). */
  maxFrameSize: number;
  readonly stats: FrameReaderStats = { assembled: 0, copiedBytes: 0 };

  // Unconsumed input is chunks[head..] with the first `offset` bytes of chunks[head] consumed.
  private chunks: Buffer[] = [];
  private head = 0;
  private offset = 0;
  private buffered = 0;
  // Size of the frame being received, or -1 while its prefix is still incomplete.
  private expected = -1;
  private failure: FrameSizeError | undefined;
  private readonly pool: BufferPool | undefined;

  constructor(options: FrameReaderOptions = {}) {
    this.maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.pool = options.pool;
  }

  /** Bytes received and not yet returned as part of a frame (prefixes included). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** The announced size of the frame being received, if its prefix has arrived. */
  get pendingFrameSize(): number | undefined {
    return this.expected < 0 ? undefined : this.expected;
  }

  /**
   * Feeds one chunk read from the socket and returns the frames it completes, in order.
   * Returned buffers may share memory with the chunks pushed; the reader never writes to them.
   * Throws FrameSizeError on a bad prefix, and again on every later push: the stream is lost.
   */
  push(chunk: Buffer): Buffer[] {
    if (this.failure) throw this.failure;
    const frames: Buffer[] = [];
    if (chunk.length === 0) return frames;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < SIZE_PREFIX_LENGTH) break;
        const size = this.readPrefix();
        if (size < 0) this.failure = new InvalidFrameSizeError(size, this.maxFrameSize);
        else if (size > this.maxFrameSize) this.failure = new FrameTooLargeError(size, this.maxFrameSize);
        if (this.failure) {
          this.release();
          throw this.failure;
        }
        this.expected = size;
      }
      if (this.buffered < this.expected) break;
      frames.push(this.take(this.expected));
      this.expected = -1;
    }
    this.compact();
    return frames;
  }

  /** Reads and consumes the 4-byte prefix, which may straddle chunks. */
  private readPrefix(): number {
    const first = this.chunks[this.head]!;
    if (first.length - this.offset >= SIZE_PREFIX_LENGTH) {
      const size = first.readInt32BE(this.offset);
      this.consume(SIZE_PREFIX_LENGTH);
      return size;
    }
    let size = 0;
    let i = this.head;
    let at = this.offset;
    for (let n = 0; n < SIZE_PREFIX_LENGTH; n++) {
      while (at >= this.chunks[i]!.length) {
        i++;
        at = 0;
      }
      size = (size << 8) | this.chunks[i]![at++]!;
    }
    this.consume(SIZE_PREFIX_LENGTH);
    return size; // `| ` works in int32, so a set top bit reads as a negative size, as in Java
  }

  /** Removes the next `n` buffered bytes (n <= buffered) and returns them as one buffer. */
  private take(n: number): Buffer {
    if (n === 0) return EMPTY; // every chunk may already be consumed
    const first = this.chunks[this.head]!;
    if (first.length - this.offset >= n) {
      const frame = first.subarray(this.offset, this.offset + n);
      this.consume(n);
      return frame;
    }
    const frame = this.pool?.acquire(n) ?? Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.head]!;
      const count = Math.min(chunk.length - this.offset, n - filled);
      chunk.copy(frame, filled, this.offset, this.offset + count);
      filled += count;
      this.consume(count);
    }
    this.stats.assembled++;
    this.stats.copiedBytes += n;
    return frame;
  }

  /** Advances past `n` bytes, dropping exhausted chunks so the reader holds no stale memory. */
  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const chunk = this.chunks[this.head]!;
      const left = chunk.length - this.offset;
      if (n < left) {
        this.offset += n;
        return;
      }
      n -= left;
      this.chunks[this.head] = EMPTY;
      this.head++;
      this.offset = 0;
    }
  }

  // Dropping consumed slots in bulk keeps the list's upkeep linear even with millions of chunks.
  private compact(): void {
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  private release(): void {
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.buffered = 0;
  }
}

export interface PeekedRequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
}

/** Bytes of the request header that are the same in every header version. */
export const REQUEST_HEADER_PREFIX_LENGTH = 8;

/**
 * Reads requestApiKey, requestApiVersion and correlationId, which open every request header
 * version. This is what a broker can know before it decides whether it can decode the rest,
 * e.g. to answer an ApiVersions request of a version it does not serve.
 */
export function peekRequestHeader(frame: Buffer): PeekedRequestHeader {
  if (frame.length < REQUEST_HEADER_PREFIX_LENGTH) {
    throw new DecodeError(
      'TRUNCATED',
      `request of ${frame.length} bytes is shorter than the ${REQUEST_HEADER_PREFIX_LENGTH}-byte header prefix`,
      0,
    );
  }
  return {
    apiKey: frame.readInt16BE(0),
    apiVersion: frame.readInt16BE(2),
    correlationId: frame.readInt32BE(4),
  };
}

/**
 * Prefixes the chunks of one message with their total size, ready for a vectored write. The
 * chunks are not copied.
 */
export function frame(chunks: readonly Buffer[]): Buffer[] {
  let size = 0;
  for (const c of chunks) size += c.length;
  if (size > 0x7fffffff) throw new RangeError(`frame of ${size} bytes does not fit an int32 size`);
  const prefix = Buffer.allocUnsafe(SIZE_PREFIX_LENGTH);
  prefix.writeInt32BE(size, 0);
  return [prefix, ...chunks];
}
