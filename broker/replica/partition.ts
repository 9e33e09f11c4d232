// One partition hosted by this broker: its log, leadership (epoch, ISR) from the metadata image,
// and its idempotent-producer state. The leader append path lives here:
//   - everything up to `log.append` runs synchronously, so appends (and the producer-state
//     checks that decide them) happen in the order requests arrived;
//   - the append promise resolves once the bytes are in the log file; only then are offsets
//     known, the high watermark moved and waiters woken.
// As leader it also keeps each follower's fetch state (isr-state.ts) and owns the ISR:
//   - the high watermark is the smallest log end offset over the maximal ISR (the committed ISR
//     plus a member being added; a member being removed still counts until the removal is
//     committed), and never goes back;
//   - a follower not caught up for replica.lag.time.max.ms is removed, one caught up to the high
//     watermark (and to the start of the leader's epoch) is added back, each through an
//     AlterPartition to the controller, one at a time; the answer, or a newer image, sets the ISR.
// As follower it appends the leader's batches as they are (offsets and epochs kept) and truncates
// where the leader's log diverges; the replica fetcher drives that.
// Listeners (`onAppend`) hear of appends, high watermark moves and leadership or ISR changes.
// Transactions: every batch put into the log (leader, follower, replay at load) goes through
// producer state, which tracks open transactions; the log's last stable offset follows it after
// every append and high watermark move. Transaction markers are appended here as leader for the
// WriteTxnMarkers API, after Kafka's producer-epoch and coordinator-epoch checks.
import type { Logger } from 'pino';
import { nextSequence } from '../../storage/producer-state.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { Log } from '../../storage/log.ts';
import type { LogConfig } from '../../storage/log-config.ts';
import type { BatchMetadata, ProducerStateManager } from '../../storage/producer-state.ts';
import { TRANSACTIONAL_MASK, readBatchHeader } from '../../protocol/records/batch-header.ts';
import { encodeEndTxnMarkerBatch } from '../../protocol/records/control-record.ts';
import { iterateBatches } from '../../protocol/records/record-batch.ts';
import { indexCompletedTxn, replayBatches } from '../../storage/transaction-state.ts';
import type { ValidatedRecords } from './append-validator.ts';
import { type AlterIsrRequest, type AlterIsrResult, FollowerStates } from './isr-state.ts';

export interface LeaderAppendResult {
  baseOffset: number;
  lastOffset: number;
  /** Broker time stamped for LogAppendTime topics, else -1. */
  logAppendTime: number;
  logStartOffset: number;
  /** The leader epoch the records carry (of the first append, for a duplicate acknowledged again). */
  leaderEpoch: number;
}

export type AppendListener = (partition: Partition) => void;

/** What a partition needs from the broker to manage its ISR; absent, the ISR never changes here. */
export interface PartitionReplication {
  now(): number;
  /** Sends an ISR change to the active controller; resolves with its answer. */
  alterIsr(partition: Partition, request: AlterIsrRequest): Promise<AlterIsrResult>;
  /** May this broker (with the epoch its fetches named) join an ISR: registered, unfenced, not shutting down. */
  isEligible(brokerId: number, brokerEpoch: bigint): boolean;
}

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
  private readonly replication: PartitionReplication | undefined;
  /** Fetch state of each follower, kept while this broker leads. */
  readonly followers = new FollowerStates();
  /** The ISR proposed to the controller and not yet answered (null when none is in flight). */
  private pendingIsr: readonly number[] | null = null;
  /** Bumped to disown an AlterPartition in flight (leadership or a newer image arrived). */
  private isrGeneration = 0;

  constructor(opts: {
    topic: string;
    partition: number;
    topicId: string;
    log: Log;
    producerState: ProducerStateManager;
    nodeId: number;
    logger: Logger;
    onAppend: AppendListener;
    replication?: PartitionReplication;
  }) {
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.topicId = opts.topicId;
    this.log = opts.log;
    this.producerState = opts.producerState;
    this.nodeId = opts.nodeId;
    this.logger = opts.logger;
    this.onAppend = opts.onAppend;
    this.replication = opts.replication;
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
    // The aborted-transaction entries from the replayed range on are rebuilt by the replay (an
    // entry sits in the segment holding its marker, so earlier segments are left alone).
    const segments = this.log.logSegments();
    for (let i = 0; i < segments.length; i++) if (i === segments.length - 1 || segments[i + 1]!.baseOffset > from) segments[i]!.txnIndex.truncateTo(from);
    let offset = from;
    while (offset < this.log.logEndOffset) {
      const { records } = await this.log.read(offset, READ_CHUNK, { minOneMessage: true });
      if (records.length === 0) break;
      const end = replayBatches(records, offset, this.producerState, this.log.logSegments());
      if (end <= offset) break;
      offset = end;
    }
    this.producerState.mapEndOffset = this.log.logEndOffset;
    this.refreshLastStable();
  }

  /** The log's last stable offset follows producer state's open and unreplicated transactions. */
  private refreshLastStable(): void {
    this.producerState.onHighWatermarkUpdated(this.log.highWatermark);
    this.log.updateFirstUnstableOffset(this.producerState.firstUnstableOffset());
  }

  /** Leadership and replica set from the metadata image. */
  update(leaderId: number, leaderEpoch: number, partitionEpoch: number, replicas: readonly number[], isr: readonly number[]): void {
    const becameLeader = leaderId === this.nodeId && (this.leaderId !== this.nodeId || leaderEpoch !== this.leaderEpoch);
    const sameLeadership = leaderId === this.leaderId && leaderEpoch === this.leaderEpoch;
    this.leaderId = leaderId;
    this.leaderEpoch = leaderEpoch;
    this.replicas = replicas;
    // An image older than the ISR an AlterPartition answer already gave is not taken.
    if (!sameLeadership || partitionEpoch >= this.partitionEpoch) {
      if (this.pendingIsr !== null && (!sameLeadership || partitionEpoch > this.partitionEpoch)) this.cancelPendingIsr();
      this.partitionEpoch = partitionEpoch;
      this.isr = isr;
    }
    if (becameLeader) {
      this.cancelPendingIsr();
      this.log.leaderEpochCache.assign(leaderEpoch, this.log.logEndOffset);
      this.followers.reset(replicas.filter((r) => r !== this.nodeId), this.isr, this.now());
      this.logger.info({ leaderEpoch, isr, logEndOffset: this.log.logEndOffset, highWatermark: this.log.highWatermark }, 'became leader');
    } else if (leaderId !== this.nodeId) {
      this.cancelPendingIsr();
      this.followers.clear();
    } else {
      this.followers.retain(replicas);
    }
    this.maybeIncrementHighWatermark();
    this.onAppend(this);
  }

  private now(): number {
    return this.replication?.now() ?? Date.now();
  }

  private cancelPendingIsr(): void {
    this.pendingIsr = null;
    this.isrGeneration++;
  }

  /** The committed ISR plus any member being added (Kafka's maximal ISR). */
  get maximalIsr(): readonly number[] {
    if (this.pendingIsr === null) return this.isr;
    const out = [...this.isr];
    for (const r of this.pendingIsr) if (!out.includes(r)) out.push(r);
    return out;
  }

  /** True while an ISR change is waiting for the controller's answer. */
  get isrChangePending(): boolean {
    return this.pendingIsr !== null;
  }

  /**
   * Leader: the smallest log end offset over the maximal ISR; moves the high watermark up to it
   * (never down) and wakes listeners when it moved. A member whose position is unknown holds it.
   */
  maybeIncrementHighWatermark(): boolean {
    if (!this.isLeader) return false;
    let hw = this.log.logEndOffset;
    for (const r of this.maximalIsr) {
      if (r === this.nodeId) continue;
      hw = Math.min(hw, this.followers.get(r)?.logEndOffset ?? -1);
    }
    if (hw <= this.log.highWatermark) return false;
    this.log.updateHighWatermark(hw);
    this.refreshLastStable();
    return true;
  }

  /**
   * Leader: a follower fetched from `fetchOffset` when this log ended at `leaderEndOffset`.
   * Records its position, may move the high watermark and may propose it back into the ISR.
   */
  updateFollowerFetchState(replicaId: number, fetchOffset: number, leaderEndOffset: number, brokerEpoch: bigint): void {
    if (!this.isLeader || !this.replicas.includes(replicaId) || replicaId === this.nodeId) return;
    this.followers.recordFetch(replicaId, fetchOffset, leaderEndOffset, this.now(), brokerEpoch);
    this.maybeExpandIsr(replicaId);
    if (this.maybeIncrementHighWatermark()) this.onAppend(this);
  }

  /** Kafka's isFollowerInSync: caught up to the high watermark and into the current epoch. */
  private maybeExpandIsr(replicaId: number): void {
    if (this.pendingIsr !== null || this.isr.includes(replicaId) || !this.replication) return;
    const s = this.followers.get(replicaId);
    if (!s || s.logEndOffset < this.log.highWatermark) return;
    const epochStart = this.log.leaderEpochCache.latestEntry();
    if (!epochStart || epochStart.epoch !== this.leaderEpoch || s.logEndOffset < epochStart.startOffset) return;
    if (!this.replication.isEligible(replicaId, s.brokerEpoch)) return;
    this.proposeIsr([...this.isr, replicaId], 'caught up');
  }

  /** Leader: removes from the ISR the followers not caught up for `lagTimeMaxMs`. */
  maybeShrinkIsr(lagTimeMaxMs: number): void {
    if (!this.isLeader || this.pendingIsr !== null || !this.replication) return;
    const now = this.now();
    const outOfSync = this.followers.outOfSync(this.isr.filter((r) => r !== this.nodeId), now, lagTimeMaxMs);
    if (outOfSync.length === 0) return;
    this.proposeIsr(
      this.isr.filter((r) => !outOfSync.includes(r)),
      `not caught up within ${lagTimeMaxMs} ms: ${outOfSync.join(',')}`,
    );
  }

  private proposeIsr(newIsr: readonly number[], reason: string): void {
    const replication = this.replication!;
    const generation = ++this.isrGeneration;
    this.pendingIsr = newIsr;
    const request: AlterIsrRequest = {
      leaderEpoch: this.leaderEpoch,
      partitionEpoch: this.partitionEpoch,
      newIsr: newIsr.map((r) => ({ brokerId: r, brokerEpoch: r === this.nodeId ? -1n : (this.followers.get(r)?.brokerEpoch ?? -1n) })),
    };
    this.logger.info({ isr: this.isr, newIsr, reason, partitionEpoch: this.partitionEpoch }, 'proposing an ISR change');
    const settle = (result: AlterIsrResult): void => {
      if (generation !== this.isrGeneration) return;
      this.pendingIsr = null;
      if (result.errorCode !== ErrorCode.NONE) {
        this.logger.info({ newIsr, errorCode: result.errorCode }, 'the controller refused the ISR change');
      } else if (result.leaderEpoch === this.leaderEpoch && result.partitionEpoch >= this.partitionEpoch) {
        this.isr = result.isr;
        this.partitionEpoch = result.partitionEpoch;
        this.logger.info({ isr: result.isr, partitionEpoch: result.partitionEpoch }, 'ISR changed');
      }
      this.maybeIncrementHighWatermark();
      this.onAppend(this);
    };
    replication.alterIsr(this, request).then(settle, (err: unknown) => {
      this.logger.warn({ err, newIsr }, 'ISR change not sent; it is retried');
      settle({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, leaderEpoch: -1, partitionEpoch: -1, isr: [] });
    });
  }

  /**
   * Kafka's checkEnoughReplicasReachOffset, for acks=all: undefined while the high watermark is
   * below `requiredOffset`, else the answer (NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR
   * shrank below min.insync.replicas meanwhile).
   * Once this broker follows another leader, Kafka answers NOT_LEADER_OR_FOLLOWER at once,
   * though the new leader may have the records; a client that takes that answer for "not
   * written" (librdkafka does) then sends them again under a new producer epoch: a duplicate no
   * broker can recognise. Given the epoch the records were written in (`appendEpoch`), this
   * answers what became of them instead: NONE once this replica's log, following the new leader,
   * holds their end in that epoch below the high watermark (a follower's high watermark comes
   * after truncation of any diverging tail); NOT_LEADER_OR_FOLLOWER once they were truncated away
   * or when there is no leader to follow; nothing yet in between.
   */
  checkEnoughReplicasReachOffset(requiredOffset: number, appendEpoch?: number): number | undefined {
    if (!this.isLeader) {
      if (appendEpoch === undefined || this.leaderId < 0 || !this.replicas.includes(this.nodeId)) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
      const log = this.log;
      if (log.logEndOffset < requiredOffset || log.leaderEpochCache.epochForOffset(requiredOffset - 1) !== appendEpoch) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
      return log.highWatermark >= requiredOffset ? ErrorCode.NONE : undefined;
    }
    if (this.log.highWatermark < requiredOffset) return undefined;
    return this.isr.length >= this.config.minInsyncReplicas ? ErrorCode.NONE : ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND;
  }

  // ---- follower ----------------------------------------------------------------------------

  /**
   * Follower: appends the leader's batches as they are (offsets and leader epochs kept; the
   * leader-epoch cache follows the batches), and replays their producer state.
   */
  async appendAsFollower(records: Buffer): Promise<number> {
    // Whole batches only (a fetch answer may end in a partial one); those wholly below the log
    // end were written from an earlier answer.
    let start = -1;
    let end = 0;
    const leo = this.log.logEndOffset;
    for (const e of iterateBatches(records)) {
      const h = readBatchHeader(records, e.position);
      if (start < 0 && Number(h.baseOffset) + h.lastOffsetDelta >= leo) start = e.position;
      end = e.position + e.size;
    }
    if (start < 0 || start >= end) return 0;
    const buf = records.subarray(start, end);
    const res = await this.log.append(buf, { assignOffsets: false });
    replayBatches(buf, 0, this.producerState, this.log.logSegments());
    this.producerState.mapEndOffset = res.lastOffset + 1;
    this.refreshLastStable();
    this.onAppend(this);
    return res.lastOffset + 1 - res.firstOffset;
  }

  /** Follower: takes the leader's high watermark (up to its own log end, never down). */
  updateFollowerHighWatermark(leaderHighWatermark: number): void {
    const next = Math.min(leaderHighWatermark, this.log.logEndOffset);
    if (next > this.log.highWatermark) {
      this.log.updateHighWatermark(next);
      this.refreshLastStable();
      this.onAppend(this);
    }
  }

  /** Follower: removes everything from `offset` on (a diverging log) and rebuilds producer state. */
  async truncateTo(offset: number): Promise<void> {
    if (offset >= this.log.logEndOffset) {
      // As Kafka's UnifiedLog.truncateTo: an epoch this replica began as leader without appending
      // anything may end its epoch cache at the log end. The leader's divergence answer points
      // at the log end then; unless that entry goes, every fetch names the empty epoch and is
      // answered with the same divergence, and the follower never catches up.
      this.log.leaderEpochCache.truncateFromEnd(this.log.logEndOffset);
      return;
    }
    this.logger.info({ offset, logEndOffset: this.log.logEndOffset, highWatermark: this.log.highWatermark }, 'truncating diverging log');
    await this.log.truncateTo(offset);
    this.producerState.clear(0);
    await this.loadProducerState();
    // acks=all waiters of a batch just truncated away are answered now.
    this.onAppend(this);
  }

  /** Follower: the leader no longer has our next offset; start over at its log start. */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    this.logger.info({ offset, logEndOffset: this.log.logEndOffset }, 'restarting the log at the leader\'s log start offset');
    await this.log.truncateFullyAndStartAt(offset);
    this.producerState.clear(offset);
    await this.loadProducerState();
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
    const began: bigint[] = [];
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
      const isTransactional = (h.attributes & TRANSACTIONAL_MASK) !== 0;
      const txnError = this.producerState.checkTxnData(h.producerId, isTransactional);
      if (txnError !== null) throw new KafkaError(ErrorCode.INVALID_TXN_STATE, txnError);
      if (isTransactional && !this.producerState.hasOngoingTransaction(h.producerId)) {
        this.producerState.beginPendingTxn(h.producerId);
        began.push(h.producerId);
      }
      const batch: BatchMetadata = { firstSeq: h.baseSequence, lastSeq, firstOffset: -1, lastOffset: -1, timestamp: Number(h.maxTimestamp) };
      this.producerState.update(h.producerId, h.producerEpoch, batch);
      pending.push({ batch, producerId: h.producerId });
    }
    const leaderEpoch = this.leaderEpoch;
    const appended = this.log.append(v.records, { assignOffsets: true, leaderEpoch });
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
            if ((b.header.attributes & TRANSACTIONAL_MASK) !== 0) this.producerState.onTransactionalData(p.producerId, next);
          }
          next += count;
        }
        this.producerState.mapEndOffset = res.lastOffset + 1;
        this.maybeIncrementHighWatermark();
        this.refreshLastStable();
        this.onAppend(this);
        return { baseOffset: res.firstOffset, lastOffset: res.lastOffset, logAppendTime: res.logAppendTime, logStartOffset: res.logStartOffset, leaderEpoch };
      },
      (err: unknown) => {
        // The batch never reached the log: forget it so a retry is not taken for a duplicate.
        for (const p of pending) {
          const e = this.producerState.entry(p.producerId);
          if (e) e.batches = e.batches.filter((b) => b !== p.batch);
        }
        for (const pid of began) this.producerState.cancelPendingTxn(pid);
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

  /**
   * Appends a COMMIT or ABORT marker as leader (WriteTxnMarkers), after Kafka's checks: the
   * producer epoch may not go back (INVALID_PRODUCER_EPOCH) nor the coordinator epoch
   * (TRANSACTION_COORDINATOR_FENCED). Markers are written with acks=all, so the ISR must satisfy
   * min.insync.replicas. Resolves with the marker's offset once it is in the log.
   */
  appendTxnMarkerAsLeader(m: { producerId: bigint; producerEpoch: number; commit: boolean; coordinatorEpoch: number }, timestamp: number): Promise<number> {
    this.checkLeader();
    if (this.isr.length < this.config.minInsyncReplicas) {
      throw new KafkaError(ErrorCode.NOT_ENOUGH_REPLICAS, `The size of the current ISR ${JSON.stringify(this.isr)} is insufficient to satisfy the min.isr requirement of ${this.config.minInsyncReplicas} for partition ${this.name}`);
    }
    const check = this.producerState.checkEndTxnMarker(m.producerId, m.producerEpoch, m.coordinatorEpoch);
    if (check.kind === 'invalid-epoch') throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, check.message);
    if (check.kind === 'fenced') throw new KafkaError(ErrorCode.TRANSACTION_COORDINATOR_FENCED, check.message);
    const batch = encodeEndTxnMarkerBatch({ producerId: m.producerId, producerEpoch: m.producerEpoch, commit: m.commit, coordinatorEpoch: m.coordinatorEpoch, timestamp: BigInt(timestamp) });
    this.producerState.noteMarkerStarted(m.producerId);
    return this.log.append(batch, { assignOffsets: true, leaderEpoch: this.leaderEpoch }).then((res) => {
      const txn = this.producerState.appendEndTxnMarker(m.producerId, m.producerEpoch, m.commit, m.coordinatorEpoch, res.lastOffset, timestamp);
      if (txn !== null) indexCompletedTxn(this.log.logSegments(), this.producerState, txn);
      this.producerState.mapEndOffset = res.lastOffset + 1;
      this.maybeIncrementHighWatermark();
      this.refreshLastStable();
      this.onAppend(this);
      return res.lastOffset;
    });
  }

  private async duplicateResult(batch: BatchMetadata): Promise<LeaderAppendResult> {
    if (batch.pending) await batch.pending;
    if (batch.firstOffset < 0) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `The original append of this batch to ${this.name} failed; retry`);
    this.logger.debug({ firstSeq: batch.firstSeq, lastSeq: batch.lastSeq, offset: batch.firstOffset }, 'duplicate batch acknowledged without re-append');
    return { baseOffset: batch.firstOffset, lastOffset: batch.lastOffset, logAppendTime: -1, logStartOffset: this.log.logStartOffset, leaderEpoch: this.log.leaderEpochCache.epochForOffset(batch.lastOffset) ?? -1 };
  }

  /** Writes the producer-state snapshot at the log end (the log itself is closed by the log manager). */
  async snapshotProducerState(): Promise<void> {
    this.producerState.mapEndOffset = this.log.logEndOffset;
    await this.producerState.takeSnapshot().catch((err: unknown) => this.logger.warn({ err }, 'failed to write the producer state snapshot'));
  }
}
