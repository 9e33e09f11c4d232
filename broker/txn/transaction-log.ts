// `__transaction_state`: which partition coordinates a transactional id, the transaction states
// and the records the transaction coordinator writes there, in Kafka's formats:
//   key   [int16 version 0][TransactionLogKey]   (the transactional id)
//   value [int16 version 0][TransactionLogValue] (producer id and epoch, timeout, state,
//         partitions, timestamps), or null: a tombstone, the transactional id expired.
// Kafka writes value version 0 (version 1, flexible, only with transaction.version 2); both load.
// What the log does not hold is known only in memory, as in Kafka: the previous epoch of a
// producer (KIP-360 retries) is lost on a reload, and the previous producer id is the current one.
import { decodeTransactionLogKey, encodeTransactionLogKey } from '../../protocol/generated/transaction-coordinator/transaction-log-key.ts';
import { decodeTransactionLogValue, encodeTransactionLogValue } from '../../protocol/generated/transaction-coordinator/transaction-log-value.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import type { CoordinatorSerde } from '../coordinator/coordinator-runtime.ts';
import type { CoordinatorRecord, LoadedRecord } from '../coordinator/partition-log.ts';
import { javaStringHashCode, kafkaAbs } from '../group/offsets-topic.ts';

export const TRANSACTION_STATE_TOPIC_NAME = '__transaction_state';

/** Kafka's TransactionState, with the ids it writes in TransactionLogValue.transactionStatus. */
export const TxnState = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;
export type TxnState = (typeof TxnState)[keyof typeof TxnState];

const STATE_NAMES = ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead', 'PrepareEpochFence'] as const;

export function txnStateName(s: TxnState): string {
  return STATE_NAMES[s] ?? 'Unknown';
}

export function txnStateByName(name: string): TxnState | undefined {
  const i = (STATE_NAMES as readonly string[]).indexOf(name);
  return i < 0 ? undefined : (i as TxnState);
}

/** Kafka's TransactionState.validPreviousStates. */
export const VALID_PREVIOUS_STATES: Record<TxnState, readonly TxnState[]> = {
  [TxnState.Empty]: [TxnState.Empty, TxnState.CompleteCommit, TxnState.CompleteAbort],
  [TxnState.Ongoing]: [TxnState.Ongoing, TxnState.Empty, TxnState.CompleteCommit, TxnState.CompleteAbort],
  [TxnState.PrepareCommit]: [TxnState.Ongoing],
  [TxnState.PrepareAbort]: [TxnState.Ongoing, TxnState.PrepareEpochFence],
  [TxnState.CompleteCommit]: [TxnState.PrepareCommit],
  [TxnState.CompleteAbort]: [TxnState.PrepareAbort],
  [TxnState.Dead]: [TxnState.Empty, TxnState.CompleteAbort, TxnState.CompleteCommit],
  [TxnState.PrepareEpochFence]: [TxnState.Ongoing],
};

export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
/** Short.MaxValue: an epoch this high cannot be bumped again. */
export const MAX_PRODUCER_EPOCH = 32767;

/** Kafka's TransactionMetadata.isEpochExhausted: one bump must stay available for fencing. */
export function isEpochExhausted(epoch: number): boolean {
  return epoch >= MAX_PRODUCER_EPOCH - 1;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** One transactional id's metadata. Immutable: a change is a new object, replayed from a record. */
export interface TxnMetadata {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly lastProducerId: bigint;
  readonly producerEpoch: number;
  readonly lastProducerEpoch: number;
  readonly txnTimeoutMs: number;
  readonly state: TxnState;
  /** Partitions of the current transaction, sorted by topic then partition. */
  readonly partitions: readonly TopicPartition[];
  /** -1 when no transaction has started. */
  readonly txnStartTimestamp: number;
  readonly txnLastUpdateTimestamp: number;
}

/** A record of `__transaction_state`: the id's new metadata, or null (a tombstone). */
export interface TxnRecord {
  transactionalId: string;
  metadata: TxnMetadata | null;
}

/** The `__transaction_state` partition whose leader coordinates `transactionalId`. */
export function partitionForTransactionalId(transactionalId: string, partitionCount: number): number {
  return kafkaAbs(javaStringHashCode(transactionalId)) % partitionCount;
}

export function sortPartitions(ps: Iterable<TopicPartition>): TopicPartition[] {
  const seen = new Map<string, TopicPartition>();
  for (const p of ps) seen.set(`${p.topic}\u0000${p.partition}`, { topic: p.topic, partition: p.partition });
  return [...seen.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

/** Partitions grouped by topic, as the protocol lists them. */
export function byTopic(ps: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const m = new Map<string, number[]>();
  for (const p of ps) {
    let l = m.get(p.topic);
    if (!l) m.set(p.topic, (l = []));
    l.push(p.partition);
  }
  return [...m].map(([topic, partitions]) => ({ topic, partitions }));
}

function framed(version: number, encode: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  w.writeInt16(version);
  encode(w);
  return w.toBuffer();
}

export function encodeTxnRecord(r: TxnRecord): CoordinatorRecord {
  const key = framed(0, (w) => encodeTransactionLogKey(w, 0, { transactionalId: r.transactionalId }));
  const m = r.metadata;
  if (m === null) return { key, value: null };
  const value = framed(0, (w) =>
    encodeTransactionLogValue(w, 0, {
      producerId: m.producerId,
      producerEpoch: m.producerEpoch,
      transactionTimeoutMs: m.txnTimeoutMs,
      transactionStatus: m.state,
      transactionPartitions: byTopic(m.partitions).map((t) => ({ topic: t.topic, partitionIds: t.partitions })),
      transactionLastUpdateTimestampMs: BigInt(m.txnLastUpdateTimestamp),
      transactionStartTimestampMs: BigInt(m.txnStartTimestamp),
    }),
  );
  return { key, value };
}

/** Decodes a record of `__transaction_state`; null for keys of other versions (none exist yet). */
export function decodeTxnRecord(key: Buffer, value: Buffer | null): TxnRecord | null {
  const kr = new Reader(key);
  const keyVersion = kr.readInt16();
  if (keyVersion !== 0) return null;
  const { transactionalId } = decodeTransactionLogKey(kr, 0);
  if (value === null) return { transactionalId, metadata: null };
  const vr = new Reader(value);
  const v = decodeTransactionLogValue(vr, vr.readInt16());
  const partitions: TopicPartition[] = [];
  for (const t of v.transactionPartitions ?? []) for (const p of t.partitionIds) partitions.push({ topic: t.topic, partition: p });
  return {
    transactionalId,
    metadata: {
      transactionalId,
      producerId: v.producerId,
      lastProducerId: v.producerId,
      producerEpoch: v.producerEpoch,
      lastProducerEpoch: NO_PRODUCER_EPOCH,
      txnTimeoutMs: v.transactionTimeoutMs,
      state: v.transactionStatus as TxnState,
      partitions: sortPartitions(partitions),
      txnStartTimestamp: Number(v.transactionStartTimestampMs),
      txnLastUpdateTimestamp: Number(v.transactionLastUpdateTimestampMs),
    },
  };
}

export const txnSerde: CoordinatorSerde<TxnRecord> = {
  serialize: encodeTxnRecord,
  deserialize: (e: LoadedRecord) => (e.kind === 'record' ? decodeTxnRecord(e.key, e.value) : null),
};
