// The log a Raft replica keeps (`__cluster_metadata-0`): batches carry the leader epoch that
// wrote them in their partitionLeaderEpoch field. Two implementations honour this seam: an
// in-memory one for simulations and tests, and one on storage's partition log.
// Invariants: offsets are contiguous from 0; epochs never decrease along the log; a leader
// assigns offsets and its epoch, a follower keeps the leader's; truncation removes whole batches.
import { readBatchHeader } from '../../protocol/records/batch-header.ts';
import { iterateBatches, setBaseOffset, setPartitionLeaderEpoch } from '../../protocol/records/record-batch.ts';

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
  /** Offset the next appended record gets. */
  endOffset(): bigint;
  /** Epoch of the last batch in the log (-1 when empty). */
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
  close(): Promise<void>;
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
  private batches: MemoryBatch[] = [];
  private durable = 0;

  endOffset(): bigint {
    const last = this.batches.at(-1);
    return last ? last.last + 1n : 0n;
  }

  lastEpoch(): number {
    return this.batches.at(-1)?.epoch ?? -1;
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
    return endOffsetForEpochIn(runs, epoch, this.endOffset());
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
    this.batches = this.batches.filter((b) => b.last < offset);
    this.durable = Math.min(this.durable, this.batches.length);
  }

  /** Drops what was never flushed, as a process crash would. */
  crash(): void {
    this.batches = this.batches.slice(0, this.durable);
  }

  async close(): Promise<void> {}
}
