// The metadata log on disk: `<metadata.log.dir>/__cluster_metadata-0`, a partition log in
// Kafka's segment layout, with the leader epoch of each batch kept in leader-epoch-checkpoint
// (which also answers the epoch lookups of diverging-log checks).
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Log } from '../../storage/log.ts';
import { METADATA_LOG_DIR } from '../../storage/log-manager.ts';
import { defaultLogConfig, type LogConfig } from '../../storage/log-config.ts';
import { type AppendInfo, type EpochEndOffset, endOffsetForEpochIn, type ReplicatedLog } from './replicated-log.ts';

export class FileReplicatedLog implements ReplicatedLog {
  private constructor(private readonly log: Log) {}

  static async open(metadataLogDir: string, logger: Logger, config: Partial<LogConfig> = {}): Promise<FileReplicatedLog> {
    const log = await Log.open({
      dir: join(metadataLogDir, METADATA_LOG_DIR),
      topic: '__cluster_metadata',
      partition: 0,
      // The metadata log is never deleted by time or size: snapshots will bound it.
      config: { ...defaultLogConfig, retentionMs: -1, retentionBytes: -1, ...config },
      logger: logger.child({ topic: '__cluster_metadata', partition: 0 }),
    });
    return new FileReplicatedLog(log);
  }

  endOffset(): bigint {
    return BigInt(this.log.logEndOffset);
  }

  lastEpoch(): number {
    return this.log.leaderEpochCache.latestEpoch() ?? -1;
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
    return endOffsetForEpochIn(runs, epoch, this.endOffset());
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
    await this.log.truncateTo(Number(offset));
  }

  async close(): Promise<void> {
    await this.log.close();
  }
}
