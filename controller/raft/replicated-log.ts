// The log a Raft replica keeps (`__cluster_metadata-0`): batches carry the leader epoch that
// wrote them in their partitionLeaderEpoch field. Two implementations honour this seam: an
// in-memory one for simulations and tests, and one on storage's partition log.
// Invariants: offsets are contiguous from the log start offset; epochs never decrease along the
// log; a leader assigns offsets and its epoch, a follower keeps the leader's; truncation removes
// whole batches. The log keeps its snapshots (snapshot-store.ts): the log start offset is the end
// offset of the oldest snapshot kept (0 without one), and that snapshot's epoch stands for the
// epoch of the records below it that the log no longer holds.
import { readBatchHeader } from '../../protocol/records/batch-header.ts';
import { iterateBatches, setBaseOffset, setPartitionLeaderEpoch } from '../../protocol/records/record-batch.ts';
import type { SnapshotId } from './snapshot-format.ts';
import { MemorySnapshotStore, type SnapshotStore } from './snapshot-store.ts';

export interface AppendInfo {
  baseOffset: bigint;
  lastOffset: bigint;
}

/** Kafka's OffsetAndEpoch as answered by an epoch lookup (epoch -1 when nothing matches). */
export interface EpochEndOffset {
  epoch: number;
  endOffset: bigint;
}

export interface ReplicatedLog {
  /** The snapshots of this log's state. */
  readonly snapshots: SnapshotStore;
  /** Offset the next appended record gets. */
  endOffset(): bigint;
  /** Bytes the log's batches take (metadata.max.retention.bytes counts them). */
  sizeInBytes(): number;
  /** First offset the log holds (or would hold): the oldest kept snapshot's end, 0 without one. */
  startOffset(): bigint;
  /** Epoch of the last batch in the log; the start snapshot's epoch when it holds none (-1 when empty from 0). */
  lastEpoch(): number;
  /** Appends one batch as leader of `epoch`: offsets and epoch are assigned here. */
  appendAsLeader(batch: Buffer, epoch: number): Promise<AppendInfo>;
  /** Appends batches copied from the leader, keeping their offsets and epochs; must start at endOffset(). */
  appendAsFollower(batches: Buffer): Promise<AppendInfo>;
  /**
   * The largest epoch <= `epoch` in the log and the offset where it ends (the start of the next
   * higher epoch, or the end of the log); { epoch: -1, endOffset: 0 } when the log has no such epoch.
   */
  endOffsetForEpoch(epoch: number): EpochEndOffset;
  /** Whole batches starting at the batch holding `offset`, up to about `maxBytes` (at least one). */
  read(offset: bigint, maxBytes: number): Promise<Buffer>;
  /** Makes every appended byte durable. */
  flush(): Promise<void>;
  /** Removes every batch at or after `offset` (a batch boundary). */
  truncateTo(offset: bigint): Promise<void>;
  /**
   * Moves the log start offset up to snapshot `id`'s end (committed and flushed) and deletes
   * what it can below it (the file log whole segments only).
   */
  advanceStart(id: SnapshotId): Promise<void>;
  /** Empties the log and restarts it at snapshot `id`'s end (a fetched snapshot replaces it). */
  truncateFullyAndStartAt(id: SnapshotId): Promise<void>;
  close(): Promise<void>;
}

/** The (startOffset, epoch) runs of a log whose start is a snapshot: the snapshot's epoch runs from the start. */
export function withStartRun(runs: { epoch: number; startOffset: bigint }[], start: bigint, startEpoch: number): { epoch: number; startOffset: bigint }[] {
  if (start <= 0n || startEpoch < 0) return runs;
  // The record before the start has the snapshot's epoch; a run that begins at the start follows it.
  return [{ epoch: startEpoch, startOffset: start }, ...runs.filter((r) => r.startOffset >= start && r.epoch >= startEpoch)];
}

interface MemoryBatch {
  base: bigint;
  last: bigint;
  epoch: number;
  bytes: Buffer;
}

/** The epoch lookup shared by both implementations, over (startOffset, epoch) runs in log order. */
export function endOffsetForEpochIn(runs: readonly { epoch: number; startOffset: bigint }[], epoch: number, logEnd: bigint): EpochEndOffset {
  let floor = -1;
  for (const r of runs) {
    if (r.epoch > epoch) return floor < 0 ? { epoch: -1, endOffset: 0n } : { epoch: floor, endOffset: r.startOffset };
    floor = r.epoch;
  }
  return floor < 0 ? { epoch: -1, endOffset: 0n } : { epoch: floor, endOffset: logEnd };
}

/** A ReplicatedLog held in memory; `flush` is where a simulated crash draws the line. */
export class MemoryReplicatedLog implements ReplicatedLog {
  readonly snapshots = new MemorySnapshotStore();
  private batches: MemoryBatch[] = [];
  private durable = 0;
  private start = 0n;
  private startEpoch = -1;

  endOffset(): bigint {
    const last = this.batches.at(-1);
    return last ? last.last + 1n : this.start;
  }

  startOffset(): bigint {
    return this.start;
  }

  lastEpoch(): number {
    return this.batches.at(-1)?.epoch ?? this.startEpoch;
  }

  sizeInBytes(): number {
    let n = 0;
    for (const b of this.batches) n += b.bytes.length;
    return n;
  }

  async appendAsLeader(batch: Buffer, epoch: number): Promise<AppendInfo> {
    const copy = Buffer.from(batch);
    const base = this.endOffset();
    let last = base - 1n;
    for (const e of iterateBatches(copy)) {
      const count = BigInt(readBatchHeader(copy, e.position).lastOffsetDelta) + 1n;
      setBaseOffset(copy, e.position, last + 1n);
      setPartitionLeaderEpoch(copy, e.position, epoch);
      this.batches.push({ base: last + 1n, last: last + count, epoch, bytes: copy.subarray(e.position, e.position + e.size) });
      last += count;
    }
    return { baseOffset: base, lastOffset: last };
  }

  async appendAsFollower(batches: Buffer): Promise<AppendInfo> {
    const copy = Buffer.from(batches);
    const base = this.endOffset();
    let next = base;
    let epoch = this.lastEpoch();
    const added: MemoryBatch[] = [];
    for (const e of iterateBatches(copy)) {
      const h = readBatchHeader(copy, e.position);
      if (h.baseOffset !== next) throw new Error(`follower append at ${h.baseOffset}, expected ${next}`);
      if (h.partitionLeaderEpoch < epoch) throw new Error(`follower append of epoch ${h.partitionLeaderEpoch} after epoch ${epoch}`);
      epoch = h.partitionLeaderEpoch;
      const last = h.baseOffset + BigInt(h.lastOffsetDelta);
      added.push({ base: h.baseOffset, last, epoch, bytes: copy.subarray(e.position, e.position + e.size) });
      next = last + 1n;
    }
    this.batches.push(...added);
    return { baseOffset: base, lastOffset: next - 1n };
  }

  endOffsetForEpoch(epoch: number): EpochEndOffset {
    const runs: { epoch: number; startOffset: bigint }[] = [];
    for (const b of this.batches) if (runs.at(-1)?.epoch !== b.epoch) runs.push({ epoch: b.epoch, startOffset: b.base });
    return endOffsetForEpochIn(withStartRun(runs, this.start, this.startEpoch), epoch, this.endOffset());
  }

  async read(offset: bigint, maxBytes: number): Promise<Buffer> {
    const out: Buffer[] = [];
    let size = 0;
    for (const b of this.batches) {
      if (b.last < offset) continue;
      if (size > 0 && size + b.bytes.length > maxBytes) break;
      out.push(b.bytes);
      size += b.bytes.length;
    }
    return Buffer.concat(out);
  }

  async flush(): Promise<void> {
    this.durable = this.batches.length;
  }

  async truncateTo(offset: bigint): Promise<void> {
    if (offset < this.start) throw new Error(`cannot truncate to ${offset}, below the log start offset ${this.start}`);
    this.batches = this.batches.filter((b) => b.last < offset);
    this.durable = Math.min(this.durable, this.batches.length);
  }

  async advanceStart(id: SnapshotId): Promise<void> {
    if (id.endOffset <= this.start) return;
    if (id.endOffset > this.endOffset()) throw new Error(`log start offset ${id.endOffset} past the log end ${this.endOffset()}`);
    const kept = this.batches.filter((b) => b.last >= id.endOffset);
    this.durable = Math.max(0, this.durable - (this.batches.length - kept.length));
    this.batches = kept;
    this.start = id.endOffset;
    this.startEpoch = id.epoch;
  }

  async truncateFullyAndStartAt(id: SnapshotId): Promise<void> {
    this.batches = [];
    this.durable = 0;
    this.start = id.endOffset;
    this.startEpoch = id.epoch;
  }

  /** Drops what was never flushed, as a process crash would. */
  crash(): void {
    this.batches = this.batches.slice(0, this.durable);
  }

  async close(): Promise<void> {}
}
