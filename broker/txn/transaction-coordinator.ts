// The transaction coordinator (Kafka's TransactionCoordinator) on the coordinator runtime: one
// TransactionShard per `__transaction_state` partition this broker leads. This module is the
// request-facing side: it finds a transactional id's partition, checks what Kafka checks before
// touching state (empty ids, the timeout bound), runs the op on the shard and turns runtime
// errors (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, a failed write) into the error code
// the client gets. New producer ids come from the producer-id manager, asked only when an op
// says it needs one (a new transactional id, or an exhausted epoch).
import type { Logger } from 'pino';
import { ErrorCode, errorCodeOf, KafkaError } from '../../protocol/errors.ts';
import type { Scheduler } from '../../protocol/scheduler.ts';
import { CoordinatorRuntime } from '../coordinator/coordinator-runtime.ts';
import type { CoordinatorPartitionLog } from '../coordinator/partition-log.ts';
import { byTopic, partitionForTransactionalId, type TopicPartition, type TxnRecord, txnSerde, txnStateByName, txnStateName } from './transaction-log.ts';
import { type InitProducerIdOutcome, type TxnCoordinatorConfig, type TxnMarkerSender, TransactionShard } from './transaction-shard.ts';

export interface TransactionCoordinatorOptions {
  config: TxnCoordinatorConfig;
  /** transaction.state.log.num.partitions until the topic exists. */
  partitionCount: number;
  log: CoordinatorPartitionLog;
  markers: TxnMarkerSender;
  producerIds: { generate(): Promise<bigint> };
  scheduler: Scheduler;
  logger: Logger;
  /** Creates `__transaction_state` when it does not exist yet. */
  ensureTopic?: () => Promise<void>;
  /** Releases what the coordinator holds beyond its shards (the marker connections). */
  onShutdown?: () => Promise<void>;
}

export interface TransactionDescription {
  errorCode: number;
  transactionalId: string;
  transactionState: string;
  transactionTimeoutMs: number;
  transactionStartTimeMs: bigint;
  producerId: bigint;
  producerEpoch: number;
  topics: { topic: string; partitions: number[] }[];
}

export interface TransactionListing {
  transactionalId: string;
  producerId: bigint;
  transactionState: string;
}

export class TransactionCoordinator {
  readonly runtime: CoordinatorRuntime<TxnRecord, TransactionShard>;
  readonly config: TxnCoordinatorConfig;
  private readonly opts: TransactionCoordinatorOptions;
  private partitionCount: number;

  constructor(opts: TransactionCoordinatorOptions) {
    this.opts = opts;
    this.config = opts.config;
    this.partitionCount = opts.partitionCount;
    this.runtime = new CoordinatorRuntime<TxnRecord, TransactionShard>({
      name: 'txn',
      log: opts.log,
      serde: txnSerde,
      newShard: (ctx) => new TransactionShard(ctx, opts.config, opts.markers),
      scheduler: opts.scheduler,
      logger: opts.logger,
    });
  }

  // ---- leadership (driven by metadata images) ----

  setPartitionCount(n: number): void {
    if (n > 0) this.partitionCount = n;
  }

  partitionFor(transactionalId: string): number {
    return partitionForTransactionalId(transactionalId, this.partitionCount);
  }

  elect(partition: number, epoch: number): Promise<void> {
    return this.runtime.elect(partition, epoch);
  }

  resign(partition: number, epoch?: number): void {
    this.runtime.resign(partition, epoch);
  }

  partitions(): ReadonlyMap<number, { epoch: number; loading: boolean }> {
    return this.runtime.partitions();
  }

  ensureTopic(): Promise<void> {
    return this.opts.ensureTopic ? this.opts.ensureTopic() : Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.runtime.shutdown();
    return this.opts.onShutdown ? this.opts.onShutdown() : Promise.resolve();
  }

  // ---- APIs ----

  async initProducerId(transactionalId: string, txnTimeoutMs: number, expected: { producerId: bigint; producerEpoch: number } | null): Promise<InitProducerIdOutcome> {
    const fail = (errorCode: number): InitProducerIdOutcome => ({ errorCode, producerId: -1n, producerEpoch: -1 });
    if (transactionalId.length === 0) return fail(ErrorCode.INVALID_REQUEST);
    if (txnTimeoutMs <= 0 || txnTimeoutMs > this.config.transactionMaxTimeoutMs) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    const partition = this.partitionFor(transactionalId);
    let newProducerId: bigint | null = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      let out: InitProducerIdOutcome;
      try {
        out = await this.runtime.write(partition, 'init-producer-id', (s) => s.initProducerId(transactionalId, txnTimeoutMs, expected, newProducerId));
      } catch (err) {
        return fail(this.codeOf(err));
      }
      if (!out.needProducerId) return out;
      try {
        newProducerId = await this.opts.producerIds.generate();
      } catch (err) {
        return fail(this.codeOf(err));
      }
    }
    return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
  }

  async addPartitions(transactionalId: string, producerId: bigint, producerEpoch: number, partitions: readonly TopicPartition[]): Promise<number> {
    if (transactionalId.length === 0) return ErrorCode.INVALID_REQUEST;
    try {
      return await this.runtime.write(this.partitionFor(transactionalId), 'add-partitions', (s) => s.addPartitions(transactionalId, producerId, producerEpoch, partitions));
    } catch (err) {
      return this.codeOf(err);
    }
  }

  /** AddPartitionsToTxn verifyOnly: one code per partition. */
  verifyPartitions(transactionalId: string, producerId: bigint, producerEpoch: number, partitions: readonly TopicPartition[]): number[] {
    if (transactionalId.length === 0) return partitions.map(() => ErrorCode.INVALID_REQUEST);
    try {
      return this.runtime.read(this.partitionFor(transactionalId), (s) => s.verifyPartitions(transactionalId, producerId, producerEpoch, partitions));
    } catch (err) {
      const code = this.codeOf(err);
      return partitions.map(() => code);
    }
  }

  async endTxn(transactionalId: string, producerId: bigint, producerEpoch: number, commit: boolean): Promise<number> {
    if (transactionalId.length === 0) return ErrorCode.INVALID_REQUEST;
    try {
      return await this.runtime.write(this.partitionFor(transactionalId), commit ? 'end-txn-commit' : 'end-txn-abort', (s) => s.endTxn(transactionalId, producerId, producerEpoch, commit));
    } catch (err) {
      return this.codeOf(err);
    }
  }

  describe(transactionalId: string): TransactionDescription {
    const none = (errorCode: number): TransactionDescription => ({
      errorCode,
      transactionalId,
      transactionState: '',
      transactionTimeoutMs: 0,
      transactionStartTimeMs: -1n,
      producerId: -1n,
      producerEpoch: -1,
      topics: [],
    });
    try {
      const m = this.runtime.read(this.partitionFor(transactionalId), (s) => s.txns.get(transactionalId));
      if (!m) return none(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
      return {
        errorCode: ErrorCode.NONE,
        transactionalId,
        transactionState: txnStateName(m.state),
        transactionTimeoutMs: m.txnTimeoutMs,
        transactionStartTimeMs: BigInt(m.txnStartTimestamp),
        producerId: m.producerId,
        producerEpoch: m.producerEpoch,
        topics: byTopic(m.partitions),
      };
    } catch (err) {
      return none(this.codeOf(err));
    }
  }

  /** ListTransactions over the loaded partitions; `durationMs` >= 0 keeps those running longer than it. */
  list(stateFilters: readonly string[], producerIdFilters: readonly bigint[], durationMs: number): { errorCode: number; unknownStateFilters: string[]; transactions: TransactionListing[] } {
    const unknownStateFilters = stateFilters.filter((s) => txnStateByName(s) === undefined);
    const states = new Set(stateFilters.map(txnStateByName).filter((s) => s !== undefined));
    const pids = new Set(producerIdFilters);
    const now = this.opts.scheduler.now();
    const transactions: TransactionListing[] = [];
    if (this.runtime.anyLoading()) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, unknownStateFilters, transactions };
    for (const { shard } of this.runtime.loadedShards()) {
      for (const m of shard.txns.values()) {
        if (stateFilters.length > 0 && !states.has(m.state)) continue;
        if (pids.size > 0 && !pids.has(m.producerId)) continue;
        if (durationMs >= 0 && now - m.txnStartTimestamp <= durationMs) continue;
        transactions.push({ transactionalId: m.transactionalId, producerId: m.producerId, transactionState: txnStateName(m.state) });
      }
    }
    return { errorCode: ErrorCode.NONE, unknownStateFilters, transactions };
  }

  private codeOf(err: unknown): number {
    if (err instanceof KafkaError) return err.errorCode;
    this.opts.logger.error({ err }, 'transaction coordinator operation failed');
    return errorCodeOf(err);
  }
}
