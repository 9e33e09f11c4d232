// The replica's log seen through its KRaft control records (Kafka's KRaftControlRecordStateMachine):
// a ReplicatedLog that passes every call to the log it wraps and keeps the voter-set history
// (voter-set.ts) in step with it. Appends add the VotersRecord and KRaftVersionRecord they carry,
// a truncation drops the sets past the cut (so an uncommitted change that a new leader discards
// is undone), a log replaced by a snapshot takes the snapshot's sets, and moving the log start
// forgets sets no longer needed. load() rebuilds the history at start-up from the newest snapshot
// (the bootstrap checkpoint included) and the log after it.
import { readBatchHeader } from '../../protocol/records/batch-header.ts';
import { iterateBatches } from '../../protocol/records/record-batch.ts';
import type { AppendInfo, EpochEndOffset, ReplicatedLog } from './replicated-log.ts';
import type { SnapshotId } from './snapshot-format.ts';
import type { SnapshotStore } from './snapshot-store.ts';
import { type VoterSet, VoterSetHistory } from './voter-set.ts';

const SCAN_CHUNK = 1 << 20;

export class KRaftControlLog implements ReplicatedLog {
  readonly history: VoterSetHistory;

  constructor(
    readonly inner: ReplicatedLog,
    staticVoters: VoterSet,
  ) {
    this.history = new VoterSetHistory(staticVoters);
  }

  get snapshots(): SnapshotStore {
    return this.inner.snapshots;
  }

  /** Rebuilds the history from the newest snapshot and the log after it. */
  async load(): Promise<void> {
    this.history.clear();
    const latest = this.inner.snapshots.latest();
    let from = this.inner.startOffset();
    if (latest) {
      this.history.applySnapshot(await this.inner.snapshots.read(latest), latest.endOffset);
      if (latest.endOffset > from) from = latest.endOffset;
    }
    await this.scan(from, this.inner.endOffset());
  }

  private async scan(from: bigint, to: bigint): Promise<void> {
    let next = from;
    while (next < to) {
      const chunk = await this.inner.read(next, SCAN_CHUNK);
      let start = -1;
      let end = 0;
      const before = next;
      for (const e of iterateBatches(chunk)) {
        const h = readBatchHeader(chunk, e.position);
        const last = h.baseOffset + BigInt(h.lastOffsetDelta);
        if (last < before) continue;
        if (start < 0) start = e.position;
        end = e.position + e.size;
        next = last + 1n;
      }
      if (start < 0) return;
      this.history.applyBatches(chunk.subarray(start, end));
    }
  }

  endOffset(): bigint {
    return this.inner.endOffset();
  }

  startOffset(): bigint {
    return this.inner.startOffset();
  }

  lastEpoch(): number {
    return this.inner.lastEpoch();
  }

  async appendAsLeader(batch: Buffer, epoch: number): Promise<AppendInfo> {
    const info = await this.inner.appendAsLeader(batch, epoch);
    this.history.applyBatches(batch, info.baseOffset);
    return info;
  }

  async appendAsFollower(batches: Buffer): Promise<AppendInfo> {
    const info = await this.inner.appendAsFollower(batches);
    this.history.applyBatches(batches);
    return info;
  }

  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.inner.endOffsetForEpoch(epoch);
  }

  read(offset: bigint, maxBytes: number): Promise<Buffer> {
    return this.inner.read(offset, maxBytes);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  async truncateTo(offset: bigint): Promise<void> {
    await this.inner.truncateTo(offset);
    this.history.truncateFrom(offset);
  }

  async advanceStart(id: SnapshotId): Promise<void> {
    await this.inner.advanceStart(id);
    this.history.compactBelow(id.endOffset - 1n);
  }

  /** The snapshot `id` is already stored: its voter set replaces the history. */
  async truncateFullyAndStartAt(id: SnapshotId): Promise<void> {
    await this.inner.truncateFullyAndStartAt(id);
    this.history.clear();
    if (this.inner.snapshots.size(id) >= 0) this.history.applySnapshot(await this.inner.snapshots.read(id), id.endOffset);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
