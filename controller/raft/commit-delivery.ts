// Hands committed batches of the metadata log to listeners, in offset order, exactly once per
// replica lifetime: everything below the high watermark and nothing above it. Control batches
// (leader changes) advance the position but are not passed on. A loaded snapshot replaces what
// listeners hold and moves the position to its end. Also settles the leader's appends: each
// resolves once the high watermark passed its last offset and listeners saw it.
import type { Logger } from 'pino';
import { decodeRecordBatch, iterateBatches } from '../../protocol/records/record-batch.ts';
import type { ReplicatedLog } from './replicated-log.ts';
import type { SnapshotId } from './snapshot-format.ts';

export interface CommittedRecord {
  offset: bigint;
  value: Buffer;
}

export interface CommittedBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  epoch: number;
  /** The batch's largest record timestamp (when it was appended). */
  timestamp: number;
  /** Data records only; control records (leader changes) are not passed on. */
  records: CommittedRecord[];
}

/** A snapshot handed to listeners: the whole committed state up to (not including) id.endOffset. */
export interface LoadedSnapshot {
  id: SnapshotId;
  lastContainedLogTimestamp: number;
  /** The state's records (values), in order. */
  records: Buffer[];
}

export interface RaftListener {
  handleCommit(batch: CommittedBatch): void;
  /**
   * The listener's state is replaced by a snapshot's (at start-up, or when this replica fell
   * behind the leader's log start and fetched one); commits continue from the snapshot's end.
   */
  handleLoadSnapshot?(snapshot: LoadedSnapshot): void;
  /** Called whenever a new leader becomes known (the local one once listeners caught up to its epoch). */
  handleLeaderChange?(leaderId: number, epoch: number): void;
}

interface PendingAppend {
  lastOffset: bigint;
  resolve: (offset: bigint) => void;
  reject: (err: unknown) => void;
}

const READ_CHUNK = 1 << 20;

export class CommitDelivery {
  readonly listeners: RaftListener[] = [];
  /** Next offset to deliver: everything below it has been handed to listeners. */
  private next = 0n;
  private pending: PendingAppend[] = [];

  constructor(
    private readonly log: ReplicatedLog,
    private readonly logger: Logger,
  ) {}

  get deliveredEnd(): bigint {
    return this.next;
  }

  /** A promise for the commit of an append whose last offset is `lastOffset`. */
  awaitCommit(lastOffset: bigint): Promise<bigint> {
    return new Promise((resolve, reject) => this.pending.push({ lastOffset, resolve, reject }));
  }

  /** Fails every append still waiting (leadership lost or the replica closes). */
  failPending(err: unknown): void {
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) p.reject(err);
  }

  /** Delivers committed batches below `highWatermark`, then settles appends they cover. */
  async deliverUpTo(highWatermark: bigint): Promise<void> {
    while (this.next < highWatermark) {
      const chunk = await this.log.read(this.next, READ_CHUNK);
      if (chunk.length === 0) break;
      let advanced = false;
      for (const e of iterateBatches(chunk)) {
        const batch = decodeRecordBatch(chunk, e.position);
        const h = batch.header;
        const last = h.baseOffset + BigInt(h.lastOffsetDelta);
        if (last < this.next) continue;
        // A batch is delivered whole or not at all; the high watermark always ends on a batch.
        if (last >= highWatermark) break;
        if (!h.isControl) {
          const records: CommittedRecord[] = [];
          for (const r of batch.records) {
            const o = h.baseOffset + BigInt(r.offsetDelta);
            if (o >= this.next && r.value) records.push({ offset: o, value: Buffer.from(r.value) });
          }
          const committed: CommittedBatch = { baseOffset: h.baseOffset, lastOffset: last, epoch: h.partitionLeaderEpoch, timestamp: Number(h.maxTimestamp), records };
          for (const l of this.listeners) {
            try {
              l.handleCommit(committed);
            } catch (err) {
              this.logger.error({ err, offset: String(last) }, 'metadata log listener failed on a committed batch');
            }
          }
        }
        this.next = last + 1n;
        advanced = true;
      }
      if (!advanced) break;
    }
    if (this.pending.length === 0) return;
    const done = this.pending.filter((p) => p.lastOffset < this.next);
    if (done.length === 0) return;
    this.pending = this.pending.filter((p) => p.lastOffset >= this.next);
    for (const p of done) p.resolve(p.lastOffset);
  }

  /** Hands a snapshot to every listener and continues delivery from its end. */
  loadSnapshot(snapshot: LoadedSnapshot): void {
    for (const l of this.listeners) {
      try {
        l.handleLoadSnapshot?.(snapshot);
      } catch (err) {
        this.logger.error({ err, snapshotId: `${snapshot.id.endOffset}-${snapshot.id.epoch}` }, 'metadata log listener failed to load a snapshot');
      }
    }
    if (snapshot.id.endOffset > this.next) this.next = snapshot.id.endOffset;
  }

  fireLeaderChange(leaderId: number, epoch: number): void {
    for (const l of this.listeners) {
      try {
        l.handleLeaderChange?.(leaderId, epoch);
      } catch (err) {
        this.logger.error({ err, leaderId, epoch }, 'metadata log listener failed on a leader change');
      }
    }
  }
}
