// The log a Raft replica keeps (`__cluster_metadata-0`): batches carry the leader epoch that
// wrote them in their partitionLeaderEpoch field. Two implementations honour this seam: an
// in-memory one for simulations and tests, and one on storage's partition log.
import { readBatchHeader } from '../../protocol/records/batch-header.ts';
import { iterateBatches, setBaseOffset, setPartitionLeaderEpoch } from '../../protocol/records/record-batch.ts';

export interface AppendInfo {
  baseOffset: bigint;
  lastOffset: bigint;
}

export interface ReplicatedLog {
  /** Offset the next appended record gets. */
  endOffset(): bigint;
  /** Epoch of the last batch in the log (-1 when empty). */
  lastEpoch(): number;
  /** Appends one batch as leader of `epoch`: offsets and epoch are assigned here. */
  appendAsLeader(batch: Buffer, epoch: number): Promise<AppendInfo>;
  /** Whole batches starting at the batch holding `offset`, up to about `maxBytes`. */
  read(offset: bigint, maxBytes: number): Promise<Buffer>;
  /** Makes every appended byte durable. */
  flush(): Promise<void>;
  truncateTo(offset: bigint): Promise<void>;
  close(): Promise<void>;
}

/** A ReplicatedLog held in memory; `flush` is where a simulated crash draws the line. */
export class MemoryReplicatedLog implements ReplicatedLog {
  private batches: { base: bigint; last: bigint; epoch: number; bytes: Buffer }[] = [];
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
