// One log segment: `<20-digit base offset>.log` with its sparse `.index` and `.timeindex`.
// The `.log` file is a plain concatenation of magic-2 record batches (Kafka's FileRecords), with
// offsets increasing and every offset in [baseOffset, baseOffset + 2^31). `size` counts only
// bytes whose write has completed, so readers never see a half-written batch. Index entries are
// added per batch, Kafka's rule: when more than index.interval.bytes were appended since the last
// entry, the batch gets (lastOffset → its position) in the offset index and the segment's max
// timestamp so far (with the offset of the batch holding it) goes to the time index if it grew.
// The same rule rebuilds the indexes in recover(), so a rebuilt index equals the one written.
// Small header scans use synchronous positional reads (a few KiB, almost always in the page
// cache); record bytes are read asynchronously.
import * as fs from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  RECORD_BATCH_OVERHEAD,
  TIMESTAMP_TYPE_MASK,
} from '../protocol/records/batch-header.ts';
import { BufferPool } from '../protocol/framing.ts';
import { checkBatch } from './batch-check.ts';
import { CorruptRecordError } from './errors.ts';
import { OffsetIndex } from './offset-index.ts';
import { TimeIndex } from './time-index.ts';
import { TransactionIndex, TXN_INDEX_FILE_SUFFIX } from './txn-index.ts';

export const LOG_FILE_SUFFIX = '.log';
export const INDEX_FILE_SUFFIX = '.index';
export const TIME_INDEX_FILE_SUFFIX = '.timeindex';
export const DELETED_FILE_SUFFIX = '.deleted';
export const CLEANED_FILE_SUFFIX = '.cleaned';
export const SWAP_FILE_SUFFIX = '.swap';

const INT32_MAX = 2147483647;
const SCAN_CHUNK = 16 * 1024;
const RECOVERY_CHUNK = 4 * 1024 * 1024;

/**
 * Where `read` puts what it reads. The broker's connection gives a fetch answer's records back
 * once their write has completed; reads for anything else are never given back and are collected
 * as any buffer (see BufferPool).
 */
export const readBufferPool = new BufferPool({ maxSize: 16 * 1024 * 1024 });

export function filenamePrefixFromOffset(offset: number): string {
  return String(offset).padStart(20, '0');
}

export function segmentFilePaths(dir: string, baseOffset: number, suffix = ''): { log: string; index: string; timeIndex: string } {
  const prefix = path.join(dir, filenamePrefixFromOffset(baseOffset));
  return {
    log: prefix + LOG_FILE_SUFFIX + suffix,
    index: prefix + INDEX_FILE_SUFFIX + suffix,
    timeIndex: prefix + TIME_INDEX_FILE_SUFFIX + suffix,
  };
}

/** Header fields of one batch in a segment file. */
export interface BatchPosition {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  partitionLeaderEpoch: number;
}

/** Per-batch facts the log passes with an append (already read from the headers). */
export interface AppendedBatch {
  size: number;
  lastOffset: number;
  maxTimestamp: number;
}

export interface RollParams {
  maxSegmentBytes: number;
  maxSegmentMs: number;
  messagesSize: number;
  maxTimestampInMessages: number;
  maxOffsetInMessages: number;
  now: number;
}

export interface SegmentConfig {
  segmentIndexBytes: number;
  indexIntervalBytes: number;
}

export interface RecoverResult {
  truncatedBytes: number;
  reason: string | null;
}

export class LogSegment {
  readonly baseOffset: number;
  readonly dir: string;
  private logPath: string;
  private fh: FileHandle;
  /** Bytes of complete, written batches. */
  size: number;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  /** Aborted transactions whose ABORT marker is in this segment (`.txnindex`). */
  readonly txnIndex: TransactionIndex;
  private indexIntervalBytes: number;
  private bytesSinceLastIndexEntry = 0;
  private maxTs: number | undefined;
  private offsetOfMaxTs = -1;
  private rollingBasedTimestamp: number | undefined;
  private readonly created: number;
  readonly rollJitterMs: number;
  private chunk = Buffer.alloc(SCAN_CHUNK);
  private chunkStart = 0;
  private chunkLen = 0;
  private nextOffsetCache: number | undefined;
  /** Bytes [0, verifiedUpTo) are known good: written here after validation, recovered, or read with CRC checks. */
  private verifiedUpTo = 0;
  /** Batch boundaries where recent reads ended (offset → position), as Kafka's fetch offset metadata. */
  private readonly readHints = new Map<number, number>();
  private readonly peek = Buffer.alloc(LOG_OVERHEAD);

  private constructor(
    dir: string,
    baseOffset: number,
    fh: FileHandle,
    size: number,
    config: SegmentConfig,
    created: number,
    rollJitterMs: number,
    suffix: string,
  ) {
    const paths = segmentFilePaths(dir, baseOffset, suffix);
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.fh = fh;
    this.logPath = paths.log;
    this.size = size;
    this.offsetIndex = new OffsetIndex(paths.index, baseOffset, config.segmentIndexBytes);
    this.timeIndex = new TimeIndex(paths.timeIndex, baseOffset, config.segmentIndexBytes);
    this.txnIndex = new TransactionIndex(baseOffset, path.join(dir, filenamePrefixFromOffset(baseOffset)) + TXN_INDEX_FILE_SUFFIX + suffix);
    this.indexIntervalBytes = config.indexIntervalBytes;
    this.created = created;
    this.rollJitterMs = rollJitterMs;
  }

  /** Creates an empty segment (files truncated if they exist). */
  static async create(dir: string, baseOffset: number, config: SegmentConfig, now: number, rollJitterMs = 0, suffix = ''): Promise<LogSegment> {
    const paths = segmentFilePaths(dir, baseOffset, suffix);
    const fh = await open(paths.log, 'w+');
    const seg = new LogSegment(dir, baseOffset, fh, 0, config, now, rollJitterMs, suffix);
    seg.offsetIndex.reset();
    seg.timeIndex.reset();
    seg.txnIndex.reset();
    await fs.promises.rm(paths.index, { force: true });
    await fs.promises.rm(paths.timeIndex, { force: true });
    seg.maxTs = -1;
    seg.nextOffsetCache = baseOffset;
    return seg;
  }

  /** Opens an existing segment; its indexes are read lazily. */
  static async open(dir: string, baseOffset: number, config: SegmentConfig, now: number, rollJitterMs = 0, suffix = ''): Promise<LogSegment> {
    const paths = segmentFilePaths(dir, baseOffset, suffix);
    const fh = await open(paths.log, 'r+');
    const st = await fh.stat();
    const seg = new LogSegment(dir, baseOffset, fh, st.size, config, now, rollJitterMs, suffix);
    return seg;
  }

  get path(): string {
    return this.logPath;
  }

  get fd(): number {
    return this.fh.fd;
  }

  /** True when the index files exist and look sane (Kafka's sanity check plus monotonicity). */
  indexesLookValid(): boolean {
    if (!fs.existsSync(this.offsetIndex.path) || !fs.existsSync(this.timeIndex.path)) return false;
    const oiSize = fs.statSync(this.offsetIndex.path).size;
    const tiSize = fs.statSync(this.timeIndex.path).size;
    if (oiSize % this.offsetIndex.entrySize !== 0 || tiSize % this.timeIndex.entrySize !== 0) return false;
    if (!this.offsetIndex.isConsistent(this.size)) return false;
    return this.timeIndex.isConsistent(this.offsetIndex.lastEntry().offset + 1 + INT32_MAX);
  }

  // ---- header scanning -------------------------------------------------------------------

  private resetScan(): void {
    this.chunkLen = 0;
  }

  /** Header of the batch at `position` (< size); throws CorruptRecordError on nonsense. */
  headerAt(position: number): BatchPosition {
    if (position < this.chunkStart || position + RECORD_BATCH_OVERHEAD > this.chunkStart + this.chunkLen) {
      const want = Math.min(SCAN_CHUNK, this.size - position);
      this.chunkLen = want > 0 ? fs.readSync(this.fh.fd, this.chunk, 0, want, position) : 0;
      this.chunkStart = position;
    }
    const off = position - this.chunkStart;
    const avail = this.chunkStart + this.chunkLen - position;
    if (avail < RECORD_BATCH_OVERHEAD) throw new CorruptRecordError(this.logPath, position, 'batch header cut by end of file');
    const c = this.chunk;
    const batchLength = c.readInt32BE(off + BATCH_LENGTH_OFFSET);
    const size = LOG_OVERHEAD + batchLength;
    if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD || position + size > this.size) {
      throw new CorruptRecordError(this.logPath, position, `batch length ${batchLength} does not fit the segment`);
    }
    const magic = c.readInt8(off + MAGIC_OFFSET);
    if (magic !== 2) throw new CorruptRecordError(this.logPath, position, `magic ${magic}`);
    const baseOffset = Number(c.readBigInt64BE(off));
    const delta = c.readInt32BE(off + LAST_OFFSET_DELTA_OFFSET);
    if (baseOffset < this.baseOffset || delta < 0) throw new CorruptRecordError(this.logPath, position, `offsets ${baseOffset}+${delta} outside the segment`);
    return {
      position,
      size,
      baseOffset,
      lastOffset: baseOffset + delta,
      maxTimestamp: Number(c.readBigInt64BE(off + MAX_TIMESTAMP_OFFSET)),
      partitionLeaderEpoch: c.readInt32BE(off + PARTITION_LEADER_EPOCH_OFFSET),
    };
  }

  /** Calls `visit` for each batch from `position` until it returns true or the end. */
  scanFrom(position: number, visit: (b: BatchPosition) => boolean): BatchPosition | null {
    this.resetScan();
    let pos = position;
    while (pos < this.size) {
      const b = this.headerAt(pos);
      if (visit(b)) return b;
      pos += b.size;
    }
    return null;
  }

  /** First batch whose lastOffset >= offset (scanning from the index entry), or null. */
  translateOffset(offset: number, startingPosition = 0): BatchPosition | null {
    const from = Math.max(this.offsetIndex.lookup(offset).position, startingPosition);
    return this.scanFrom(from, (b) => b.lastOffset >= offset);
  }

  /** Offset after the last batch (baseOffset when empty). */
  nextOffset(): number {
    if (this.nextOffsetCache !== undefined) return this.nextOffsetCache;
    let last = this.baseOffset - 1;
    this.scanFrom(this.offsetIndex.lastEntry().position, (b) => {
      last = b.lastOffset;
      return false;
    });
    this.nextOffsetCache = last + 1;
    return last + 1;
  }

  private loadMaxTimestamp(): void {
    if (this.maxTs !== undefined) return;
    // The last time index entry covers batches up to the last offset index entry; scan the rest.
    const last = this.timeIndex.lastEntry();
    let maxTs = last.timestamp;
    let offsetOfMax = last.offset;
    this.scanFrom(this.offsetIndex.lastEntry().position, (b) => {
      if (b.maxTimestamp > maxTs) {
        maxTs = b.maxTimestamp;
        offsetOfMax = b.lastOffset;
      }
      return false;
    });
    this.maxTs = maxTs;
    this.offsetOfMaxTs = offsetOfMax;
    const lastIndexed = this.offsetIndex.lastEntry();
    this.bytesSinceLastIndexEntry = this.offsetIndex.entries === 0 ? this.size : this.size - lastIndexed.position;
  }

  get maxTimestampSoFar(): number {
    this.loadMaxTimestamp();
    return this.maxTs!;
  }

  get offsetOfMaxTimestampSoFar(): number {
    this.loadMaxTimestamp();
    return this.offsetOfMaxTs;
  }

  /** Kafka's largestTimestamp: max batch timestamp, or the file's mtime when there is none. */
  get largestTimestamp(): number {
    const ts = this.maxTimestampSoFar;
    if (ts >= 0) return ts;
    return this.lastModified;
  }

  get lastModified(): number {
    return fs.statSync(this.logPath).mtimeMs;
  }

  // ---- append ----------------------------------------------------------------------------

  shouldRoll(p: RollParams): boolean {
    const reachedRollMs = this.timeWaitedForRoll(p.now, p.maxTimestampInMessages) > p.maxSegmentMs - this.rollJitterMs;
    return (
      this.size > p.maxSegmentBytes - p.messagesSize ||
      (this.size > 0 && reachedRollMs) ||
      this.offsetIndex.isFull ||
      this.timeIndex.isFull ||
      p.maxOffsetInMessages - this.baseOffset > INT32_MAX
    );
  }

  private timeWaitedForRoll(now: number, messageTimestamp: number): number {
    if (this.rollingBasedTimestamp === undefined && this.size > 0) {
      this.resetScan();
      this.rollingBasedTimestamp = this.headerAt(0).maxTimestamp;
    }
    const ts = this.rollingBasedTimestamp ?? -1;
    if (ts >= 0) return messageTimestamp - ts;
    return now - this.created;
  }

  private indexBatch(position: number, size: number, lastOffset: number, maxTimestamp: number): void {
    if (maxTimestamp > this.maxTs!) {
      this.maxTs = maxTimestamp;
      this.offsetOfMaxTs = lastOffset;
    }
    if (this.bytesSinceLastIndexEntry > this.indexIntervalBytes) {
      this.offsetIndex.append(lastOffset, position);
      this.timeIndex.maybeAppend(this.maxTs!, this.offsetOfMaxTs);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
  }

  /** Writes `chunks` (whole batches described by `batches`) at the end of the file. */
  async append(chunks: Buffer[], batches: AppendedBatch[]): Promise<void> {
    this.loadMaxTimestamp();
    const start = this.size;
    let total = 0;
    for (const c of chunks) total += c.length;
    let written = 0;
    let bufs = chunks;
    while (written < total) {
      const { bytesWritten } = bufs.length === 1 ? await this.fh.write(bufs[0]!, 0, bufs[0]!.length, start + written) : await this.fh.writev(bufs, start + written);
      written += bytesWritten;
      if (written < total) bufs = skipBytes(chunks, written);
    }
    if (start === 0 && batches.length > 0) {
      let ts = -1;
      for (const b of batches) ts = Math.max(ts, b.maxTimestamp);
      this.rollingBasedTimestamp = ts;
    }
    let pos = start;
    for (const b of batches) {
      this.indexBatch(pos, b.size, b.lastOffset, b.maxTimestamp);
      pos += b.size;
    }
    this.size = start + total;
    if (this.verifiedUpTo === start) this.verifiedUpTo = this.size;
    if (batches.length > 0) {
      this.nextOffsetCache = batches[batches.length - 1]!.lastOffset + 1;
      this.addReadHint(this.nextOffsetCache, this.size);
    }
    // Index write-through is queued, not awaited: the log bytes are what an append promises.
    void this.offsetIndex.writeDirty(false);
    void this.timeIndex.writeDirty(false);
  }

  // ---- reads -----------------------------------------------------------------------------

  private addReadHint(offset: number, position: number): void {
    this.readHints.delete(offset);
    this.readHints.set(offset, position);
    if (this.readHints.size > 64) this.readHints.delete(this.readHints.keys().next().value!);
  }

  /**
   * Whole batches from the one containing `offset`: at most `maxSize` bytes unless
   * `minOneMessage` lets a larger first batch through, and only batches with lastOffset <
   * `maxOffset`. Null when no batch of this segment reaches `offset`. Every returned batch has
   * been checked (size, magic, CRC); damage raises CorruptRecordError.
   */
  async read(offset: number, maxSize: number, maxOffset: number, minOneMessage: boolean, verifyCrc = true): Promise<{ records: Buffer; firstOffset: number } | null> {
    // One read from the index entry's position usually covers both the (at most one index
    // interval) skip to the target batch and the data; the header scan is the fallback.
    const size = this.size;
    const hinted = this.readHints.get(offset);
    let from: number;
    let firstReadSize: number;
    if (hinted !== undefined && hinted < size) {
      // A batch boundary where an earlier read ended: peek its length, then read exactly.
      from = hinted;
      fs.readSync(this.fh.fd, this.peek, 0, LOG_OVERHEAD, from);
      const batchSize = LOG_OVERHEAD + this.peek.readInt32BE(BATCH_LENGTH_OFFSET);
      firstReadSize = Math.min(size - from, batchSize > maxSize && minOneMessage ? batchSize : maxSize);
      if (firstReadSize < RECORD_BATCH_OVERHEAD) firstReadSize = Math.min(size - from, RECORD_BATCH_OVERHEAD);
    } else {
      from = this.offsetIndex.lookup(offset).position;
      if (from >= size) return null;
      // The target batch starts at or before the next index entry's position.
      const next = this.offsetIndex.nextPositionAfter(offset);
      const slack = next >= 0 ? next - from : this.indexIntervalBytes + RECORD_BATCH_OVERHEAD;
      firstReadSize = Math.min(size - from, maxSize + slack);
    }
    let buf = readBufferPool.acquire(firstReadSize) ?? Buffer.allocUnsafe(firstReadSize);
    let bytesRead = (await this.fh.read(buf, 0, buf.length, from)).bytesRead;
    let p = 0;
    let first: { baseOffset: number; lastOffset: number; size: number } | null = null;
    while (p + RECORD_BATCH_OVERHEAD <= bytesRead) {
      const batchSize = LOG_OVERHEAD + buf.readInt32BE(p + BATCH_LENGTH_OFFSET);
      if (batchSize < RECORD_BATCH_OVERHEAD || from + p + batchSize > size) {
        throw new CorruptRecordError(this.logPath, from + p, `batch length ${batchSize - LOG_OVERHEAD} does not fit the segment`);
      }
      const base = Number(buf.readBigInt64BE(p));
      const last = base + buf.readInt32BE(p + LAST_OFFSET_DELTA_OFFSET);
      if (last >= offset) {
        first = { baseOffset: base, lastOffset: last, size: batchSize };
        break;
      }
      p += batchSize;
    }
    let firstPos: number;
    if (first === null) {
      if (from + p >= size) return null;
      const b = this.translateOffset(offset, from + p);
      if (b === null) return null;
      first = b;
      firstPos = b.position;
      bytesRead = 0;
      p = 0;
    } else {
      firstPos = from + p;
    }
    const empty = { records: Buffer.alloc(0), firstOffset: first.baseOffset };
    if (first.lastOffset >= maxOffset) return empty;
    let want = Math.min(maxSize, size - firstPos);
    if (first.size > want) {
      if (!minOneMessage) return empty;
      want = first.size;
    }
    const have = Math.max(0, bytesRead - p);
    if (have < want) {
      // Keep what was read, fetch only the rest.
      const whole = Buffer.allocUnsafe(want);
      buf.copy(whole, 0, p, p + have);
      const more = (await this.fh.read(whole, have, want - have, firstPos + have)).bytesRead;
      buf = whole;
      p = 0;
      bytesRead = have + more;
    } else {
      bytesRead = p + want;
    }
    const region = buf.subarray(p, bytesRead);
    const n = region.length;
    let end = 0;
    let lastAccepted = -1;
    while (end < n) {
      const reason = checkBatch(region, end, n - end, verifyCrc && firstPos + end >= this.verifiedUpTo);
      if (reason === 'TRUNCATED') {
        // Cut by maxSize is fine; cut by the end of the segment means damaged bytes.
        const inFile = size - (firstPos + end);
        const entryLen = n - end >= LOG_OVERHEAD ? LOG_OVERHEAD + region.readInt32BE(end + BATCH_LENGTH_OFFSET) : -1;
        if (n - end >= inFile || entryLen > inFile) {
          throw new CorruptRecordError(this.logPath, firstPos + end, 'batch runs past the end of the segment');
        }
        break;
      }
      if (reason !== null) throw new CorruptRecordError(this.logPath, firstPos + end, reason);
      const lastOffset = Number(region.readBigInt64BE(end)) + region.readInt32BE(end + LAST_OFFSET_DELTA_OFFSET);
      if (lastOffset >= maxOffset) break;
      const batchStart = firstPos + end;
      end += LOG_OVERHEAD + region.readInt32BE(end + BATCH_LENGTH_OFFSET);
      lastAccepted = lastOffset;
      if (verifyCrc && batchStart <= this.verifiedUpTo && firstPos + end > this.verifiedUpTo) this.verifiedUpTo = firstPos + end;
    }
    if (lastAccepted >= 0) this.addReadHint(lastAccepted + 1, firstPos + end);
    return { records: region.subarray(0, end), firstOffset: first.baseOffset };
  }

  /** Bytes [position, position + length) of the file (for the cleaner and tests). */
  async readRaw(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.fh.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  }

  /**
   * ListOffsets by time within this segment: the first record at or after `startingOffset` whose
   * timestamp is >= `timestamp`. Records are looked at only in uncompressed batches; in a
   * compressed batch the answer is the batch's first offset at or after `startingOffset`.
   */
  findOffsetByTimestamp(timestamp: number, startingOffset: number): { offset: number; timestamp: number; batch: BatchPosition } | null {
    const tso = this.timeIndex.lookup(timestamp);
    const from = this.offsetIndex.lookup(Math.max(tso.offset, startingOffset)).position;
    const batch = this.scanFrom(from, (b) => b.maxTimestamp >= timestamp && b.lastOffset >= startingOffset);
    if (batch === null) return null;
    const rec = this.findRecord(batch, (ts, off) => ts >= timestamp && off >= startingOffset);
    return { ...rec, batch };
  }

  /** Record offset of the max timestamp inside `batch` (Kafka's offsetOfMaxTimestamp). */
  offsetOfMaxTimestampIn(batch: BatchPosition): number {
    return this.findRecord(batch, (ts) => ts === batch.maxTimestamp).offset;
  }

  private findRecord(batch: BatchPosition, match: (ts: number, offset: number) => boolean): { offset: number; timestamp: number } {
    if (recordScratch.length < batch.size) recordScratch = Buffer.allocUnsafe(Math.max(batch.size, recordScratch.length * 2));
    const buf = recordScratch;
    fs.readSync(this.fh.fd, buf, 0, batch.size, batch.position);
    const attributes = buf.readInt16BE(ATTRIBUTES_OFFSET);
    const fallback = { offset: batch.baseOffset, timestamp: batch.maxTimestamp };
    if ((attributes & COMPRESSION_MASK) !== 0) return fallback;
    const logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0;
    const baseTimestamp = Number(buf.readBigInt64BE(BASE_TIMESTAMP_OFFSET));
    // Only the record prefix is needed: length, attributes, timestampDelta, offsetDelta.
    let pos = RECORD_BATCH_OVERHEAD;
    const end = batch.size;
    while (pos < end) {
      const len = readVarint(buf, pos, end);
      if (len === null || len.value < 0) break;
      const next = len.next + len.value;
      if (next > end) break;
      const tsDelta = readVarint(buf, len.next + 1, next);
      if (tsDelta === null) break;
      const ts = logAppendTime ? batch.maxTimestamp : baseTimestamp + tsDelta.value;
      const offDelta = readVarint(buf, tsDelta.next, next);
      if (offDelta === null) break;
      const off = batch.baseOffset + offDelta.value;
      if (match(ts, off)) return { offset: off, timestamp: ts };
      pos = next;
    }
    return fallback;
  }

  // ---- truncation and recovery -----------------------------------------------------------

  /** Removes the batch containing `offset` and everything after; returns bytes removed. */
  async truncateTo(offset: number): Promise<number> {
    this.txnIndex.truncateTo(offset);
    const b = this.translateOffset(offset);
    if (b === null) return 0;
    const removed = this.size - b.position;
    this.offsetIndex.truncateTo(offset);
    this.timeIndex.truncateTo(offset);
    this.offsetIndex.truncateToPosition(b.position);
    await this.fh.truncate(b.position);
    this.size = b.position;
    this.readHints.clear();
    if (this.verifiedUpTo > this.size) this.verifiedUpTo = this.size;
    this.maxTs = undefined;
    this.nextOffsetCache = undefined;
    if (this.size === 0) this.rollingBasedTimestamp = undefined;
    this.loadMaxTimestamp();
    await Promise.all([this.offsetIndex.rewrite(), this.timeIndex.rewrite()]);
    return removed;
  }

  /**
   * Validates every batch (size, magic, CRC, increasing offsets inside the segment's range),
   * rebuilds both indexes, and cuts the file at the first bad or incomplete batch.
   */
  async recover(logger?: Logger): Promise<RecoverResult> {
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.maxTs = -1;
    this.offsetOfMaxTs = -1;
    this.bytesSinceLastIndexEntry = 0;
    this.rollingBasedTimestamp = undefined;
    const fileSize = (await this.fh.stat()).size;
    let buf = Buffer.allocUnsafe(Math.min(RECOVERY_CHUNK, Math.max(fileSize, RECORD_BATCH_OVERHEAD)));
    let bufStart = 0;
    let bufLen = 0;
    let pos = 0;
    let prevLast = this.baseOffset - 1;
    let reason: string | null = null;
    while (pos < fileSize) {
      let off = pos - bufStart;
      let avail = bufLen - off;
      let why = checkBatch(buf, off, avail);
      if (why === 'TRUNCATED' && bufStart + bufLen < fileSize) {
        // Refill from pos, growing the buffer if one batch is larger than it.
        const need = avail >= LOG_OVERHEAD ? LOG_OVERHEAD + buf.readInt32BE(off + BATCH_LENGTH_OFFSET) : 0;
        if (need > buf.length) buf = Buffer.allocUnsafe(Math.min(need, fileSize - pos));
        bufStart = pos;
        bufLen = (await this.fh.read(buf, 0, Math.min(buf.length, fileSize - pos), pos)).bytesRead;
        off = 0;
        avail = bufLen;
        why = checkBatch(buf, off, avail);
      }
      if (why !== null) {
        reason = why === 'TRUNCATED' ? 'incomplete batch at end of file' : why;
        break;
      }
      const size = LOG_OVERHEAD + buf.readInt32BE(off + BATCH_LENGTH_OFFSET);
      const baseOffset = Number(buf.readBigInt64BE(off));
      const lastOffset = baseOffset + buf.readInt32BE(off + LAST_OFFSET_DELTA_OFFSET);
      if (baseOffset <= prevLast || lastOffset - this.baseOffset > INT32_MAX) {
        reason = `offset ${baseOffset} out of order or outside the segment`;
        break;
      }
      const maxTimestamp = Number(buf.readBigInt64BE(off + MAX_TIMESTAMP_OFFSET));
      if (pos === 0) this.rollingBasedTimestamp = maxTimestamp;
      this.indexBatch(pos, size, lastOffset, maxTimestamp);
      prevLast = lastOffset;
      pos += size;
    }
    const truncatedBytes = fileSize - pos;
    if (truncatedBytes > 0) {
      logger?.warn({ file: this.logPath, position: pos, offset: prevLast + 1, truncatedBytes, reason }, 'truncating invalid bytes at the end of a segment');
      await this.fh.truncate(pos);
    }
    this.size = pos;
    this.verifiedUpTo = pos;
    this.readHints.clear();
    this.nextOffsetCache = prevLast + 1;
    await Promise.all([this.offsetIndex.rewrite(), this.timeIndex.rewrite()]);
    return { truncatedBytes, reason };
  }

  /** Rebuilds the indexes of a segment whose data is trusted (clean shutdown, bad index file). */
  async rebuildIndexes(logger?: Logger): Promise<void> {
    logger?.warn({ file: this.offsetIndex.path }, 'index files missing or inconsistent; rebuilding from the log');
    await this.recover(logger);
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** Prepares the indexes for appends (preallocated, write-through). */
  async makeActive(): Promise<void> {
    this.loadMaxTimestamp();
    await Promise.all([this.offsetIndex.openForAppend(this.offsetIndex.maxEntries * 8), this.timeIndex.openForAppend(this.timeIndex.maxEntries * 12)]);
  }

  /** Seals: final time index entry, indexes trimmed to their entries. */
  async onBecomeInactive(): Promise<void> {
    if (this.maxTimestampSoFar >= 0) this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar, true);
    await Promise.all([this.offsetIndex.trimAndClose(), this.timeIndex.trimAndClose()]);
  }

  async flush(): Promise<void> {
    await Promise.all([this.fh.datasync(), this.offsetIndex.flush(), this.timeIndex.flush(), this.txnIndex.flush()]);
  }

  async close(): Promise<void> {
    await this.onBecomeInactive();
    await this.fh.close();
  }

  /** Renames all three files to carry `suffix` ('' restores the plain names). */
  async changeSuffix(suffix: string): Promise<void> {
    const paths = segmentFilePaths(this.dir, this.baseOffset, suffix);
    await fs.promises.rename(this.logPath, paths.log);
    this.logPath = paths.log;
    await this.offsetIndex.renameTo(paths.index);
    await this.timeIndex.renameTo(paths.timeIndex);
    await this.txnIndex.renameTo(path.join(this.dir, filenamePrefixFromOffset(this.baseOffset)) + TXN_INDEX_FILE_SUFFIX + suffix);
  }

  /** Closes every handle, leaving the files. */
  async closeFiles(): Promise<void> {
    await Promise.all([this.offsetIndex.closeHandle(), this.timeIndex.closeHandle()]);
    await this.fh.close().catch(() => undefined);
  }

  /** Closes the handle and removes the files. */
  async deleteFiles(): Promise<void> {
    await Promise.all([this.offsetIndex.closeHandle(), this.timeIndex.closeHandle()]);
    await this.fh.close().catch(() => undefined);
    await Promise.all([this.logPath, this.offsetIndex.path, this.timeIndex.path, this.txnIndex.path].map((p) => fs.promises.rm(p, { force: true })));
  }
}

const varintResult = { value: 0, next: 0 };
/** Reused by the synchronous record scans (one at a time: they never await). */
let recordScratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Zigzag varint/varlong at `pos` (below `end`), as a number; null if malformed. The result
 * object is shared (read it before the next call): this runs per record in ListOffsets scans.
 */
function readVarint(buf: Buffer, pos: number, end: number): { value: number; next: number } | null {
  let u = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return null;
    const b = buf[pos++]!;
    u += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      varintResult.value = u % 2 === 0 ? u / 2 : -(u + 1) / 2;
      varintResult.next = pos;
      return varintResult;
    }
    mul *= 128;
  }
  return null;
}

function skipBytes(chunks: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const c of chunks) {
    if (skip >= c.length) {
      skip -= c.length;
      continue;
    }
    out.push(skip > 0 ? c.subarray(skip) : c);
    skip = 0;
  }
  return out;
}
