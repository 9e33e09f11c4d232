// Idempotent and transactional producer state of one partition: for each producer id, its epoch
// and the metadata of its last five batches, so a retried batch is recognised (and answered with
// its original offsets) and a gap or reordering in sequence numbers is refused, as Kafka's
// ProducerStateManager does. Transactions (KIP-98): a producer's first transactional batch opens
// its transaction at that batch's first offset; a COMMIT or ABORT marker (control batch) closes
// it. A closed transaction stays "unreplicated" until the high watermark passes its marker, so
// the last stable offset (the first offset of the earliest open or unreplicated transaction,
// capped by the high watermark) never passes a transaction whose outcome followers may not have.
// A marker from an older coordinator epoch than the producer's last one is fenced. Survives restarts through `<20-digit offset>.snapshot` files in the
// partition directory (Kafka's format, below) plus a replay of the batch headers after the snapshot.
//
// Snapshot file: version int16 (=1), crc uint32 (CRC32C of all bytes after it), then an int32
// count of entries, each: producerId int64, epoch int16, lastSequence int32, lastOffset int64,
// offsetDelta int32, timestamp int64, coordinatorEpoch int32, currentTxnFirstOffset int64.
import { crc32c } from '@node-rs/crc32';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

export const SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOT_VERSION = 1;
const ENTRY_SIZE = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;
/** Kafka keeps this many batches per producer for duplicate detection. */
export const NUM_BATCHES_TO_RETAIN = 5;
const INT32_MAX = 2147483647;
const NO_SEQUENCE = -1;
const NO_EPOCH = -1;
/** The first offset of a transaction whose first batch is still being written (leader). */
const PENDING_TXN_OFFSET = Number.MAX_SAFE_INTEGER;

/** A transaction closed by a marker that carried data (empty transactions produce none). */
export interface CompletedTxn {
  producerId: bigint;
  firstOffset: number;
  /** The marker's offset. */
  lastOffset: number;
  isAborted: boolean;
}

export type MarkerCheck = { kind: 'ok' } | { kind: 'invalid-epoch'; message: string } | { kind: 'fenced'; message: string };

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  /** -1 until the append that wrote the batch has finished. */
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
  /** Set while the batch's append is in flight: a duplicate waits for it to learn the offsets. */
  pending?: Promise<void>;
}

export interface ProducerStateEntry {
  producerId: bigint;
  producerEpoch: number;
  /** Oldest first, at most NUM_BATCHES_TO_RETAIN. */
  batches: BatchMetadata[];
  coordinatorEpoch: number;
  currentTxnFirstOffset: number;
  lastTimestamp: number;
}

export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: BatchMetadata }
  | { kind: 'invalid-epoch'; message: string }
  | { kind: 'out-of-order'; message: string };

export function snapshotFileName(offset: number): string {
  return `${String(offset).padStart(20, '0')}${SNAPSHOT_SUFFIX}`;
}

/** `seq + increment`, wrapping past 2^31-1 to 0 as Kafka's sequences do. */
export function nextSequence(seq: number, increment: number): number {
  return seq > INT32_MAX - increment ? increment - (INT32_MAX - seq) - 1 : seq + increment;
}

export class ProducerStateManager {
  readonly dir: string;
  private readonly logger: Logger;
  private readonly producers = new Map<bigint, ProducerStateEntry>();
  /** Open transactions: producer id → first offset (PENDING_TXN_OFFSET while being written). */
  private readonly ongoing = new Map<bigint, number>();
  /** Closed transactions whose marker is not yet below the high watermark, in marker order. */
  private unreplicated: CompletedTxn[] = [];
  /** Markers started per producer (leader), so a verified append can tell one came in between. */
  private readonly markersStarted = new Map<bigint, number>();
  /** Offset up to which the state reflects the log (exclusive). */
  mapEndOffset = 0;

  constructor(dir: string, logger: Logger) {
    this.dir = dir;
    this.logger = logger;
  }

  get size(): number {
    return this.producers.size;
  }

  entry(producerId: bigint): ProducerStateEntry | undefined {
    return this.producers.get(producerId);
  }

  entries(): IterableIterator<ProducerStateEntry> {
    return this.producers.values();
  }

  /**
   * Checks a client batch against the producer's state (Kafka's checkProducerEpoch,
   * findDuplicateBatch and checkSequence, in that order).
   */
  check(producerId: bigint, epoch: number, firstSeq: number, lastSeq: number): SequenceCheck {
    const e = this.producers.get(producerId);
    if (!e) return { kind: 'append' };
    if (epoch < e.producerEpoch) {
      return { kind: 'invalid-epoch', message: `Epoch of producer ${producerId} at offset ${this.mapEndOffset} is ${epoch}, which is smaller than the last seen epoch ${e.producerEpoch}` };
    }
    if (epoch === e.producerEpoch) {
      const dup = e.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
      if (dup) return { kind: 'duplicate', batch: dup };
    }
    if (epoch !== e.producerEpoch) {
      if (firstSeq !== 0 && e.producerEpoch !== NO_EPOCH) {
        return { kind: 'out-of-order', message: `Invalid sequence number for new epoch of producer ${producerId} at offset ${this.mapEndOffset}: ${epoch} (request epoch), ${firstSeq} (seq. number), ${e.producerEpoch} (current producer epoch)` };
      }
      return { kind: 'append' };
    }
    const last = e.batches.at(-1)?.lastSeq ?? NO_SEQUENCE;
    if (last === NO_SEQUENCE && firstSeq !== 0) {
      return { kind: 'out-of-order', message: `Out of order sequence number for producer ${producerId} at offset ${this.mapEndOffset}: ${firstSeq} (incoming seq. number), but the producer has no sequence` };
    }
    if (last !== NO_SEQUENCE && firstSeq !== nextSequence(last, 1)) {
      return { kind: 'out-of-order', message: `Out of order sequence number for producer ${producerId} at offset ${this.mapEndOffset}: ${firstSeq} (incoming seq. number), ${last} (current end sequence number)` };
    }
    return { kind: 'append' };
  }

  /** Records a batch of the producer (an accepted append, or one met when replaying the log). */
  update(producerId: bigint, epoch: number, batch: BatchMetadata, coordinatorEpoch = -1): void {
    let e = this.producers.get(producerId);
    if (!e) {
      e = { producerId, producerEpoch: epoch, batches: [], coordinatorEpoch, currentTxnFirstOffset: -1, lastTimestamp: batch.timestamp };
      this.producers.set(producerId, e);
    }
    if (epoch !== e.producerEpoch) {
      e.producerEpoch = epoch;
      e.batches = [];
    }
    e.batches.push(batch);
    if (e.batches.length > NUM_BATCHES_TO_RETAIN) e.batches.shift();
    e.lastTimestamp = Math.max(e.lastTimestamp, batch.timestamp);
  }

  /** Replays one batch header read from the log (recovery and followers). */
  replay(producerId: bigint, epoch: number, firstSeq: number, lastSeq: number, firstOffset: number, lastOffset: number, timestamp: number, isTransactional = false): void {
    if (producerId < 0n) return;
    const e = this.producers.get(producerId);
    if (e && e.producerEpoch === epoch && e.batches.some((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq && b.lastOffset === lastOffset)) return;
    this.update(producerId, epoch, { firstSeq, lastSeq, firstOffset, lastOffset, timestamp });
    if (isTransactional) this.onTransactionalData(producerId, firstOffset);
    this.mapEndOffset = Math.max(this.mapEndOffset, lastOffset + 1);
  }

  // ---- transactions ----------------------------------------------------------------------

  /** The first offset of the producer's open transaction, or -1 (also while it is being written). */
  ongoingTxnFirstOffset(producerId: bigint): number {
    const o = this.ongoing.get(producerId);
    return o === undefined || o === PENDING_TXN_OFFSET ? -1 : o;
  }

  hasOngoingTransaction(producerId: bigint): boolean {
    return this.ongoing.has(producerId);
  }

  /**
   * Kafka's appendDataBatch rule: a non-transactional batch from a producer with an open
   * transaction is refused (INVALID_TXN_STATE); returns the message, or null when allowed.
   */
  checkTxnData(producerId: bigint, isTransactional: boolean): string | null {
    if (!isTransactional && this.ongoing.has(producerId)) {
      return `Expected transactional write from producer ${producerId} at offset ${this.mapEndOffset}`;
    }
    return null;
  }

  /** Leader: a transactional batch is accepted; its transaction is open from now on (offset to follow). */
  beginPendingTxn(producerId: bigint): void {
    if (!this.ongoing.has(producerId)) this.ongoing.set(producerId, PENDING_TXN_OFFSET);
  }

  /** Leader: the append of a transaction's first batch failed; the transaction never began. */
  cancelPendingTxn(producerId: bigint): void {
    if (this.ongoing.get(producerId) === PENDING_TXN_OFFSET) this.ongoing.delete(producerId);
  }

  /** A transactional data batch is in the log at `firstOffset`. */
  onTransactionalData(producerId: bigint, firstOffset: number): void {
    const o = this.ongoing.get(producerId);
    if (o !== undefined && o !== PENDING_TXN_OFFSET) return;
    this.ongoing.set(producerId, firstOffset);
    const e = this.producers.get(producerId);
    if (e) e.currentTxnFirstOffset = firstOffset;
  }

  /**
   * KIP-890's verification guard: a token taken before asking the coordinator; the append is
   * refused when a marker for the producer was started since (the transaction it was verified
   * for has ended).
   */
  verificationToken(producerId: bigint): number {
    return this.markersStarted.get(producerId) ?? 0;
  }

  /** Leader: a marker for the producer is about to be appended. */
  noteMarkerStarted(producerId: bigint): void {
    this.markersStarted.set(producerId, (this.markersStarted.get(producerId) ?? 0) + 1);
  }

  /** Kafka's checks of a marker written by a coordinator (leader): producer epoch, coordinator epoch. */
  checkEndTxnMarker(producerId: bigint, epoch: number, coordinatorEpoch: number): MarkerCheck {
    const e = this.producers.get(producerId);
    if (!e) return { kind: 'ok' };
    if (epoch < e.producerEpoch) {
      return { kind: 'invalid-epoch', message: `Epoch of producer ${producerId} at offset ${this.mapEndOffset} is ${epoch}, which is smaller than the last seen epoch ${e.producerEpoch}` };
    }
    if (e.coordinatorEpoch > coordinatorEpoch) {
      return { kind: 'fenced', message: `Invalid coordinator epoch for producer ${producerId} at offset ${this.mapEndOffset}: ${coordinatorEpoch} (zombie), ${e.coordinatorEpoch} (current)` };
    }
    return { kind: 'ok' };
  }

  /**
   * A marker is in the log at `offset` (leader after its append, followers and recovery when
   * replaying): closes the producer's transaction. Returns it when it carried data.
   */
  appendEndTxnMarker(producerId: bigint, epoch: number, commit: boolean, coordinatorEpoch: number, offset: number, timestamp: number): CompletedTxn | null {
    let e = this.producers.get(producerId);
    if (!e) {
      e = { producerId, producerEpoch: epoch, batches: [], coordinatorEpoch, currentTxnFirstOffset: -1, lastTimestamp: timestamp };
      this.producers.set(producerId, e);
    }
    if (e.producerEpoch !== epoch) {
      e.producerEpoch = epoch;
      e.batches = [];
    }
    e.coordinatorEpoch = coordinatorEpoch;
    e.lastTimestamp = Math.max(e.lastTimestamp, timestamp);
    e.currentTxnFirstOffset = -1;
    this.mapEndOffset = Math.max(this.mapEndOffset, offset + 1);
    const first = this.ongoing.get(producerId);
    this.ongoing.delete(producerId);
    if (first === undefined || first === PENDING_TXN_OFFSET) return null;
    const txn: CompletedTxn = { producerId, firstOffset: first, lastOffset: offset, isAborted: !commit };
    this.unreplicated.push(txn);
    return txn;
  }

  /**
   * Kafka's lastStableOffset(completedTxn), stored in the aborted-transaction index: the first
   * offset of the earliest other open transaction, else the offset after the marker.
   */
  lastStableOffsetAfter(txn: CompletedTxn): number {
    let min = txn.lastOffset + 1;
    for (const [pid, first] of this.ongoing) if (pid !== txn.producerId && first !== PENDING_TXN_OFFSET && first < min) min = first;
    return min;
  }

  /** Transactions whose markers are now below the high watermark are stable. */
  onHighWatermarkUpdated(highWatermark: number): void {
    if (this.unreplicated.length === 0) return;
    this.unreplicated = this.unreplicated.filter((t) => t.lastOffset >= highWatermark);
  }

  /** The first offset of the earliest open or unreplicated transaction, or null. */
  firstUnstableOffset(): number | null {
    let min: number | null = null;
    for (const first of this.ongoing.values()) if (first !== PENDING_TXN_OFFSET && (min === null || first < min)) min = first;
    for (const t of this.unreplicated) if (min === null || t.firstOffset < min) min = t.firstOffset;
    return min;
  }

  /** Open transactions (producer id, first offset), earliest first; pending ones left out. */
  ongoingTransactions(): { producerId: bigint; firstOffset: number }[] {
    return [...this.ongoing]
      .filter(([, first]) => first !== PENDING_TXN_OFFSET)
      .map(([producerId, firstOffset]) => ({ producerId, firstOffset }))
      .sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /** Removes producers idle longer than producer.id.expiration.ms. */
  expire(now: number, expirationMs: number): number {
    let n = 0;
    for (const [id, e] of this.producers) {
      if (now - e.lastTimestamp >= expirationMs && e.currentTxnFirstOffset < 0 && !this.ongoing.has(id) && !e.batches.some((b) => b.pending)) {
        this.producers.delete(id);
        n++;
      }
    }
    return n;
  }

  /** Forgets everything (the log was truncated below what the state covers). */
  clear(offset: number): void {
    this.producers.clear();
    this.ongoing.clear();
    this.unreplicated = [];
    this.mapEndOffset = offset;
  }

  encodeSnapshot(): Buffer {
    // A producer known only from a marker (no batch here) is kept: its coordinator epoch fences.
    const entries = [...this.producers.values()].filter((e) => e.batches.some((b) => b.firstOffset >= 0) || (e.batches.length === 0 && e.coordinatorEpoch >= 0));
    const buf = Buffer.alloc(2 + 4 + 4 + entries.length * ENTRY_SIZE);
    buf.writeInt16BE(SNAPSHOT_VERSION, 0);
    buf.writeInt32BE(entries.length, 6);
    let pos = 10;
    for (const e of entries) {
      const last = [...e.batches].reverse().find((b) => b.firstOffset >= 0) ?? { lastSeq: NO_SEQUENCE, firstOffset: -1, lastOffset: -1 };
      buf.writeBigInt64BE(e.producerId, pos);
      buf.writeInt16BE(e.producerEpoch, pos + 8);
      buf.writeInt32BE(last.lastSeq, pos + 10);
      buf.writeBigInt64BE(BigInt(last.lastOffset), pos + 14);
      buf.writeInt32BE(last.lastOffset - last.firstOffset, pos + 22);
      buf.writeBigInt64BE(BigInt(e.lastTimestamp), pos + 26);
      buf.writeInt32BE(e.coordinatorEpoch, pos + 34);
      buf.writeBigInt64BE(BigInt(this.ongoingTxnFirstOffset(e.producerId)), pos + 38);
      pos += ENTRY_SIZE;
    }
    buf.writeUInt32BE(crc32c(buf.subarray(6)), 2);
    return buf;
  }

  /** Loads a snapshot's entries; throws on a bad version or CRC (the caller falls back to a scan). */
  loadSnapshot(buf: Buffer, offset: number): void {
    if (buf.length < 10) throw new Error('producer snapshot too short');
    const version = buf.readInt16BE(0);
    if (version !== SNAPSHOT_VERSION) throw new Error(`unknown producer snapshot version ${version}`);
    if (buf.readUInt32BE(2) !== crc32c(buf.subarray(6))) throw new Error('producer snapshot CRC mismatch');
    const count = buf.readInt32BE(6);
    if (count < 0 || 10 + count * ENTRY_SIZE !== buf.length) throw new Error('producer snapshot size does not match its entry count');
    this.producers.clear();
    this.ongoing.clear();
    this.unreplicated = [];
    let pos = 10;
    for (let i = 0; i < count; i++) {
      const producerId = buf.readBigInt64BE(pos);
      const lastSeq = buf.readInt32BE(pos + 10);
      const lastOffset = Number(buf.readBigInt64BE(pos + 14));
      const delta = buf.readInt32BE(pos + 22);
      const timestamp = Number(buf.readBigInt64BE(pos + 26));
      const currentTxnFirstOffset = Number(buf.readBigInt64BE(pos + 38));
      this.producers.set(producerId, {
        producerId,
        producerEpoch: buf.readInt16BE(pos + 8),
        batches: lastSeq >= 0 ? [{ firstSeq: Math.max(0, lastSeq - delta), lastSeq, firstOffset: lastOffset - delta, lastOffset, timestamp }] : [],
        coordinatorEpoch: buf.readInt32BE(pos + 34),
        currentTxnFirstOffset,
        lastTimestamp: timestamp,
      });
      if (currentTxnFirstOffset >= 0) this.ongoing.set(producerId, currentTxnFirstOffset);
      pos += ENTRY_SIZE;
    }
    this.mapEndOffset = offset;
  }

  /** Writes `<mapEndOffset>.snapshot` atomically and keeps only the newest two snapshots. */
  async takeSnapshot(): Promise<string> {
    const name = snapshotFileName(this.mapEndOffset);
    const file = join(this.dir, name);
    const tmp = `${file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(this.encodeSnapshot());
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    const offsets = await this.snapshotOffsets();
    for (const o of offsets.slice(0, -2)) await unlink(join(this.dir, snapshotFileName(o))).catch(() => undefined);
    return file;
  }

  async snapshotOffsets(): Promise<number[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names
      .filter((n) => /^\d{20}\.snapshot$/.test(n))
      .map((n) => Number(n.slice(0, 20)))
      .sort((a, b) => a - b);
  }

  /**
   * Loads the newest valid snapshot at or below `logEndOffset` and returns its offset (0 when
   * none); snapshots above it (the log was truncated) are deleted.
   */
  async loadLatestSnapshot(logEndOffset: number): Promise<number> {
    const offsets = await this.snapshotOffsets();
    for (const o of offsets.filter((x) => x > logEndOffset)) await unlink(join(this.dir, snapshotFileName(o))).catch(() => undefined);
    for (const o of offsets.filter((x) => x <= logEndOffset).reverse()) {
      const file = join(this.dir, snapshotFileName(o));
      try {
        this.loadSnapshot(await readFile(file), o);
        return o;
      } catch (err) {
        this.logger.warn({ err, file }, 'ignoring unreadable producer state snapshot');
      }
    }
    this.clear(0);
    return 0;
  }
}
