// The replica's log seen through its KRaft control records (Kafka's KRaftControlRecordStateMachine):
// a ReplicatedLog that passes every call to the log it wraps and keeps the voter-set history
// (voter-set.ts) in step with it. Appends add the VotersRecord and KRaftVersionRecord they carry,
// a truncation drops the sets past the cut (so an uncommitted change that a new leader discards
// is undone), a log replaced by a snapshot takes the snapshot's sets, and moving the log start
// forgets sets no longer needed. load() rebuilds the history at start-up from the newest snapshot
// (the bootstrap checkpoint included) and the log after it.
// Every operation on the log and its snapshots passes through here, so this is also where a
// storage failure (an I/O error reading or writing the log or a snapshot, or the log gone offline
// after one) is seen: it is reported once to `onStorageFailure`, which stops the node, and
// rethrown to the operation that met it.
import { readBatchHeader } from '../../protocol/records/batch-header.ts';
import { iterateBatches } from '../../protocol/records/record-batch.ts';
import type { AppendInfo, EpochEndOffset, ReplicatedLog } from './replicated-log.ts';
import type { SnapshotId } from './snapshot-format.ts';
import type { SnapshotStore } from './snapshot-store.ts';
import { type VoterSet, VoterSetHistory } from './voter-set.ts';

const SCAN_CHUNK = 1 << 20;

/** An error of the file system (it names a syscall) or a log that went offline after one. */
export function isStorageFailure(err: unknown): boolean {
  const e = err as { syscall?: unknown; code?: unknown } | null;
  return e !== null && typeof e === 'object' && (typeof e.syscall === 'string' || e.code === 'KAFKA_STORAGE_ERROR');
}

export class KRaftControlLog implements ReplicatedLog {
  readonly history: VoterSetHistory;
  readonly snapshots: SnapshotStore;

  constructor(
    readonly inner: ReplicatedLog,
    staticVoters: VoterSet,
    private readonly onStorageFailure: (err: unknown, operation: string) => void = () => {},
  ) {
    this.history = new VoterSetHistory(staticVoters);
    const store = inner.snapshots;
    this.snapshots = {
      list: () => store.list(),
      latest: () => store.latest(),
      earliest: () => store.earliest(),
      size: (id) => store.size(id),
      write: (id, bytes) => this.io('snapshot write', () => store.write(id, bytes)),
      read: (id) => this.io('snapshot read', () => store.read(id)),
      readChunk: (id, position, maxBytes) => this.io('snapshot read', () => store.readChunk(id, position, maxBytes)),
      delete: (id) => this.io('snapshot delete', () => store.delete(id)),
    };
  }

  /** Runs one storage operation; a storage failure is reported before it is rethrown. */
  private async io<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isStorageFailure(err)) this.onStorageFailure(err, operation);
      throw err;
    }
  }

  /** Rebuilds the history from the newest snapshot and the log after it. */
  async load(): Promise<void> {
    this.history.clear();
    const latest = this.snapshots.latest();
    let from = this.inner.startOffset();
    if (latest) {
      this.history.applySnapshot(await this.snapshots.read(latest), latest.endOffset);
      if (latest.endOffset > from) from = latest.endOffset;
    }
    await this.scan(from, this.inner.endOffset());
  }

  private async scan(from: bigint, to: bigint): Promise<void> {
    let next = from;
    while (next < to) {
      const chunk = await this.read(next, SCAN_CHUNK);
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

  sizeInBytes(): number {
    return this.inner.sizeInBytes();
  }

  lastEpoch(): number {
    return this.inner.lastEpoch();
  }

  async appendAsLeader(batch: Buffer, epoch: number): Promise<AppendInfo> {
    const info = await this.io('append', () => this.inner.appendAsLeader(batch, epoch));
    this.history.applyBatches(batch, info.baseOffset);
    return info;
  }

  async appendAsFollower(batches: Buffer): Promise<AppendInfo> {
    const info = await this.io('append', () => this.inner.appendAsFollower(batches));
    this.history.applyBatches(batches);
    return info;
  }

  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.inner.endOffsetForEpoch(epoch);
  }

  read(offset: bigint, maxBytes: number): Promise<Buffer> {
    return this.io('read', () => this.inner.read(offset, maxBytes));
  }

  flush(): Promise<void> {
    return this.io('flush', () => this.inner.flush());
  }

  async truncateTo(offset: bigint): Promise<void> {
    await this.io('truncate', () => this.inner.truncateTo(offset));
    this.history.truncateFrom(offset);
  }

  async advanceStart(id: SnapshotId): Promise<void> {
    await this.io('advance start', () => this.inner.advanceStart(id));
    this.history.compactBelow(id.endOffset - 1n);
  }

  /** The snapshot `id` is already stored: its voter set replaces the history. */
  async truncateFullyAndStartAt(id: SnapshotId): Promise<void> {
    await this.io('truncate', () => this.inner.truncateFullyAndStartAt(id));
    this.history.clear();
    if (this.snapshots.size(id) >= 0) this.history.applySnapshot(await this.snapshots.read(id), id.endOffset);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
