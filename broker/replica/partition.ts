// One partition hosted by this broker: its log, leadership (epoch, ISR) from the metadata image,
// and its idempotent-producer state. The leader append path lives here:
//   - everything up to `log.append` runs synchronously, so appends (and the producer-state
//     checks that decide them) happen in the order requests arrived;
//   - the append promise resolves once the bytes are in the log file; only then are offsets
//     known, the high watermark moved (here ISR = the leader alone) and waiters woken.
import type { Logger } from 'pino';
import { nextSequence } from '../../storage/producer-state.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { Log } from '../../storage/log.ts';
import type { LogConfig } from '../../storage/log-config.ts';
import type { BatchMetadata, ProducerStateManager } from '../../storage/producer-state.ts';
import { readBatchHeader } from '../../protocol/records/batch-header.ts';
import { iterateBatches } from '../../protocol/records/record-batch.ts';
import type { ValidatedRecords } from './append-validator.ts';

export interface LeaderAppendResult {
  baseOffset: number;
  lastOffset: number;
  /** Broker time stamped for LogAppendTime topics, else -1. */
  logAppendTime: number;
  logStartOffset: number;
}

export type AppendListener = (partition: Partition) => void;

const READ_CHUNK = 1 << 20;

export class Partition {
  readonly topic: string;
  readonly partition: number;
  topicId: string;
  readonly log: Log;
  readonly producerState: ProducerStateManager;
  private readonly nodeId: number;
  private readonly logger: Logger;
  leaderId = -1;
  leaderEpoch = -1;
  partitionEpoch = -1;
  replicas: readonly number[] = [];
  isr: readonly number[] = [];
  private readonly onAppend: AppendListener;

  constructor(opts: { topic: string; partition: number; topicId: string; log: Log; producerState: ProducerStateManager; nodeId: number; logger: Logger; onAppend: AppendListener }) {
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.topicId = opts.topicId;
    this.log = opts.log;
    this.producerState = opts.producerState;
    this.nodeId = opts.nodeId;
    this.logger = opts.logger;
    this.onAppend = opts.onAppend;
  }

  get name(): string {
    return `${this.topic}-${this.partition}`;
  }

  get config(): LogConfig {
    return this.log.config;
  }

  get isLeader(): boolean {
    return this.leaderId === this.nodeId;
  }

  /** Rebuilds producer state from the newest snapshot plus the batch headers written after it. */
  async loadProducerState(): Promise<void> {
    const from = Math.max(await this.producerState.loadLatestSnapshot(this.log.logEndOffset), this.log.logStartOffset);
    let offset = from;
    while (offset < this.log.logEndOffset) {
      const { records } = await this.log.read(offset, READ_CHUNK, { minOneMessage: true });
      if (records.length === 0) break;
      for (const e of iterateBatches(records)) {
        const h = readBatchHeader(records, e.position);
        const base = Number(h.baseOffset);
        const last = base + h.lastOffsetDelta;
        if (h.producerId >= 0n && last >= offset) {
          this.producerState.replay(h.producerId, h.producerEpoch, h.baseSequence, h.baseSequence + h.lastOffsetDelta, base, last, Number(h.maxTimestamp));
        }
        offset = Math.max(offset, last + 1);
      }
    }
    this.producerState.mapEndOffset = this.log.logEndOffset;
  }

  /** Leadership and replica set from the metadata image. */
  update(leaderId: number, leaderEpoch: number, partitionEpoch: number, replicas: readonly number[], isr: readonly number[]): void {
    const becameLeader = leaderId === this.nodeId && (this.leaderId !== this.nodeId || leaderEpoch !== this.leaderEpoch);
    this.leaderId = leaderId;
    this.leaderEpoch = leaderEpoch;
    this.partitionEpoch = partitionEpoch;
    this.replicas = replicas;
    this.isr = isr;
    if (becameLeader) {
      this.log.leaderEpochCache.assign(leaderEpoch, this.log.logEndOffset);
      this.maybeAdvanceHighWatermark();
      this.logger.info({ leaderEpoch, isr }, 'became leader');
    }
  }

  /** With the leader as the only in-sync replica, everything written is committed. */
  private maybeAdvanceHighWatermark(): void {
    if (this.isr.length === 1 && this.isr[0] === this.nodeId) this.log.updateHighWatermark(this.log.logEndOffset);
  }

  checkLeader(currentLeaderEpoch = -1): void {
    if (!this.isLeader) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `This broker is not the leader of ${this.name}`);
    if (currentLeaderEpoch >= 0) {
      if (currentLeaderEpoch < this.leaderEpoch) throw new KafkaError(ErrorCode.FENCED_LEADER_EPOCH, `Leader epoch ${currentLeaderEpoch} of ${this.name} is older than ${this.leaderEpoch}`);
      if (currentLeaderEpoch > this.leaderEpoch) throw new KafkaError(ErrorCode.UNKNOWN_LEADER_EPOCH, `Leader epoch ${currentLeaderEpoch} of ${this.name} is newer than ${this.leaderEpoch}`);
    }
  }

  /**
   * Appends validated batches as leader. Synchronous up to the log append (see module comment);
   * a retried idempotent batch resolves to the offsets of its first write without a new append.
   */
  appendAsLeader(v: ValidatedRecords, requiredAcks: number): Promise<LeaderAppendResult> {
    this.checkLeader();
    if (requiredAcks === -1 && this.isr.length < this.config.minInsyncReplicas) {
      throw new KafkaError(
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `The size of the current ISR ${JSON.stringify(this.isr)} is insufficient to satisfy the min.isr requirement of ${this.config.minInsyncReplicas} for partition ${this.name}`,
      );
    }
    const pending: { batch: BatchMetadata; producerId: bigint }[] = [];
    for (const b of v.batches) {
      const h = b.header;
      if (h.producerId < 0n) continue;
      const lastSeq = nextSequence(h.baseSequence, h.lastOffsetDelta);
      const check = this.producerState.check(h.producerId, h.producerEpoch, h.baseSequence, lastSeq);
      if (check.kind === 'duplicate') {
        if (v.batches.length !== 1) throw new KafkaError(ErrorCode.DUPLICATE_SEQUENCE_NUMBER, `Duplicate batch in a multi-batch append to ${this.name}`);
        return this.duplicateResult(check.batch);
      }
      if (check.kind === 'invalid-epoch') throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, check.message);
      if (check.kind === 'out-of-order') throw new KafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, check.message);
      const batch: BatchMetadata = { firstSeq: h.baseSequence, lastSeq, firstOffset: -1, lastOffset: -1, timestamp: Number(h.maxTimestamp) };
      this.producerState.update(h.producerId, h.producerEpoch, batch);
      pending.push({ batch, producerId: h.producerId });
    }
    const appended = this.log.append(v.records, { assignOffsets: true, leaderEpoch: this.leaderEpoch });
    const done = appended.then(
      (res) => {
        // Offsets were assigned batch by batch in order; hand each batch its range.
        let next = res.firstOffset;
        let i = 0;
        for (const b of v.batches) {
          const count = b.header.lastOffsetDelta + 1;
          const p = b.header.producerId >= 0n ? pending[i++] : undefined;
          if (p) {
            p.batch.firstOffset = next;
            p.batch.lastOffset = next + count - 1;
            delete p.batch.pending;
          }
          next += count;
        }
        this.producerState.mapEndOffset = res.lastOffset + 1;
        this.maybeAdvanceHighWatermark();
        this.onAppend(this);
        return { baseOffset: res.firstOffset, lastOffset: res.lastOffset, logAppendTime: res.logAppendTime, logStartOffset: res.logStartOffset };
      },
      (err: unknown) => {
        // The batch never reached the log: forget it so a retry is not taken for a duplicate.
        for (const p of pending) {
          const e = this.producerState.entry(p.producerId);
          if (e) e.batches = e.batches.filter((b) => b !== p.batch);
        }
        throw err;
      },
    );
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    for (const p of pending) p.batch.pending = settled;
    return done;
  }

  private async duplicateResult(batch: BatchMetadata): Promise<LeaderAppendResult> {
    if (batch.pending) await batch.pending;
    if (batch.firstOffset < 0) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `The original append of this batch to ${this.name} failed; retry`);
    this.logger.debug({ firstSeq: batch.firstSeq, lastSeq: batch.lastSeq, offset: batch.firstOffset }, 'duplicate batch acknowledged without re-append');
    return { baseOffset: batch.firstOffset, lastOffset: batch.lastOffset, logAppendTime: -1, logStartOffset: this.log.logStartOffset };
  }

  /** Writes the producer-state snapshot at the log end (the log itself is closed by the log manager). */
  async snapshotProducerState(): Promise<void> {
    this.producerState.mapEndOffset = this.log.logEndOffset;
    await this.producerState.takeSnapshot().catch((err: unknown) => this.logger.warn({ err }, 'failed to write the producer state snapshot'));
  }
}
