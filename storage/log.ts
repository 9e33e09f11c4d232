// The log of one partition: an ordered list of segments in `<log.dir>/<topic>-<partition>/`, the
// last one active. Invariants:
// - Every mutation (append, truncate, roll, segment deletion or swap, close) runs through one
//   in-order queue, so appends are asynchronous but ordered; consecutive appends are written
//   together (one positional writev per segment) and each resolves only after its bytes are in
//   the file (not necessarily fsynced: flush policy decides that).
// - logEndOffset moves only after a write completes; reads never see unwritten bytes.
// - logStartOffset <= highWatermark <= logEndOffset; lastStableOffset <= highWatermark. The
//   high watermark and last stable offset are set by the caller (replication, transactions).
// - Offsets and timestamps are JS numbers (exact up to 2^53).
// - Append takes already validated magic-2 batch bytes. With assignOffsets (leader) the buffer is
//   modified in place: baseOffset, partitionLeaderEpoch, and for LogAppendTime the timestamp type,
//   maxTimestamp and CRC. Without it (follower) offsets are kept and must not go backwards.
import * as fs from 'node:fs';
import type { Logger } from 'pino';
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  RECORD_BATCH_OVERHEAD,
  TIMESTAMP_TYPE_MASK,
  CRC_OFFSET,
  CRC_START,
} from '../protocol/records/batch-header.ts';
import { crc32c } from '@node-rs/crc32';
import { type Scheduler, SystemScheduler, type TimerHandle } from '../protocol/scheduler.ts';
import { OffsetOutOfRangeError, StorageError } from './errors.ts';
import { LeaderEpochCache } from './leader-epoch-cache.ts';
import type { LogConfig } from './log-config.ts';
import { prepareSegmentFiles } from './recovery.ts';
import { DELETED_FILE_SUFFIX, LogSegment, type AppendedBatch, type BatchPosition } from './segment.ts';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** ListOffsets special timestamps. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;
export const EARLIEST_LOCAL_TIMESTAMP = -4;

export interface LogOptions {
  /** The partition directory `<log.dir>/<topic>-<partition>`. */
  dir: string;
  topic: string;
  partition: number;
  config: LogConfig;
  logger: Logger;
  clock?: Clock;
  /** Offsets below this are known to be fsynced (recovery-point-offset-checkpoint). */
  recoveryPoint?: number;
  logStartOffset?: number;
  highWatermark?: number;
  /** The log dir held `.kafka_cleanshutdown`: no scan needed. */
  hadCleanShutdown?: boolean;
  /** Verify CRCs of batches served by read() (default true). */
  verifyCrcOnRead?: boolean;
  /** Picks segment.jitter.ms for each new segment; default uniform in [0, jitter). */
  random?: () => number;
  /** The containment seam for this log's timers (delayed file deletion); wall clock when absent. */
  scheduler?: Scheduler;
  /** Told once when the log goes offline after an I/O error (the log manager marks its dir offline). */
  onOffline?: (err: StorageError) => void;
}

export interface AppendOptions {
  /** Leader path: rewrite baseOffset of each batch; follower path: keep offsets. */
  assignOffsets: boolean;
  /** Leader path: stamp this partitionLeaderEpoch into each batch. */
  leaderEpoch?: number;
}

export interface AppendResult {
  firstOffset: number;
  lastOffset: number;
  /** Max batch timestamp of the append and the last offset of the batch holding it. */
  maxTimestamp: number;
  offsetOfMaxTimestamp: number;
  /** The broker time stamped into the batches for LogAppendTime topics, else -1. */
  logAppendTime: number;
  logStartOffset: number;
  numBatches: number;
  validBytes: number;
}

export interface ReadOptions {
  /** Only batches whose last offset is below this (e.g. high watermark) are returned. */
  maxOffset?: number;
  /** Return the first batch even if it is larger than maxBytes. */
  minOneMessage?: boolean;
}

export interface ReadResult {
  /** Whole batches starting with the batch that contains the requested offset. */
  records: Buffer;
  /** Base offset of the first batch returned, -1 when empty. */
  firstOffset: number;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  lastStableOffset: number;
}

export interface TimestampAndOffset {
  timestamp: number;
  offset: number;
  leaderEpoch: number;
}

interface PendingAppend {
  buf: Buffer;
  opts: AppendOptions;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

interface PendingTask {
  run: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type Op = { kind: 'append'; append: PendingAppend } | { kind: 'task'; task: PendingTask };

interface PreparedAppend {
  item: PendingAppend;
  batches: (AppendedBatch & { baseOffset: number; epoch: number })[];
  size: number;
  result: AppendResult;
}

const INT32_MAX = 2147483647;
const MAX_GROUP_BYTES = 1024 * 1024;

export class Log {
  readonly dir: string;
  readonly topic: string;
  readonly partition: number;
  config: LogConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly leaderEpochCache: LeaderEpochCache;
  private segments: LogSegment[];
  private leo: number;
  private nextOffsetPending: number;
  private lso: number;
  private hw: number;
  /** First offset of an open transaction (set by the transaction layer); null: none. */
  private firstUnstable: number | null = null;
  private rp: number;
  private lastFlushed: number;
  private queue: Op[] = [];
  private draining = false;
  /** A drain is queued for the event loop's check phase (see queueDrain). */
  private drainQueued = false;
  private closed = false;
  private failure: StorageError | null = null;
  private truncations = 0;
  private readonly verifyCrcOnRead: boolean;
  private readonly random: () => number;
  private readonly deletionTimers = new Set<TimerHandle>();
  private readonly scheduler: Scheduler;
  private readonly onOffline: ((err: StorageError) => void) | undefined;
  private readonly pendingDeletions = new Set<LogSegment>();

  private constructor(opts: LogOptions, segments: LogSegment[], cache: LeaderEpochCache) {
    this.dir = opts.dir;
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.config = opts.config;
    this.logger = opts.logger;
    this.clock = opts.clock ?? systemClock;
    this.verifyCrcOnRead = opts.verifyCrcOnRead ?? true;
    this.random = opts.random ?? Math.random;
    this.scheduler = opts.scheduler ?? new SystemScheduler({ logger: opts.logger });
    this.onOffline = opts.onOffline;
    this.segments = segments;
    this.leaderEpochCache = cache;
    this.leo = segments.at(-1)!.nextOffset();
    this.nextOffsetPending = this.leo;
    this.lso = Math.min(Math.max(opts.logStartOffset ?? 0, segments[0]!.baseOffset), this.leo);
    this.hw = Math.min(Math.max(opts.highWatermark ?? this.lso, this.lso), this.leo);
    this.rp = Math.min(opts.recoveryPoint ?? 0, this.leo);
    this.lastFlushed = this.clock.now();
  }

  /** Opens (creating if needed) and recovers the log in `opts.dir`. */
  static async open(opts: LogOptions): Promise<Log> {
    const clock = opts.clock ?? systemClock;
    const logger = opts.logger;
    await fs.promises.mkdir(opts.dir, { recursive: true });
    const now = clock.now();
    const bases = await prepareSegmentFiles(opts.dir, opts.config, now, logger);
    const segments: LogSegment[] = [];
    for (const base of bases) segments.push(await LogSegment.open(opts.dir, base, opts.config, now, jitter(opts)));
    const recoveryPoint = opts.recoveryPoint ?? 0;
    if (!opts.hadCleanShutdown && segments.length > 0) {
      // Scan every segment that may hold unflushed data: the one containing the recovery point on.
      let from = 0;
      for (let i = 0; i < segments.length; i++) if (segments[i]!.baseOffset <= recoveryPoint) from = i;
      for (let i = from; i < segments.length; i++) {
        const seg = segments[i]!;
        const res = await seg.recover(logger);
        if (res.truncatedBytes > 0 && i < segments.length - 1) {
          // Everything after a damaged segment is unreliable: drop it, as Kafka does.
          const dropped = segments.splice(i + 1);
          for (const d of dropped) {
            logger.warn({ file: d.path }, 'deleting segment after a truncated one');
            await d.deleteFiles();
          }
          break;
        }
      }
    }
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      if (!seg.indexesLookValid()) await seg.rebuildIndexes(logger);
      if (i < segments.length - 1) {
        seg.offsetIndex.unload();
        seg.timeIndex.unload();
      }
    }
    // Empty non-active segments (e.g. left by truncation) carry no data; keep them: harmless.
    if (segments.length === 0) {
      const start = opts.logStartOffset ?? 0;
      segments.push(await LogSegment.create(opts.dir, start, opts.config, now, jitter(opts)));
    }
    await segments.at(-1)!.makeActive();
    const cache = await LeaderEpochCache.load(opts.dir);
    const log = new Log({ ...opts, clock }, segments, cache);
    cache.truncateFromEnd(log.leo);
    cache.truncateFromStart(log.lso);
    logger.debug({ logStartOffset: log.lso, logEndOffset: log.leo, segments: segments.length }, 'log loaded');
    return log;
  }

  // ---- state ----------------------------------------------------------------------------

  get logEndOffset(): number {
    return this.leo;
  }

  get logStartOffset(): number {
    return this.lso;
  }

  get highWatermark(): number {
    return this.hw;
  }

  /** Kafka's LSO: the first unstable (open transaction) offset, capped by the high watermark. */
  get lastStableOffset(): number {
    const fu = this.firstUnstable;
    return fu === null ? this.hw : Math.max(this.lso, Math.min(fu, this.hw));
  }

  get recoveryPoint(): number {
    return this.rp;
  }

  get activeSegment(): LogSegment {
    return this.segments.at(-1)!;
  }

  /** The segments, oldest first (a snapshot). */
  logSegments(): readonly LogSegment[] {
    return [...this.segments];
  }

  get size(): number {
    let s = 0;
    for (const seg of this.segments) s += seg.size;
    return s;
  }

  /** Changes on every truncation; the cleaner refuses to swap in segments read before one. */
  get truncationCount(): number {
    return this.truncations;
  }

  get isOffline(): boolean {
    return this.failure !== null;
  }

  /** Sets the high watermark, clamped to [logStartOffset, logEndOffset]; returns the value set. */
  updateHighWatermark(offset: number): number {
    this.hw = Math.min(Math.max(offset, this.lso), this.leo);
    return this.hw;
  }

  /** Sets the first offset of the earliest open transaction (null when none is open). */
  updateFirstUnstableOffset(offset: number | null): void {
    this.firstUnstable = offset;
  }

  /** Sets the last stable offset; a value at or above the high watermark means none unstable. */
  updateLastStableOffset(offset: number): void {
    this.firstUnstable = offset >= this.hw ? null : Math.max(offset, this.lso);
  }

  // ---- write queue -----------------------------------------------------------------------

  private enqueue<T>(run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closed) return reject(new StorageError('LOG_CLOSED', `log ${this.name} is closed`));
      this.queue.push({ kind: 'task', task: { run, resolve: resolve as (v: unknown) => void, reject } });
      void this.drain();
    });
  }

  private get name(): string {
    return `${this.topic}-${this.partition}`;
  }

  /**
   * Appends whole magic-2 batches. Resolves once the bytes are written to the segment file.
   * See the module comment for what the leader path rewrites in `batches`.
   */
  append(batches: Buffer, opts: AppendOptions): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      if (this.closed) return reject(new StorageError('LOG_CLOSED', `log ${this.name} is closed`));
      if (this.failure !== null) return reject(this.failure);
      this.queue.push({ kind: 'append', append: { buf: batches, opts, resolve, reject } });
      this.queueDrain();
    });
  }

  /**
   * Appends start their write once the event loop has read what it could in this turn (the
   * check phase, setImmediate), so this log's appends from every request read in one turn share
   * one write and one thread-pool round trip instead of one each (with the connection's one
   * socket write per I/O callback, 40% fewer system calls per GB produced on loopback). Each
   * append is queued at once, so order is kept; a task (close, truncation) drains at once and
   * writes the appends queued before it first.
   */
  private queueDrain(): void {
    if (this.drainQueued || this.draining) return;
    this.drainQueued = true;
    setImmediate(this.queuedDrain);
  }

  private readonly queuedDrain = (): void => {
    this.drainQueued = false;
    this.scheduler.run({ unit: 'partition', context: { topic: this.topic, partition: this.partition } }, () => this.drain());
  };

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        if (head.kind === 'task') {
          this.queue.shift();
          try {
            head.task.resolve(await head.task.run());
          } catch (err) {
            head.task.reject(err);
          }
          continue;
        }
        const appends: PendingAppend[] = [];
        while (this.queue[0]?.kind === 'append') appends.push((this.queue.shift() as { append: PendingAppend }).append);
        await this.writeAppends(appends);
      }
    } finally {
      this.draining = false;
    }
  }

  private prepare(item: PendingAppend): PreparedAppend {
    const buf = item.buf;
    const assign = item.opts.assignOffsets;
    const logAppendTime = assign && this.config.messageTimestampType === 'LogAppendTime' ? this.clock.now() : -1;
    const batches: PreparedAppend['batches'] = [];
    let pos = 0;
    let next = this.nextOffsetPending;
    let maxTimestamp = -1;
    let offsetOfMaxTimestamp = -1;
    while (pos < buf.length) {
      if (buf.length - pos < RECORD_BATCH_OVERHEAD) throw new StorageError('INVALID_RECORD', `trailing ${buf.length - pos} bytes are not a batch`);
      const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
      const size = LOG_OVERHEAD + batchLength;
      if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD || pos + size > buf.length) throw new StorageError('INVALID_RECORD', `batch length ${batchLength} at ${pos} does not fit`);
      if (buf.readInt8(pos + MAGIC_OFFSET) !== 2) throw new StorageError('INVALID_RECORD', 'only magic 2 batches are stored');
      if (size > this.config.segmentBytes) throw new StorageError('RECORD_BATCH_TOO_LARGE', `batch of ${size} bytes exceeds segment.bytes ${this.config.segmentBytes}`);
      const delta = buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
      if (delta < 0) throw new StorageError('INVALID_RECORD', 'negative lastOffsetDelta');
      let baseOffset: number;
      if (assign) {
        baseOffset = next;
        buf.writeBigInt64BE(BigInt(baseOffset), pos);
        if (item.opts.leaderEpoch !== undefined) buf.writeInt32BE(item.opts.leaderEpoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
        if (logAppendTime >= 0) {
          buf.writeInt16BE(buf.readInt16BE(pos + ATTRIBUTES_OFFSET) | TIMESTAMP_TYPE_MASK, pos + ATTRIBUTES_OFFSET);
          buf.writeBigInt64BE(BigInt(logAppendTime), pos + MAX_TIMESTAMP_OFFSET);
          buf.writeUInt32BE(crc32c(buf.subarray(pos + CRC_START, pos + size)) >>> 0, pos + CRC_OFFSET);
        }
      } else {
        baseOffset = Number(buf.readBigInt64BE(pos));
        if (baseOffset < next) {
          throw new StorageError('UNEXPECTED_APPEND_OFFSET', `batch at offset ${baseOffset} is below the next expected offset ${next}`);
        }
      }
      const lastOffset = baseOffset + delta;
      const ts = Number(buf.readBigInt64BE(pos + MAX_TIMESTAMP_OFFSET));
      if (ts > maxTimestamp || offsetOfMaxTimestamp < 0) {
        maxTimestamp = ts;
        offsetOfMaxTimestamp = lastOffset;
      }
      batches.push({ size, lastOffset, maxTimestamp: ts, baseOffset, epoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET) });
      next = lastOffset + 1;
      pos += size;
    }
    if (batches.length === 0) throw new StorageError('INVALID_RECORD', 'empty append');
    this.nextOffsetPending = next;
    return {
      item,
      batches,
      size: buf.length,
      result: {
        firstOffset: batches[0]!.baseOffset,
        lastOffset: next - 1,
        maxTimestamp,
        offsetOfMaxTimestamp,
        logAppendTime,
        logStartOffset: this.lso,
        numBatches: batches.length,
        validBytes: buf.length,
      },
    };
  }

  private async writeAppends(items: PendingAppend[]): Promise<void> {
    let group: PreparedAppend[] = [];
    let groupBytes = 0;
    let groupBatches = 0;
    const flushGroup = async (): Promise<void> => {
      if (group.length === 0) return;
      const g = group;
      group = [];
      groupBytes = 0;
      groupBatches = 0;
      await this.writeGroup(g);
    };
    for (const item of items) {
      if (this.failure !== null) {
        item.reject(this.failure);
        continue;
      }
      let p: PreparedAppend;
      try {
        p = this.prepare(item);
      } catch (err) {
        item.reject(err);
        continue;
      }
      const seg = this.activeSegment;
      const pendingFirstTs = group[0]?.result.maxTimestamp;
      const roll = this.shouldRoll(seg, p, groupBytes, groupBatches, pendingFirstTs);
      if (roll) {
        await flushGroup();
        if (this.failure !== null) {
          item.reject(this.failure);
          continue;
        }
        try {
          await this.rollTo(Math.max(p.result.firstOffset, this.leo));
        } catch (err) {
          this.fail(err);
          item.reject(this.failure);
          continue;
        }
      }
      group.push(p);
      groupBytes += p.size;
      groupBatches += p.batches.length;
      // Bounded writes: very large writev calls gain nothing and delay every append in them.
      if (groupBytes >= MAX_GROUP_BYTES) await flushGroup();
    }
    await flushGroup();
  }

  private shouldRoll(seg: LogSegment, p: PreparedAppend, pendingBytes: number, pendingBatches: number, pendingFirstTs: number | undefined): boolean {
    if (pendingBytes === 0) {
      return seg.shouldRoll({
        maxSegmentBytes: this.config.segmentBytes,
        maxSegmentMs: this.config.segmentMs,
        messagesSize: p.size,
        maxTimestampInMessages: p.result.maxTimestamp,
        maxOffsetInMessages: p.result.lastOffset,
        now: this.clock.now(),
      });
    }
    // Appends already grouped for this segment count as written.
    const size = seg.size + pendingBytes;
    if (size > this.config.segmentBytes - p.size) return true;
    if (seg.offsetIndex.entries + pendingBatches + p.batches.length >= seg.offsetIndex.maxEntries) return true;
    if (seg.timeIndex.entries + pendingBatches + p.batches.length >= seg.timeIndex.maxEntries) return true;
    if (p.result.lastOffset - seg.baseOffset > INT32_MAX) return true;
    const rollTs = seg.size > 0 ? undefined : pendingFirstTs;
    if (rollTs !== undefined && rollTs >= 0) return p.result.maxTimestamp - rollTs > this.config.segmentMs - seg.rollJitterMs;
    return seg.shouldRoll({
      maxSegmentBytes: Number.MAX_SAFE_INTEGER,
      maxSegmentMs: this.config.segmentMs,
      messagesSize: 0,
      maxTimestampInMessages: p.result.maxTimestamp,
      maxOffsetInMessages: p.result.lastOffset,
      now: this.clock.now(),
    });
  }

  private async writeGroup(group: PreparedAppend[]): Promise<void> {
    const seg = this.activeSegment;
    const chunks: Buffer[] = [];
    const batches: AppendedBatch[] = [];
    for (const p of group) {
      chunks.push(p.item.buf);
      for (const b of p.batches) batches.push(b);
    }
    try {
      await seg.append(chunks, batches);
    } catch (err) {
      this.fail(err);
      for (const p of group) p.item.reject(this.failure);
      return;
    }
    this.leo = group.at(-1)!.result.lastOffset + 1;
    for (const p of group) for (const b of p.batches) if (b.epoch >= 0) this.leaderEpochCache.assign(b.epoch, b.baseOffset);
    // flush.messages: as Kafka, the append completes after the fsync it triggers.
    if (this.leo - this.rp >= this.config.flushMessages) {
      try {
        await this.flush();
      } catch (err) {
        this.fail(err);
        for (const p of group) p.item.reject(this.failure);
        return;
      }
    }
    for (const p of group) {
      p.result.logStartOffset = this.lso;
      p.item.resolve(p.result);
    }
  }

  private fail(err: unknown): void {
    if (this.failure !== null) return;
    this.failure = err instanceof StorageError ? err : new StorageError('KAFKA_STORAGE_ERROR', `I/O error on log ${this.name}: ${(err as Error).message}`, { cause: err });
    this.nextOffsetPending = this.leo;
    // Only a failure of the file system concerns the directory (and may stop the node); any
    // other failure while appending leaves this log alone offline, its state being unsure.
    const io = typeof (err as NodeJS.ErrnoException)?.syscall === 'string';
    this.logger.error({ err }, io ? 'log is offline after an I/O error' : 'log is offline after an unexpected failure while appending');
    if (io) this.onOffline?.(this.failure);
  }

  private async rollTo(newBase: number): Promise<LogSegment> {
    const old = this.activeSegment;
    if (old.size === 0 && old.baseOffset === newBase) return old;
    if (old.size === 0 && this.segments.length > 0) {
      // An empty active segment at another offset is replaced rather than kept empty.
      this.segments.pop();
      await old.deleteFiles();
    } else {
      await old.onBecomeInactive();
    }
    const seg = await LogSegment.create(this.dir, newBase, this.config, this.clock.now(), jitter({ config: this.config, random: this.random }));
    await seg.makeActive();
    this.segments.push(seg);
    this.logger.info({ baseOffset: newBase }, 'rolled new log segment');
    if (old.size > 0) {
      // As Kafka: the sealed segment is fsynced in the background and the recovery point moves.
      old
        .flush()
        .then(() => {
          if (this.rp < newBase && this.leo >= newBase) this.rp = newBase;
        })
        .catch((err) => this.logger.warn({ err, file: old.path }, 'flush of rolled segment failed'));
    }
    return seg;
  }

  /** Starts a new segment at the log end offset (no-op when the active one is empty). */
  roll(): Promise<void> {
    return this.enqueue(async () => {
      this.ensureOnline();
      await this.rollTo(this.leo);
    });
  }

  private ensureOnline(): void {
    if (this.failure !== null) throw this.failure;
  }

  // ---- reads -----------------------------------------------------------------------------

  private floorSegmentIndex(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * Whole batches from the one containing `offset`, at most `maxBytes` (unless minOneMessage
   * lets a larger first batch through), from one segment. Throws OffsetOutOfRangeError outside
   * [logStartOffset, logEndOffset] and CorruptRecordError for damaged bytes.
   */
  async read(offset: number, maxBytes: number, opts: ReadOptions = {}): Promise<ReadResult> {
    const leo = this.leo;
    const base = { logStartOffset: this.lso, logEndOffset: leo, highWatermark: this.hw, lastStableOffset: this.lastStableOffset };
    if (offset < this.lso || offset > leo) throw new OffsetOutOfRangeError(offset, this.lso, leo);
    const maxOffset = Math.min(opts.maxOffset ?? leo, leo);
    if (offset >= maxOffset) return { records: Buffer.alloc(0), firstOffset: -1, ...base };
    const segments = this.segments;
    for (let i = this.floorSegmentIndex(offset); i < segments.length; i++) {
      const seg = segments[i]!;
      const res = await seg.read(Math.max(offset, seg.baseOffset), maxBytes, maxOffset, opts.minOneMessage ?? false, this.verifyCrcOnRead);
      if (res !== null) return { records: res.records, firstOffset: res.records.length > 0 ? res.firstOffset : -1, ...base };
    }
    return { records: Buffer.alloc(0), firstOffset: -1, ...base };
  }

  /** Position of the batch holding `offset` (for fetch sessions and tests); null if none. */
  locate(offset: number): { segment: LogSegment; batch: BatchPosition } | null {
    if (offset < this.lso || offset >= this.leo) return null;
    for (let i = this.floorSegmentIndex(offset); i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      const b = seg.translateOffset(Math.max(offset, seg.baseOffset));
      if (b !== null) return { segment: seg, batch: b };
    }
    return null;
  }

  /**
   * ListOffsets: EARLIEST (-2) and EARLIEST_LOCAL (-4) give the log start offset, LATEST (-1) the
   * log end offset, MAX_TIMESTAMP (-3) the record with the largest timestamp, and a time gives
   * the first record with timestamp >= it (null when none).
   */
  findOffsetByTimestamp(timestamp: number): TimestampAndOffset | null {
    const epochOf = (offset: number): number => this.leaderEpochCache.epochForOffset(offset) ?? -1;
    if (timestamp === EARLIEST_TIMESTAMP || timestamp === EARLIEST_LOCAL_TIMESTAMP) {
      return { timestamp: -1, offset: this.lso, leaderEpoch: epochOf(this.lso) };
    }
    if (timestamp === LATEST_TIMESTAMP) return { timestamp: -1, offset: this.leo, leaderEpoch: this.leaderEpochCache.latestEpoch() ?? -1 };
    if (timestamp === MAX_TIMESTAMP) {
      // Segments wholly below the log start offset do not count; in the one holding it, only
      // batches at or above it do.
      let best: LogSegment | null = null;
      let bestTs = -1;
      let bestBatch: BatchPosition | null = null;
      for (const seg of this.segments) {
        if (seg.size === 0 || seg.nextOffset() <= this.lso) continue;
        let ts = seg.maxTimestampSoFar;
        let batch: BatchPosition | null = null;
        if (seg.baseOffset < this.lso && seg.offsetOfMaxTimestampSoFar < this.lso) {
          ts = -1;
          seg.scanFrom(seg.translateOffset(this.lso)?.position ?? seg.size, (b) => {
            if (b.maxTimestamp > ts) {
              ts = b.maxTimestamp;
              batch = b;
            }
            return false;
          });
        }
        if (best === null || ts > bestTs) {
          best = seg;
          bestTs = ts;
          bestBatch = batch;
        }
      }
      if (best === null) return null;
      const seg: LogSegment = best;
      const from = bestBatch === null ? seg.offsetIndex.lookup(seg.offsetOfMaxTimestampSoFar).position : (bestBatch as BatchPosition).position;
      const batch = seg.scanFrom(from, (b) => b.maxTimestamp === bestTs && b.lastOffset >= this.lso);
      if (batch === null) return null;
      const offset = seg.offsetOfMaxTimestampIn(batch);
      return { timestamp: bestTs, offset, leaderEpoch: epochOf(offset) };
    }
    if (timestamp < 0) return null;
    for (const seg of this.segments) {
      if (seg.size === 0 || seg.largestTimestamp < timestamp) continue;
      if (seg.nextOffset() <= this.lso) continue;
      const found = seg.findOffsetByTimestamp(timestamp, this.lso);
      if (found === null) continue;
      return { timestamp: found.timestamp, offset: found.offset, leaderEpoch: epochOf(found.offset) };
    }
    return null;
  }

  // ---- truncation, deletion --------------------------------------------------------------

  /** Removes everything at and after `offset` (batches holding it included). */
  truncateTo(offset: number): Promise<boolean> {
    return this.enqueue(async () => {
      this.ensureOnline();
      if (offset < 0) throw new StorageError('OFFSET_OUT_OF_RANGE', `cannot truncate to ${offset}`);
      if (offset >= this.leo) return false;
      this.logger.info({ offset, logEndOffset: this.leo }, 'truncating log');
      if (offset < this.segments[0]!.baseOffset) {
        await this.truncateFullyAndStartAtNow(offset);
        return true;
      }
      const doomed = this.segments.filter((s) => s.baseOffset > offset);
      this.segments = this.segments.filter((s) => s.baseOffset <= offset);
      for (const s of doomed) await s.deleteFiles();
      const active = this.activeSegment;
      if (doomed.length > 0) await active.makeActive();
      await active.truncateTo(offset);
      this.leo = offset;
      this.nextOffsetPending = offset;
      this.afterTruncation(offset);
      return true;
    });
  }

  private afterTruncation(offset: number): void {
    this.truncations++;
    if (this.hw > offset) this.hw = offset;
    if (this.firstUnstable !== null && this.firstUnstable > offset) this.firstUnstable = offset;
    if (this.rp > offset) this.rp = offset;
    if (this.lso > offset) this.lso = offset;
    this.leaderEpochCache.truncateFromEnd(offset);
  }

  private async truncateFullyAndStartAtNow(offset: number): Promise<void> {
    this.truncations++;
    for (const s of this.segments) await s.deleteFiles();
    const seg = await LogSegment.create(this.dir, offset, this.config, this.clock.now(), jitter({ config: this.config, random: this.random }));
    await seg.makeActive();
    this.segments = [seg];
    this.leo = offset;
    this.nextOffsetPending = offset;
    this.lso = offset;
    this.hw = offset;
    this.firstUnstable = null;
    this.rp = offset;
    this.leaderEpochCache.clear();
  }

  /** Deletes everything and restarts the log at `offset` (follower far behind the leader's start). */
  truncateFullyAndStartAt(offset: number): Promise<void> {
    return this.enqueue(async () => {
      this.ensureOnline();
      await this.truncateFullyAndStartAtNow(offset);
    });
  }

  /**
   * DeleteRecords: moves the log start offset up to `offset` (<= high watermark) and deletes the
   * segments wholly below it. Returns the new log start offset.
   */
  deleteRecordsBefore(offset: number): Promise<number> {
    return this.enqueue(async () => {
      this.ensureOnline();
      if (offset > this.hw) throw new OffsetOutOfRangeError(offset, this.lso, this.hw);
      if (offset <= this.lso) return this.lso;
      this.lso = offset;
      this.leaderEpochCache.truncateFromStart(offset);
      await this.deleteSegmentsNow((seg, next) => next !== undefined && next.baseOffset <= this.lso, 'log start offset breach');
      return this.lso;
    });
  }

  /**
   * Deletes leading segments while `shouldDelete(segment, nextSegment)` holds; never the active
   * segment, never one holding offsets at or above the high watermark. Files are renamed to
   * `.deleted` and removed after file.delete.delay.ms. Returns how many were deleted.
   */
  deleteOldSegments(shouldDelete: (segment: LogSegment, next: LogSegment | undefined) => boolean, reason: string): Promise<number> {
    return this.enqueue(async () => {
      this.ensureOnline();
      return this.deleteSegmentsNow(shouldDelete, reason);
    });
  }

  private async deleteSegmentsNow(shouldDelete: (segment: LogSegment, next: LogSegment | undefined) => boolean, reason: string): Promise<number> {
    const doomed: LogSegment[] = [];
    for (let i = 0; i < this.segments.length - 1; i++) {
      const seg = this.segments[i]!;
      const next = this.segments[i + 1]!;
      if (next.baseOffset > this.hw || !shouldDelete(seg, next)) break;
      doomed.push(seg);
    }
    if (doomed.length === 0) return 0;
    this.segments = this.segments.slice(doomed.length);
    const newStart = this.segments[0]!.baseOffset;
    if (newStart > this.lso) {
      this.lso = newStart;
      this.leaderEpochCache.truncateFromStart(newStart);
    }
    for (const seg of doomed) {
      this.logger.info({ baseOffset: seg.baseOffset, size: seg.size, reason }, 'deleting log segment');
      await this.scheduleDeletion(seg);
    }
    return doomed.length;
  }

  private async scheduleDeletion(seg: LogSegment): Promise<void> {
    await seg.changeSuffix(DELETED_FILE_SUFFIX);
    this.pendingDeletions.add(seg);
    const scope = { unit: 'partition', context: { topic: this.topic, partition: this.partition, file: seg.path } };
    const timer = this.scheduler.schedule(this.config.fileDeleteDelayMs, scope, async () => {
      this.deletionTimers.delete(timer);
      this.pendingDeletions.delete(seg);
      await seg.deleteFiles().catch((err) => this.logger.warn({ err, file: seg.path }, 'could not remove deleted segment'));
    });
    this.deletionTimers.add(timer);
  }

  /**
   * Replaces `oldSegments` (consecutive, sealed) by `cleaned`, which was written with the
   * `.cleaned` suffix: cleaned → `.swap`, old → `.deleted`, swap → plain name. A crash at any
   * point is finished by recovery (prepareSegmentFiles).
   */
  replaceSegments(cleaned: LogSegment, oldSegments: readonly LogSegment[], truncationCount = this.truncations): Promise<void> {
    return this.enqueue(async () => {
      this.ensureOnline();
      const first = this.segments.indexOf(oldSegments[0]!);
      if (truncationCount !== this.truncations || first < 0 || oldSegments.some((s, i) => this.segments[first + i] !== s) || oldSegments.includes(this.activeSegment)) {
        throw new StorageError('CLEANING_ABORTED', 'segments to replace are no longer a sealed run of this log');
      }
      await cleaned.changeSuffix('.swap');
      for (const s of oldSegments) await this.scheduleDeletion(s);
      await cleaned.changeSuffix('');
      this.segments.splice(first, oldSegments.length, cleaned);
    });
  }

  // ---- flush, close ----------------------------------------------------------------------

  /** fsyncs every segment holding offsets past the recovery point; moves it to the end offset. */
  async flush(): Promise<void> {
    const upTo = this.leo;
    if (upTo <= this.rp) return;
    const segs = this.segments;
    const work: Promise<void>[] = [];
    for (let i = 0; i < segs.length; i++) {
      const next = segs[i + 1];
      if (next !== undefined && next.baseOffset <= this.rp) continue;
      work.push(segs[i]!.flush());
    }
    await Promise.all(work);
    await this.leaderEpochCache.flush();
    if (upTo > this.rp) this.rp = upTo;
    this.lastFlushed = this.clock.now();
  }

  /** flush.ms policy: flushes when the last flush is older than flush.ms. */
  async maybeFlushByTime(): Promise<void> {
    if (this.clock.now() - this.lastFlushed >= this.config.flushMs) await this.flush();
  }

  get timeSinceLastFlush(): number {
    return this.clock.now() - this.lastFlushed;
  }

  /** Flushes, seals the active segment's indexes and closes every file. */
  close(): Promise<void> {
    const done = this.enqueue(async () => {
      if (this.failure === null) await this.flush();
      for (const seg of this.segments) await seg.close();
      await this.leaderEpochCache.flush().catch(() => undefined);
    });
    this.closed = true;
    return done;
  }

  /** Closes file handles without a flush; the directory is about to be removed or renamed. */
  closeHandles(): Promise<void> {
    const done = this.enqueue(async () => {
      for (const seg of this.segments) await seg.closeFiles();
      for (const t of this.deletionTimers) t.cancel();
      this.deletionTimers.clear();
      for (const seg of this.pendingDeletions) await seg.closeFiles();
      this.pendingDeletions.clear();
    });
    this.closed = true;
    return done;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function jitter(opts: { config: LogConfig; random?: () => number }): number {
  const j = opts.config.segmentJitterMs;
  if (j <= 0) return 0;
  return Math.floor((opts.random ?? Math.random)() * Math.min(j, opts.config.segmentMs));
}

