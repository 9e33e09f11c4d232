// Decides when a node snapshots its committed metadata image and writes it (Kafka's
// SnapshotGenerator): after `metadata.log.max.record.bytes.between.snapshots` bytes of records
// were committed since the last snapshot, or once `metadata.log.max.snapshot.interval.ms` has
// passed since it with something new committed (0 turns the time trigger off). Controllers and
// brokers alike run one; each snapshots its own replayed image, at the offset and epoch of that
// image's last record. One snapshot is written at a time; the image is immutable, so it is
// turned into records after the replay that made it has returned.
import type { Logger } from 'pino';
import type { Scheduler } from '../../protocol/scheduler.ts';
import type { RaftClient } from '../raft/raft-client.ts';
import type { MetadataImage } from './image.ts';
import { imageRecords } from './image-records.ts';
import { encodeMetadataRecord } from './record-serde.ts';

export interface SnapshotPolicy {
  /** metadata.log.max.record.bytes.between.snapshots */
  maxBytesBetweenSnapshots: number;
  /** metadata.log.max.snapshot.interval.ms (0: no time trigger) */
  maxIntervalMs: number;
}

export const DEFAULT_SNAPSHOT_POLICY: SnapshotPolicy = { maxBytesBetweenSnapshots: 20 * 1024 * 1024, maxIntervalMs: 60 * 60 * 1000 };

export class SnapshotGenerator {
  private bytesSince = 0;
  private lastSnapshotMs: number;
  private writing = false;
  /** Snapshots this generator wrote (tests read it). */
  written = 0;

  constructor(
    private readonly raft: RaftClient,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    private readonly policy: SnapshotPolicy = DEFAULT_SNAPSHOT_POLICY,
  ) {
    this.lastSnapshotMs = scheduler.now();
  }

  /** A loaded snapshot is as good as one written: counting starts again. */
  onSnapshotLoaded(): void {
    this.bytesSince = 0;
    this.lastSnapshotMs = this.scheduler.now();
  }

  /** Called after each committed batch is replayed into `image`. */
  onCommit(image: MetadataImage, recordBytes: number, lastContainedLogTimestamp: number): void {
    this.bytesSince += recordBytes;
    if (this.writing || this.bytesSince === 0 || image.offset < 0n) return;
    const now = this.scheduler.now();
    const byBytes = this.bytesSince >= this.policy.maxBytesBetweenSnapshots;
    const byTime = this.policy.maxIntervalMs > 0 && now - this.lastSnapshotMs >= this.policy.maxIntervalMs;
    if (!byBytes && !byTime) return;
    this.writing = true;
    const bytes = this.bytesSince;
    this.bytesSince = 0;
    this.lastSnapshotMs = now;
    // Deferred: the batch being replayed counts as delivered only once this listener returns.
    const scope = { unit: 'metadata-snapshot', context: { offset: String(image.offset) } };
    this.scheduler.watch(
      scope,
      Promise.resolve()
        .then(async () => {
          const values = imageRecords(image).map(encodeMetadataRecord);
          const id = { endOffset: image.offset + 1n, epoch: image.epoch };
          if (await this.raft.createSnapshot(id, values, lastContainedLogTimestamp)) {
            this.written++;
            this.logger.debug({ endOffset: String(id.endOffset), epoch: id.epoch, recordBytesSince: bytes, trigger: byBytes ? 'bytes' : 'time' }, 'metadata snapshot taken');
          }
        })
        .finally(() => {
          this.writing = false;
        }),
    );
  }
}
