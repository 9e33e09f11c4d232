// One `__transaction_state` partition's transactions: Kafka's TransactionStateManager and the
// state machine of its TransactionCoordinator, as a coordinator-runtime shard. Every change of a
// transactional id's metadata is a record (replayed at once, answered once committed); what is
// not in the log is work in progress: the markers being sent for a prepared transaction.
// Transitions (Kafka's): Empty|CompleteCommit|CompleteAbort → Empty (InitProducerId: epoch bump,
// or a new producer id once the epoch is exhausted) → Ongoing (AddPartitions/AddOffsets) →
// PrepareCommit|PrepareAbort (EndTxn; answered once written) → CompleteCommit|CompleteAbort
// (written once every partition's leader has the marker). An InitProducerId or a timeout that
// meets an Ongoing transaction fences it: PrepareAbort at epoch+1 (Kafka's PrepareEpochFence,
// which it never writes), and the caller gets CONCURRENT_TRANSACTIONS until the abort completes.
// A prepared transaction answers CONCURRENT_TRANSACTIONS to every other call meanwhile; a
// transactional id idle in a completed state for transactional.id.expiration.ms is tombstoned.
// On load, prepared transactions resume sending their markers, as Kafka does.
import { ErrorCode, errorCodeOf } from '../../protocol/errors.ts';
import type { CoordinatorResult, CoordinatorShard, ShardContext } from '../coordinator/coordinator-runtime.ts';
import { TimelineMap } from '../coordinator/timeline.ts';
import {
  isEpochExhausted,
  MAX_PRODUCER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  sortPartitions,
  type TopicPartition,
  type TxnMetadata,
  type TxnRecord,
  TxnState,
  txnStateName,
  VALID_PREVIOUS_STATES,
} from './transaction-log.ts';

export interface TxnCoordinatorConfig {
  /** transaction.max.timeout.ms */
  transactionMaxTimeoutMs: number;
  /** transactional.id.expiration.ms */
  transactionalIdExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  abortTimedOutTransactionsIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms */
  removeExpiredTransactionalIdsIntervalMs: number;
  /** Backoff before writing a transaction's completion again after a failed write. */
  retryBackoffMs: number;
}

export interface MarkerRequest {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  commit: boolean;
  partitions: readonly TopicPartition[];
}

/** Delivers transaction markers to the partitions' leaders (WriteTxnMarkers). */
export interface TxnMarkerSender {
  /**
   * Resolves once every partition's leader has the marker (or the partition is gone), retrying
   * retriable errors while `cancelled()` is false; rejects when this coordinator was fenced.
   */
  send(request: MarkerRequest, cancelled: () => boolean): Promise<void>;
}

export interface InitProducerIdOutcome {
  errorCode: number;
  producerId: bigint;
  producerEpoch: number;
  /** The op needs a fresh producer id: the caller generates one and runs it again. */
  needProducerId?: boolean;
}

export type TxnResult<T> = CoordinatorResult<TxnRecord, T>;

function err<T>(response: T): TxnResult<T> {
  return { records: [], response };
}

function initError(errorCode: number): InitProducerIdOutcome {
  return { errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH };
}

/** Kafka's prepareTransitionTo check: an illegal transition is a coordinator bug, not a client error. */
function transition(from: TxnMetadata, to: Partial<TxnMetadata> & { state: TxnState }): TxnMetadata {
  if (!VALID_PREVIOUS_STATES[to.state].includes(from.state)) {
    throw new Error(`illegal transition of ${from.transactionalId} from ${txnStateName(from.state)} to ${txnStateName(to.state)}`);
  }
  return { ...from, ...to };
}

export class TransactionShard implements CoordinatorShard<TxnRecord> {
  readonly txns: TimelineMap<string, TxnMetadata>;
  private readonly ctx: ShardContext<TxnRecord, TransactionShard>;
  private readonly config: TxnCoordinatorConfig;
  private readonly markers: TxnMarkerSender;
  /** Transactional ids whose markers are being sent (work, not state). */
  private readonly sending = new Set<string>();

  constructor(ctx: ShardContext<TxnRecord, TransactionShard>, config: TxnCoordinatorConfig, markers: TxnMarkerSender) {
    this.ctx = ctx;
    this.config = config;
    this.markers = markers;
    this.txns = new TimelineMap(ctx.registry);
  }

  replay(r: TxnRecord): void {
    if (r.metadata === null) this.txns.delete(r.transactionalId);
    else this.txns.set(r.transactionalId, r.metadata);
  }

  onLoaded(): void {
    this.ctx.timers.every('abort-timed-out-transactions', this.config.abortTimedOutTransactionsIntervalMs, () => this.abortTimedOutTransactions());
    this.ctx.timers.every('remove-expired-transactional-ids', this.config.removeExpiredTransactionalIdsIntervalMs, () => this.removeExpiredTransactionalIds());
    for (const m of this.txns.values()) if (m.state === TxnState.PrepareCommit || m.state === TxnState.PrepareAbort) this.sendMarkers(m.transactionalId);
  }

  onUnloaded(): void {
    this.sending.clear();
  }

  /** Ids whose markers are in flight (tests, DescribeTransactions). */
  markersInFlight(): ReadonlySet<string> {
    return this.sending;
  }

  // ---- InitProducerId ----

  initProducerId(transactionalId: string, txnTimeoutMs: number, expected: { producerId: bigint; producerEpoch: number } | null, newProducerId: bigint | null): TxnResult<InitProducerIdOutcome> {
    const now = this.ctx.now();
    let m = this.txns.get(transactionalId);
    if (!m) {
      if (newProducerId === null) return err({ ...initError(ErrorCode.NONE), needProducerId: true });
      m = {
        transactionalId,
        producerId: newProducerId,
        lastProducerId: NO_PRODUCER_ID,
        producerEpoch: NO_PRODUCER_EPOCH,
        lastProducerEpoch: NO_PRODUCER_EPOCH,
        txnTimeoutMs,
        state: TxnState.Empty,
        partitions: [],
        txnStartTimestamp: -1,
        txnLastUpdateTimestamp: now,
      };
    }
    if (expected && !(m.producerEpoch === NO_PRODUCER_EPOCH || expected.producerId === m.producerId || (expected.producerId === m.lastProducerId && isEpochExhausted(expected.producerEpoch)))) {
      return err(initError(ErrorCode.PRODUCER_FENCED));
    }
    switch (m.state) {
      case TxnState.PrepareCommit:
      case TxnState.PrepareAbort:
        return err(initError(ErrorCode.CONCURRENT_TRANSACTIONS));
      case TxnState.Ongoing: {
        // Fence the producer and abort its transaction first; the caller retries after it.
        const fenced = this.fence(m, now);
        return { records: [{ transactionalId, metadata: fenced }], response: initError(ErrorCode.CONCURRENT_TRANSACTIONS), onCommitted: () => this.sendMarkers(transactionalId) };
      }
      case TxnState.Empty:
      case TxnState.CompleteCommit:
      case TxnState.CompleteAbort: {
        let next: TxnMetadata;
        if (isEpochExhausted(m.producerEpoch) && (!expected || expected.producerEpoch === m.producerEpoch)) {
          if (newProducerId === null) return err({ ...initError(ErrorCode.NONE), needProducerId: true });
          next = transition(m, {
            state: TxnState.Empty,
            producerId: newProducerId,
            lastProducerId: m.producerId,
            producerEpoch: 0,
            lastProducerEpoch: expected ? m.producerEpoch : NO_PRODUCER_EPOCH,
            txnTimeoutMs,
            partitions: [],
            txnStartTimestamp: -1,
            txnLastUpdateTimestamp: now,
          });
        } else {
          const bumped = m.producerEpoch + 1;
          let epochs: [number, number];
          if (!expected) epochs = [bumped, NO_PRODUCER_EPOCH];
          else if (m.producerEpoch === NO_PRODUCER_EPOCH || expected.producerEpoch === m.producerEpoch) epochs = [bumped, m.producerEpoch];
          else if (expected.producerEpoch === m.lastProducerEpoch) epochs = [m.producerEpoch, m.lastProducerEpoch];
          else return err(initError(ErrorCode.PRODUCER_FENCED));
          next = transition(m, { state: TxnState.Empty, producerEpoch: epochs[0], lastProducerEpoch: epochs[1], txnTimeoutMs, partitions: [], txnStartTimestamp: -1, txnLastUpdateTimestamp: now });
        }
        return { records: [{ transactionalId, metadata: next }], response: { errorCode: ErrorCode.NONE, producerId: next.producerId, producerEpoch: next.producerEpoch } };
      }
      default:
        throw new Error(`transactional id ${transactionalId} found in state ${txnStateName(m.state)}`);
    }
  }

  /** Kafka's prepareFenceProducerEpoch + the abort it starts: PrepareAbort at the next epoch. */
  private fence(m: TxnMetadata, now: number): TxnMetadata {
    if (m.producerEpoch >= MAX_PRODUCER_EPOCH) throw new Error(`cannot fence ${m.transactionalId}: its epoch is exhausted`);
    return transition(m, { state: TxnState.PrepareAbort, producerEpoch: m.producerEpoch + 1, lastProducerEpoch: NO_PRODUCER_EPOCH, txnLastUpdateTimestamp: now });
  }

  // ---- AddPartitionsToTxn, AddOffsetsToTxn ----

  addPartitions(transactionalId: string, producerId: bigint, producerEpoch: number, partitions: readonly TopicPartition[]): TxnResult<number> {
    const m = this.txns.get(transactionalId);
    if (!m || m.producerId !== producerId) return err(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (m.producerEpoch !== producerEpoch) return err(ErrorCode.PRODUCER_FENCED);
    if (m.state === TxnState.PrepareCommit || m.state === TxnState.PrepareAbort) return err(ErrorCode.CONCURRENT_TRANSACTIONS);
    const have = new Set(m.partitions.map((p) => `${p.topic}\u0000${p.partition}`));
    if (m.state === TxnState.Ongoing && partitions.every((p) => have.has(`${p.topic}\u0000${p.partition}`))) return err(ErrorCode.NONE);
    const now = this.ctx.now();
    const starting = m.state === TxnState.Empty || m.state === TxnState.CompleteCommit || m.state === TxnState.CompleteAbort;
    const next = transition(m, {
      state: TxnState.Ongoing,
      partitions: sortPartitions([...(starting ? [] : m.partitions), ...partitions]),
      txnStartTimestamp: starting ? now : m.txnStartTimestamp,
      txnLastUpdateTimestamp: now,
    });
    return { records: [{ transactionalId, metadata: next }], response: ErrorCode.NONE };
  }

  /** AddPartitionsToTxn v4+ verifyOnly (the partition leaders' check): one code per partition, no change. */
  verifyPartitions(transactionalId: string, producerId: bigint, producerEpoch: number, partitions: readonly TopicPartition[]): number[] {
    const m = this.txns.get(transactionalId);
    let all: number | null = null;
    if (!m || m.producerId !== producerId) all = ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    else if (m.producerEpoch !== producerEpoch) all = ErrorCode.PRODUCER_FENCED;
    else if (m.state === TxnState.PrepareCommit || m.state === TxnState.PrepareAbort) all = ErrorCode.CONCURRENT_TRANSACTIONS;
    if (all !== null) return partitions.map(() => all);
    const have = new Set(m!.partitions.map((p) => `${p.topic}\u0000${p.partition}`));
    return partitions.map((p) => (have.has(`${p.topic}\u0000${p.partition}`) ? ErrorCode.NONE : ErrorCode.TRANSACTION_ABORTABLE));
  }

  // ---- EndTxn ----

  endTxn(transactionalId: string, producerId: bigint, producerEpoch: number, commit: boolean, fromClient = true): TxnResult<number> {
    const m = this.txns.get(transactionalId);
    if (!m || m.producerId !== producerId) return err(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if ((fromClient && producerEpoch !== m.producerEpoch) || producerEpoch < m.producerEpoch) return err(ErrorCode.PRODUCER_FENCED);
    switch (m.state) {
      case TxnState.Ongoing: {
        const next = transition(m, { state: commit ? TxnState.PrepareCommit : TxnState.PrepareAbort, producerEpoch, txnLastUpdateTimestamp: this.ctx.now() });
        return { records: [{ transactionalId, metadata: next }], response: ErrorCode.NONE, onCommitted: () => this.sendMarkers(transactionalId) };
      }
      case TxnState.CompleteCommit:
        return err(commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE);
      case TxnState.CompleteAbort:
        return err(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE);
      case TxnState.PrepareCommit:
        return err(commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
      case TxnState.PrepareAbort:
        return err(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS);
      default:
        return err(ErrorCode.INVALID_TXN_STATE);
    }
  }

  // ---- markers and completion ----

  private sendMarkers(transactionalId: string): void {
    const m = this.txns.get(transactionalId);
    if (!m || (m.state !== TxnState.PrepareCommit && m.state !== TxnState.PrepareAbort) || this.sending.has(transactionalId)) return;
    this.sending.add(transactionalId);
    const commit = m.state === TxnState.PrepareCommit;
    const request: MarkerRequest = { transactionalId, producerId: m.producerId, producerEpoch: m.producerEpoch, coordinatorEpoch: this.ctx.epoch, commit, partitions: m.partitions };
    const sent = this.markers.send(request, () => !this.ctx.isActive()).then(
      () => {
        this.sending.delete(transactionalId);
        if (this.ctx.isActive()) this.complete(m);
      },
      (e: unknown) => {
        this.sending.delete(transactionalId);
        this.ctx.logger.warn({ err: e, transactionalId }, 'stopped sending transaction markers: this coordinator was fenced');
      },
    );
    this.ctx.watch(`markers:${transactionalId}`, sent);
  }

  /** Writes CompleteCommit/CompleteAbort once the markers of `prepared` are all written. */
  private complete(prepared: TxnMetadata): void {
    const id = prepared.transactionalId;
    const write = this.ctx.write('complete-transaction', (shard) => {
      const cur = shard.txns.get(id);
      if (cur !== prepared) return { records: [], response: undefined };
      const next = transition(cur, {
        state: cur.state === TxnState.PrepareCommit ? TxnState.CompleteCommit : TxnState.CompleteAbort,
        partitions: [],
        txnLastUpdateTimestamp: this.ctx.now(),
      });
      return { records: [{ transactionalId: id, metadata: next }], response: undefined };
    });
    this.ctx.watch(
      `complete:${id}`,
      write.catch((e: unknown) => {
        const code = errorCodeOf(e);
        if (code === ErrorCode.NOT_COORDINATOR || !this.ctx.isActive()) return;
        this.ctx.logger.warn({ err: e, transactionalId: id }, 'could not write the transaction completion; retrying');
        this.ctx.timers.schedule(`complete:${id}`, this.config.retryBackoffMs, () => this.complete(prepared));
      }),
    );
  }

  // ---- timers ----

  /** Kafka's abortTimedOutTransactions: Ongoing past its timeout → fenced and aborted. */
  abortTimedOutTransactions(): Promise<unknown> | undefined {
    const now = this.ctx.now();
    const expired = [...this.txns.values()].filter((m) => m.state === TxnState.Ongoing && m.txnStartTimestamp + m.txnTimeoutMs < now);
    // Nothing to do: no promise, so the next tick is never skipped as overlapping this one.
    if (expired.length === 0) return undefined;
    return Promise.all(
      expired.map((m) => {
        this.ctx.logger.info({ transactionalId: m.transactionalId, producerId: String(m.producerId), producerEpoch: m.producerEpoch }, 'aborting a transaction past its timeout');
        return this.ctx
          .write('abort-timed-out-transaction', (shard) => {
            const cur = shard.txns.get(m.transactionalId);
            if (cur !== m) return { records: [], response: undefined };
            return { records: [{ transactionalId: m.transactionalId, metadata: this.fence(cur, now) }], response: undefined, onCommitted: () => this.sendMarkers(m.transactionalId) };
          })
          .catch((e: unknown) => this.ctx.logger.warn({ err: e, transactionalId: m.transactionalId }, 'could not abort a timed-out transaction; the next check tries again'));
      }),
    );
  }

  /** Kafka's removeExpiredTransactionalIds: idle completed ids are tombstoned. */
  removeExpiredTransactionalIds(): Promise<unknown> | undefined {
    const now = this.ctx.now();
    const expired = [...this.txns.values()].filter(
      (m) =>
        (m.state === TxnState.Empty || m.state === TxnState.CompleteCommit || m.state === TxnState.CompleteAbort) &&
        m.txnLastUpdateTimestamp <= now - this.config.transactionalIdExpirationMs &&
        !this.sending.has(m.transactionalId),
    );
    if (expired.length === 0) return undefined;
    return this.ctx
      .write('remove-expired-transactional-ids', (shard) => ({
        records: expired.filter((m) => shard.txns.get(m.transactionalId) === m).map((m) => ({ transactionalId: m.transactionalId, metadata: null })),
        response: undefined,
      }))
      .then(() => this.ctx.logger.info({ count: expired.length }, 'removed expired transactional ids'))
      .catch((e: unknown) => this.ctx.logger.warn({ err: e }, 'could not remove expired transactional ids; the next check tries again'));
  }
}
