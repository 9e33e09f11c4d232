// The metadata log on disk: `<metadata.log.dir>/__cluster_metadata-0`, a partition log in
// Kafka's segment layout, with the leader epoch of each batch kept in leader-epoch-checkpoint
// (which also answers the epoch lookups of diverging-log checks), and the snapshots beside the
// segments (snapshot-store.ts). The log start offset is not stored: on open it is the end offset
// of the oldest valid snapshot, as Kafka's metadata log derives it; segments wholly below it are
// deleted as snapshots advance it.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Log } from '../../storage/log.ts';
import { METADATA_LOG_DIR } from '../../storage/log-manager.ts';
import { defaultLogConfig, type LogConfig } from '../../storage/log-config.ts';
import { type AppendInfo, type EpochEndOffset, endOffsetForEpochIn, type ReplicatedLog, withStartRun } from './replicated-log.ts';
import type { SnapshotId } from './snapshot-format.ts';
import { FileSnapshotStore } from './snapshot-store.ts';

export class FileReplicatedLog implements ReplicatedLog {
  private startEpoch: number;

  private constructor(
    private readonly log: Log,
    readonly snapshots: FileSnapshotStore,
  ) {
    const earliest = snapshots.earliest();
    this.startEpoch = earliest && earliest.endOffset > 0n && BigInt(log.logStartOffset) >= earliest.endOffset ? earliest.epoch : -1;
  }

  static async open(metadataLogDir: string, logger: Logger, config: Partial<LogConfig> = {}): Promise<FileReplicatedLog> {
    const dir = join(metadataLogDir, METADATA_LOG_DIR);
    await mkdir(dir, { recursive: true });
    const snapshots = await FileSnapshotStore.open(dir, logger.child({ topic: '__cluster_metadata', partition: 0 }));
    const earliest = snapshots.earliest();
    const log = await Log.open({
      dir,
      topic: '__cluster_metadata',
      partition: 0,
      // The metadata log is never deleted by time or size: snapshots bound it.
      config: { ...defaultLogConfig, retentionMs: -1, retentionBytes: -1, ...config },
      logger: logger.child({ topic: '__cluster_metadata', partition: 0 }),
      logStartOffset: earliest ? Number(earliest.endOffset) : 0,
    });
    return new FileReplicatedLog(log, snapshots);
  }

  endOffset(): bigint {
    return BigInt(this.log.logEndOffset);
  }

  startOffset(): bigint {
    return BigInt(this.log.logStartOffset);
  }

  sizeInBytes(): number {
    return this.log.size;
  }

  lastEpoch(): number {
    return this.log.leaderEpochCache.latestEpoch() ?? this.startEpoch;
  }

  async appendAsLeader(batch: Buffer, epoch: number): Promise<AppendInfo> {
    const r = await this.log.append(batch, { assignOffsets: true, leaderEpoch: epoch });
    return { baseOffset: BigInt(r.firstOffset), lastOffset: BigInt(r.lastOffset) };
  }

  async appendAsFollower(batches: Buffer): Promise<AppendInfo> {
    const expected = this.log.logEndOffset;
    const r = await this.log.append(Buffer.from(batches), { assignOffsets: false });
    if (r.firstOffset !== expected) throw new Error(`follower append at ${r.firstOffset}, expected ${expected}`);
    return { baseOffset: BigInt(r.firstOffset), lastOffset: BigInt(r.lastOffset) };
  }

  endOffsetForEpoch(epoch: number): EpochEndOffset {
    const runs = this.log.leaderEpochCache.epochEntries.map((e) => ({ epoch: e.epoch, startOffset: BigInt(e.startOffset) }));
    return endOffsetForEpochIn(withStartRun(runs, this.startOffset(), this.startEpoch), epoch, this.endOffset());
  }

  async read(offset: bigint, maxBytes: number): Promise<Buffer> {
    if (offset >= BigInt(this.log.logEndOffset)) return Buffer.alloc(0);
    return (await this.log.read(Number(offset), maxBytes, { minOneMessage: true })).records;
  }

  async flush(): Promise<void> {
    await this.log.flush();
    this.log.updateHighWatermark(this.log.logEndOffset);
  }

  async truncateTo(offset: bigint): Promise<void> {
    if (offset < this.startOffset()) throw new Error(`cannot truncate to ${offset}, below the log start offset ${this.startOffset()}`);
    await this.log.truncateTo(Number(offset));
  }

  async advanceStart(id: SnapshotId): Promise<void> {
    if (id.endOffset <= this.startOffset()) return;
    await this.log.deleteRecordsBefore(Number(id.endOffset));
    this.startEpoch = id.epoch;
  }

  async truncateFullyAndStartAt(id: SnapshotId): Promise<void> {
    await this.log.truncateFullyAndStartAt(Number(id.endOffset));
    this.startEpoch = id.epoch;
  }

  async close(): Promise<void> {
    await this.log.close();
  }
}
