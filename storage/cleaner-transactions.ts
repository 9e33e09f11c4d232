// What log compaction does with transactions, after Kafka's CleanedTransactionMetadata. Walking
// the batches of a cleaning range in offset order, with the aborted transactions overlapping it
// (from the transaction indexes, by first offset):
// - a transactional data batch of a producer inside an aborted transaction is removed whole (and
//   never enters the offset map, so aborted values shadow nothing);
// - an ABORT marker may go once no batch of its transaction was met in the pass (its data is
//   already gone); while some was, it stays and its AbortedTxn entry is written into the cleaned
//   segment's index, so readers still drop what remains;
// - a COMMIT marker may go once no batch of its transaction was met in the pass;
// - a marker that may go is first stamped with a delete horizon (now + delete.retention.ms, the
//   tombstone rule of KIP-534) and removed by a pass after the horizon, so a consumer reading
//   through the transaction meanwhile still sees it. The last batch of a producer stays whatever
//   it holds, for producer state.
import { crc32c } from '@node-rs/crc32';
import { ATTRIBUTES_OFFSET, CONTROL_MASK, CRC_OFFSET, CRC_START, DELETE_HORIZON_MASK, TRANSACTIONAL_MASK } from '../protocol/records/batch-header.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../protocol/records/record-batch.ts';
import { readEndTxnMarker } from './transaction-state.ts';
import type { TransactionIndex, AbortedTxn } from './txn-index.ts';

export class CleanedTransactionMetadata {
  private readonly aborted: AbortedTxn[];
  private readonly ongoingCommitted = new Set<bigint>();
  private readonly ongoingAborted = new Map<bigint, { txn: AbortedTxn; observed: boolean }>();
  /** Where retained aborted transactions are indexed (the cleaned segment being written). */
  cleanedIndex: TransactionIndex | null = null;

  constructor(aborted: readonly AbortedTxn[]) {
    this.aborted = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
  }

  private consumeUpTo(offset: number): void {
    while (this.aborted.length > 0 && this.aborted[0]!.firstOffset <= offset) {
      const t = this.aborted.shift()!;
      this.ongoingAborted.set(t.producerId, { txn: t, observed: false });
    }
  }

  /** A data batch: true when it belongs to an aborted transaction (to be removed). */
  onBatchRead(producerId: bigint, attributes: number, lastOffset: number): boolean {
    this.consumeUpTo(lastOffset);
    if ((attributes & TRANSACTIONAL_MASK) === 0 || producerId < 0n) return false;
    const a = this.ongoingAborted.get(producerId);
    if (a !== undefined) {
      a.observed = true;
      return true;
    }
    this.ongoingCommitted.add(producerId);
    return false;
  }

  /** A control batch (whole batch at `position` of `buf`): true when it may be removed. */
  onControlBatchRead(buf: Buffer, position: number, producerId: bigint, attributes: number, lastOffset: number): boolean {
    this.consumeUpTo(lastOffset);
    if ((attributes & CONTROL_MASK) === 0 || (attributes & TRANSACTIONAL_MASK) === 0) return false;
    const marker = readEndTxnMarker(buf, position);
    if (marker === null) return false;
    if (marker.commit) return !this.ongoingCommitted.delete(producerId);
    const a = this.ongoingAborted.get(producerId);
    this.ongoingAborted.delete(producerId);
    if (a !== undefined && a.observed) {
      this.cleanedIndex?.append(a.txn);
      return false;
    }
    return true;
  }
}

/**
 * The control batch re-encoded with a delete horizon (KIP-534): the attribute bit set and the
 * base timestamp moved to the horizon, record timestamps kept absolute.
 */
export function stampDeleteHorizon(buf: Buffer, horizon: number): Buffer {
  const b = decodeRecordBatch(buf);
  const h = b.header;
  const baseTimestamp = BigInt(horizon);
  const shift = Number(h.baseTimestamp - baseTimestamp);
  const out = encodeRecordBatch({
    baseOffset: h.baseOffset,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    compression: h.compression,
    timestampType: h.timestampType,
    isTransactional: h.isTransactional,
    isControl: h.isControl,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    baseTimestamp,
    maxTimestamp: h.maxTimestamp,
    lastOffsetDelta: h.lastOffsetDelta,
    records: b.records.map((r) => ({ ...r, timestampDelta: r.timestampDelta + shift })),
  });
  out.writeInt16BE(out.readInt16BE(ATTRIBUTES_OFFSET) | DELETE_HORIZON_MASK, ATTRIBUTES_OFFSET);
  out.writeUInt32BE(crc32c(out.subarray(CRC_START)) >>> 0, CRC_OFFSET);
  return out;
}
