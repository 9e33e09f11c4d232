// Log compaction (cleanup.policy=compact, or compact,delete), after Kafka's LogCleaner.
// One pass over a log:
// 1. Range: dirty = [firstDirtyOffset (cleaner-offset-checkpoint, clamped to the log), first
//    uncleanable offset) where the latter is the lowest of the active segment's base offset, the
//    last stable offset, and the base of the first segment younger than min.compaction.lag.ms.
//    The pass runs only when dirty bytes / (clean + dirty bytes) >= min.cleanable.dirty.ratio.
// 2. Offset map: the dirty range is scanned segment by segment; each keyed record puts
//    hash(key) → offset into a fixed-size open-addressing table (64-bit key hash + offset,
//    16 bytes a slot, sized from log.cleaner.dedupe.buffer.size at load factor 0.9), so memory
//    is bounded whatever the log. When the table fills, the pass ends at the last whole segment.
// 3. Rewrite: the segments from the start of the log up to that point, in groups that fit one
//    segment, are copied into `<base>.log.cleaned` keeping, per batch, only records whose key
//    maps to their own offset or to none (records before the dirty range), tombstones until
//    their delete horizon (KIP-534: set to now + delete.retention.ms in the batch when first
//    cleaned, then dropped by a pass after it), and no keyless records. A batch kept whole is
//    copied byte for byte; otherwise it is re-encoded with the same base offset, last offset
//    delta, producer fields and compression, so offsets and batch boundaries stay valid. A batch
//    left empty is dropped, unless it is the last batch of its idempotent producer, which stays
//    as an empty batch for producer state. Transactions (cleaner-transactions.ts): batches of
//    aborted transactions are removed (and kept out of the offset map); markers go once their
//    transaction's data is gone and delete.retention.ms has passed; the AbortedTxn entries of
//    aborted transactions with data left are written into the cleaned segment's `.txnindex`.
// 4. Swap: `.cleaned` → `.swap`, old segments → `.deleted`, `.swap` → final name (recovery finishes
//    an interrupted swap); then the cleaner checkpoint moves to the end of the cleaned range.
// Not done: max.compaction.lag.ms forcing a pass.
import { crc32c } from '@node-rs/crc32';
import type { Logger } from 'pino';
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CONTROL_MASK,
  CRC_OFFSET,
  CRC_START,
  DELETE_HORIZON_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
} from '../protocol/records/batch-header.ts';
import { decodeRecordBatch, encodeRecordBatch, type RecordInput } from '../protocol/records/record-batch.ts';
import { CleanedTransactionMetadata, stampDeleteHorizon } from './cleaner-transactions.ts';
import { StorageError } from './errors.ts';
import { collectAbortedTransactions } from './transaction-state.ts';
import { isCompacted } from './log-config.ts';
import type { Log } from './log.ts';
import { CLEANED_FILE_SUFFIX, LogSegment, type AppendedBatch } from './segment.ts';

const INT32_MAX = 2147483647;
const SLOT_BYTES = 16;
const LOAD_FACTOR = 0.9;
const READ_CHUNK = 1024 * 1024;

/** murmur3 (32-bit) of `key`, the second half of the 64-bit key hash (crc32c is the first). */
function murmur3(key: Buffer, seed: number): number {
  let h = seed >>> 0;
  const n = key.length;
  const blocks = n & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = n & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= key[blocks + 2]! << 16;
    if (tail >= 2) k ^= key[blocks + 1]! << 8;
    k ^= key[blocks]!;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Fixed-capacity map from a key's 64-bit hash to the latest offset seen for it (Kafka's
 * SkimpyOffsetMap). Two keys with the same 64-bit hash count as one, as Kafka accepts for MD5.
 */
export class OffsetMap {
  private readonly hashes: Uint32Array; // two words per slot; (0, 0) marks an empty slot
  private readonly offsets: Float64Array;
  readonly slots: number;
  readonly maxEntries: number;
  size = 0;

  constructor(memoryBytes: number) {
    this.slots = Math.max(16, Math.floor(memoryBytes / SLOT_BYTES));
    this.maxEntries = Math.floor(this.slots * LOAD_FACTOR);
    this.hashes = new Uint32Array(this.slots * 2);
    this.offsets = new Float64Array(this.slots);
  }

  get isFull(): boolean {
    return this.size >= this.maxEntries;
  }

  clear(): void {
    this.hashes.fill(0);
    this.size = 0;
  }

  put(key: Buffer, offset: number): void {
    const slot = this.findSlot(key, true);
    if (this.offsets[slot] === -1) this.size++;
    if (!(this.offsets[slot]! > offset)) this.offsets[slot] = offset;
  }

  /** Latest offset recorded for `key`, or -1. */
  get(key: Buffer): number {
    const slot = this.findSlot(key, false);
    return slot < 0 ? -1 : this.offsets[slot]!;
  }

  private findSlot(key: Buffer, insert: boolean): number {
    const h1 = crc32c(key) >>> 0;
    let h2 = murmur3(key, 0x9747b28c);
    if (h1 === 0 && h2 === 0) h2 = 1;
    let slot = ((h1 ^ Math.imul(h2, 0x9e3779b1)) >>> 0) % this.slots;
    for (let probes = 0; probes < this.slots; probes++) {
      const a = this.hashes[slot * 2]!;
      const b = this.hashes[slot * 2 + 1]!;
      if (a === h1 && b === h2) return slot;
      if (a === 0 && b === 0) {
        if (!insert) return -1;
        this.hashes[slot * 2] = h1;
        this.hashes[slot * 2 + 1] = h2;
        this.offsets[slot] = -1;
        return slot;
      }
      slot = slot + 1 === this.slots ? 0 : slot + 1;
    }
    if (insert) throw new Error('offset map is full');
    return -1;
  }
}

export interface CleanerOptions {
  /** `log.cleaner.dedupe.buffer.size` (134217728) divided among `log.cleaner.threads` (1). */
  dedupeBufferSize?: number;
  logger: Logger;
  now: () => number;
}

export interface CleanResult {
  cleaned: boolean;
  /** New cleaner checkpoint (first dirty offset for the next pass). */
  endOffset: number;
  segmentsBefore: number;
  segmentsAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsRemoved: number;
  dirtyRatio: number;
}

interface RawBatch {
  position: number;
  buf: Buffer; // the whole batch
  baseOffset: number;
  lastOffset: number;
  attributes: number;
  producerId: number;
}

/** Batches of a segment in order, read in large chunks. */
async function* segmentBatches(seg: LogSegment): AsyncGenerator<RawBatch> {
  let pos = 0;
  const size = seg.size;
  while (pos < size) {
    let chunk = await seg.readRaw(pos, Math.min(READ_CHUNK, size - pos));
    let off = 0;
    while (off + RECORD_BATCH_OVERHEAD <= chunk.length) {
      const batchSize = LOG_OVERHEAD + chunk.readInt32BE(off + BATCH_LENGTH_OFFSET);
      if (batchSize < RECORD_BATCH_OVERHEAD) throw new StorageError('CORRUPT_MESSAGE', `bad batch length in ${seg.path} at ${pos + off}`);
      if (off + batchSize > chunk.length) {
        if (off === 0) chunk = await seg.readRaw(pos, batchSize);
        else break;
        if (chunk.length < batchSize) throw new StorageError('CORRUPT_MESSAGE', `batch cut by end of ${seg.path} at ${pos}`);
      }
      const buf = chunk.subarray(off, off + batchSize);
      const baseOffset = Number(buf.readBigInt64BE(0));
      yield {
        position: pos + off,
        buf,
        baseOffset,
        lastOffset: baseOffset + buf.readInt32BE(LAST_OFFSET_DELTA_OFFSET),
        attributes: buf.readInt16BE(ATTRIBUTES_OFFSET),
        producerId: Number(buf.readBigInt64BE(PRODUCER_ID_OFFSET)),
      };
      off += batchSize;
    }
    if (off === 0 && chunk.length < RECORD_BATCH_OVERHEAD) throw new StorageError('CORRUPT_MESSAGE', `batch header cut by end of ${seg.path} at ${pos}`);
    pos += off;
  }
}

export class LogCleaner {
  private map: OffsetMap | null = null;
  private readonly memory: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  /** Earliest pending delete horizon per log: a pass after it removes tombstones. */
  private readonly horizons = new WeakMap<Log, number>();

  constructor(opts: CleanerOptions) {
    this.memory = opts.dedupeBufferSize ?? 128 * 1024 * 1024;
    this.logger = opts.logger;
    this.now = opts.now;
  }

  private offsetMap(): OffsetMap {
    if (this.map === null) this.map = new OffsetMap(this.memory);
    else this.map.clear();
    return this.map;
  }

  /** True when tombstones of `log` passed their delete horizon and a pass would remove them. */
  tombstonesExpired(log: Log): boolean {
    const h = this.horizons.get(log);
    return h !== undefined && this.now() >= h;
  }

  private noteHorizon(log: Log, horizon: number): void {
    const h = this.horizons.get(log);
    if (h === undefined || horizon < h) this.horizons.set(log, horizon);
  }

  /** Dirty range and ratio of a compacted log; null when there is nothing cleanable. */
  cleanableRange(log: Log, checkpoint: number | undefined): { firstDirty: number; firstUncleanable: number; dirtyRatio: number; cleanBytes: number; dirtyBytes: number } | null {
    if (!isCompacted(log.config)) return null;
    const segments = log.logSegments();
    let firstDirty = checkpoint ?? log.logStartOffset;
    if (firstDirty < log.logStartOffset || firstDirty > log.logEndOffset) firstDirty = log.logStartOffset;
    let firstUncleanable = Math.min(log.activeSegment.baseOffset, log.lastStableOffset);
    const lag = log.config.minCompactionLagMs;
    if (lag > 0) {
      const now = this.now();
      for (const seg of segments) {
        if (seg.baseOffset >= firstUncleanable) break;
        if (seg.largestTimestamp > now - lag) {
          firstUncleanable = seg.baseOffset;
          break;
        }
      }
    }
    let cleanBytes = 0;
    let dirtyBytes = 0;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      const next = segments[i + 1]?.baseOffset ?? Number.MAX_SAFE_INTEGER;
      if (next <= firstDirty) cleanBytes += seg.size;
      else if (seg.baseOffset < firstUncleanable && next <= firstUncleanable) dirtyBytes += seg.size;
    }
    if (cleanBytes + dirtyBytes === 0) return null;
    return { firstDirty, firstUncleanable, dirtyRatio: dirtyBytes / (cleanBytes + dirtyBytes), cleanBytes, dirtyBytes };
  }

  /**
   * One compaction pass over `log` if its dirty ratio reaches min.cleanable.dirty.ratio (or
   * `force`). `checkpoint` is the log's cleaner-offset-checkpoint entry.
   */
  async clean(log: Log, checkpoint: number | undefined, force = false): Promise<CleanResult> {
    const range = this.cleanableRange(log, checkpoint);
    const segmentsBefore = log.logSegments().length;
    const none: CleanResult = {
      cleaned: false,
      endOffset: checkpoint ?? log.logStartOffset,
      segmentsBefore,
      segmentsAfter: segmentsBefore,
      bytesBefore: log.size,
      bytesAfter: log.size,
      recordsRemoved: 0,
      dirtyRatio: range?.dirtyRatio ?? 0,
    };
    if (range === null || (!force && range.dirtyRatio < log.config.minCleanableDirtyRatio)) return none;
    const truncationCount = log.truncationCount;
    const segments = log.logSegments();
    const map = this.offsetMap();

    // Offset map over the dirty range, whole segments only; aborted data stays out of it.
    const mapTxns = new CleanedTransactionMetadata(collectAbortedTransactions(segments, range.firstDirty, range.firstUncleanable));
    let endOffset = range.firstDirty;
    for (let i = 0; i < segments.length - 1; i++) {
      const seg = segments[i]!;
      const next = segments[i + 1]!.baseOffset;
      if (next <= range.firstDirty) continue;
      if (next > range.firstUncleanable) break;
      let full = false;
      for await (const b of segmentBatches(seg)) {
        if (b.lastOffset < range.firstDirty) continue;
        const pid = b.buf.readBigInt64BE(PRODUCER_ID_OFFSET);
        if ((b.attributes & CONTROL_MASK) !== 0) {
          mapTxns.onControlBatchRead(b.buf, 0, pid, b.attributes, b.lastOffset);
          continue;
        }
        if (mapTxns.onBatchRead(pid, b.attributes, b.lastOffset)) continue;
        const decoded = decodeRecordBatch(b.buf);
        if (map.size + decoded.records.length > map.maxEntries) {
          full = true;
          break;
        }
        for (const r of decoded.records) if (r.key !== null) map.put(r.key, b.baseOffset + r.offsetDelta);
      }
      if (full) break;
      endOffset = next;
    }
    if (endOffset <= range.firstDirty && range.dirtyBytes > 0) {
      this.logger.warn({ topic: log.topic, partition: log.partition, entries: map.maxEntries }, 'log.cleaner.dedupe.buffer.size too small for one segment; not cleaning');
      return none;
    }

    // Last batch of each idempotent producer in the log, kept even when emptied.
    const lastBatchOfProducer = new Map<number, number>();
    for (const seg of segments) {
      for await (const b of segmentBatches(seg)) if (b.producerId >= 0) lastBatchOfProducer.set(b.producerId, b.lastOffset);
    }

    // Groups of consecutive segments below endOffset that fit in one segment.
    const toClean = segments.filter((s, i) => i < segments.length - 1 && segments[i + 1]!.baseOffset <= endOffset);
    const groups: LogSegment[][] = [];
    let current: LogSegment[] = [];
    let currentSize = 0;
    for (let i = 0; i < toClean.length; i++) {
      const seg = toClean[i]!;
      const nextBase = segments[segments.indexOf(seg) + 1]!.baseOffset;
      if (current.length > 0 && (currentSize + seg.size > log.config.segmentBytes || nextBase - 1 - current[0]!.baseOffset > INT32_MAX)) {
        groups.push(current);
        current = [];
        currentSize = 0;
      }
      current.push(seg);
      currentSize += seg.size;
    }
    if (current.length > 0) groups.push(current);

    const now = this.now();
    this.horizons.delete(log);
    let recordsRemoved = 0;
    const txns = new CleanedTransactionMetadata(toClean.length > 0 ? collectAbortedTransactions(segments, toClean[0]!.baseOffset, endOffset) : []);
    for (const group of groups) {
      const cleaned = await LogSegment.create(log.dir, group[0]!.baseOffset, log.config, now, 0, CLEANED_FILE_SUFFIX);
      txns.cleanedIndex = cleaned.txnIndex;
      try {
        for (const seg of group) {
          const chunks: Buffer[] = [];
          const metas: AppendedBatch[] = [];
          let pending = 0;
          for await (const b of segmentBatches(seg)) {
            const out = this.filterBatch(b, map, log, now, lastBatchOfProducer, txns);
            recordsRemoved += out.removed;
            if (out.buf === null) continue;
            chunks.push(out.buf);
            metas.push({ size: out.buf.length, lastOffset: b.lastOffset, maxTimestamp: Number(out.buf.readBigInt64BE(MAX_TIMESTAMP_OFFSET)) });
            pending += out.buf.length;
            if (pending >= READ_CHUNK) {
              await cleaned.append(chunks.splice(0), metas.splice(0));
              pending = 0;
            }
          }
          if (chunks.length > 0) await cleaned.append(chunks, metas);
        }
        await cleaned.onBecomeInactive();
        await cleaned.flush();
        await log.replaceSegments(cleaned, group, truncationCount);
      } catch (err) {
        await cleaned.deleteFiles().catch(() => undefined);
        if (err instanceof StorageError && (err.code === 'CLEANING_ABORTED' || err.code === 'LOG_CLOSED')) {
          this.logger.info({ topic: log.topic, partition: log.partition }, 'log changed during cleaning; pass abandoned');
          return { ...none, endOffset: checkpoint ?? log.logStartOffset };
        }
        throw err;
      }
    }
    const result: CleanResult = {
      cleaned: true,
      endOffset,
      segmentsBefore,
      segmentsAfter: log.logSegments().length,
      bytesBefore: none.bytesBefore,
      bytesAfter: log.size,
      recordsRemoved,
      dirtyRatio: range.dirtyRatio,
    };
    this.logger.info({ topic: log.topic, partition: log.partition, ...result }, 'cleaned log');
    return result;
  }

  /** The batch as it goes into the cleaned segment (null: dropped) and records removed. */
  private filterBatch(b: RawBatch, map: OffsetMap, log: Log, now: number, lastBatchOfProducer: Map<number, number>, txns: CleanedTransactionMetadata): { buf: Buffer | null; removed: number } {
    const pid = b.buf.readBigInt64BE(PRODUCER_ID_OFFSET);
    const isLastOfProducer = b.producerId >= 0 && lastBatchOfProducer.get(b.producerId) === b.lastOffset;
    if ((b.attributes & CONTROL_MASK) !== 0) {
      const discardable = txns.onControlBatchRead(b.buf, 0, pid, b.attributes, b.lastOffset);
      if (!discardable || isLastOfProducer) return { buf: b.buf, removed: 0 };
      if ((b.attributes & DELETE_HORIZON_MASK) === 0) {
        const horizon = now + log.config.deleteRetentionMs;
        this.noteHorizon(log, horizon);
        return { buf: stampDeleteHorizon(b.buf, horizon), removed: 0 };
      }
      const horizon = Number(b.buf.readBigInt64BE(BASE_TIMESTAMP_OFFSET));
      if (now >= horizon) return { buf: null, removed: 1 };
      this.noteHorizon(log, horizon);
      return { buf: b.buf, removed: 0 };
    }
    const abortedData = txns.onBatchRead(pid, b.attributes, b.lastOffset);
    const decoded = decodeRecordBatch(b.buf);
    const h = decoded.header;
    const hasHorizon = (b.attributes & DELETE_HORIZON_MASK) !== 0;
    const horizon = hasHorizon ? Number(h.baseTimestamp) : -1;
    const kept: RecordInput[] = [];
    let tombstones = 0;
    for (const r of decoded.records) {
      if (abortedData || r.key === null) continue;
      const offset = b.baseOffset + r.offsetDelta;
      const latest = map.get(r.key);
      if (latest > offset) continue;
      if (r.value === null) {
        if (hasHorizon && now >= horizon) continue;
        tombstones++;
        this.noteHorizon(log, hasHorizon ? horizon : now + log.config.deleteRetentionMs);
      }
      kept.push(r);
    }
    const removed = decoded.records.length - kept.length;
    if (removed === 0 && (tombstones === 0 || hasHorizon)) return { buf: b.buf, removed: 0 };
    if (kept.length === 0 && !isLastOfProducer) return { buf: null, removed };
    // Re-encode with the same frame; record timestamps are kept absolute.
    const setHorizon = !hasHorizon && tombstones > 0;
    const baseTimestamp = setHorizon ? BigInt(now + log.config.deleteRetentionMs) : h.baseTimestamp;
    const shift = Number(h.baseTimestamp - baseTimestamp);
    const records = kept.map((r) => ({ ...r, timestampDelta: r.timestampDelta + shift }));
    const buf = encodeRecordBatch({
      baseOffset: h.baseOffset,
      partitionLeaderEpoch: h.partitionLeaderEpoch,
      compression: h.compression,
      timestampType: h.timestampType,
      isTransactional: h.isTransactional,
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: h.baseSequence,
      baseTimestamp,
      // CreateTime: the encoder takes the max over the kept records; LogAppendTime keeps the batch's.
      maxTimestamp: h.timestampType === 1 || records.length === 0 ? h.maxTimestamp : undefined,
      lastOffsetDelta: h.lastOffsetDelta,
      records,
    });
    if (setHorizon || hasHorizon) {
      buf.writeInt16BE(buf.readInt16BE(ATTRIBUTES_OFFSET) | DELETE_HORIZON_MASK, ATTRIBUTES_OFFSET);
      buf.writeUInt32BE(crc32c(buf.subarray(CRC_START)) >>> 0, CRC_OFFSET);
    }
    return { buf, removed };
  }
}
