// Transaction bookkeeping over a partition's log, shared by every path that puts batches into it
// (leader append, follower append, start-up replay): producer state learns each batch in log
// order, and an ABORT marker that closes a transaction with data adds Kafka's AbortedTxn entry to
// the transaction index of the segment holding the marker. Reads (read_committed fetch) collect
// the aborted transactions overlapping a range from the segments' indexes.
import { CONTROL_MASK, TRANSACTIONAL_MASK, readBatchHeader } from '../protocol/records/batch-header.ts';
import { ControlRecordType, parseControlRecordKey, parseEndTxnMarker } from '../protocol/records/control-record.ts';
import { decodeRecordBatch, iterateBatches } from '../protocol/records/record-batch.ts';
import type { CompletedTxn, ProducerStateManager } from './producer-state.ts';
import { nextSequence } from './producer-state.ts';
import type { LogSegment } from './segment.ts';
import type { AbortedTxn } from './txn-index.ts';

export interface EndTxnMarkerInfo {
  commit: boolean;
  coordinatorEpoch: number;
}

/**
 * The transaction marker a control batch holds, or null for other control records (KRaft's) and
 * types this code does not know (Kafka ignores those too).
 */
export function readEndTxnMarker(records: Buffer, position: number): EndTxnMarkerInfo | null {
  const batch = decodeRecordBatch(records, position);
  const record = batch.records[0];
  if (record === undefined) return null;
  const key = parseControlRecordKey(record.key);
  if (key.type !== ControlRecordType.Abort && key.type !== ControlRecordType.Commit) return null;
  return { commit: key.type === ControlRecordType.Commit, coordinatorEpoch: parseEndTxnMarker(record.value).coordinatorEpoch };
}

/** The segment holding `offset` (the last one whose base offset is at or below it). */
export function segmentFor(segments: readonly LogSegment[], offset: number): LogSegment | undefined {
  let found: LogSegment | undefined;
  for (const s of segments) {
    if (s.baseOffset > offset) break;
    found = s;
  }
  return found;
}

/** Adds the index entry of a completed aborted transaction (no-op for commits and repeats). */
export function indexCompletedTxn(segments: readonly LogSegment[], producerState: ProducerStateManager, txn: CompletedTxn): AbortedTxn | null {
  if (!txn.isAborted) return null;
  const seg = segmentFor(segments, txn.lastOffset);
  if (seg === undefined) return null;
  const last = seg.txnIndex.size > 0 ? seg.txnIndex.allAbortedTxns().at(-1) : undefined;
  if (last !== undefined && last.lastOffset >= txn.lastOffset) return null;
  const entry: AbortedTxn = { producerId: txn.producerId, firstOffset: txn.firstOffset, lastOffset: txn.lastOffset, lastStableOffset: producerState.lastStableOffsetAfter(txn) };
  seg.txnIndex.append(entry);
  return entry;
}

/**
 * Replays the batches of `records` (already in the log, offsets final) into producer state and
 * the transaction indexes. Batches wholly below `fromOffset` are skipped. Returns the end offset
 * reached (the offset after the last batch seen), or -1 when none.
 */
export function replayBatches(records: Buffer, fromOffset: number, producerState: ProducerStateManager, segments: readonly LogSegment[]): number {
  let end = -1;
  for (const e of iterateBatches(records)) {
    const h = readBatchHeader(records, e.position);
    const base = Number(h.baseOffset);
    const last = base + h.lastOffsetDelta;
    end = Math.max(end, last + 1);
    if (h.magic !== 2 || h.producerId < 0n || last < fromOffset) continue;
    if ((h.attributes & CONTROL_MASK) !== 0) {
      if ((h.attributes & TRANSACTIONAL_MASK) === 0) continue;
      const marker = readEndTxnMarker(records, e.position);
      if (marker === null) continue;
      const txn = producerState.appendEndTxnMarker(h.producerId, h.producerEpoch, marker.commit, marker.coordinatorEpoch, last, Number(h.maxTimestamp));
      if (txn !== null) indexCompletedTxn(segments, producerState, txn);
      continue;
    }
    producerState.replay(h.producerId, h.producerEpoch, h.baseSequence, nextSequence(h.baseSequence, h.lastOffsetDelta), base, last, Number(h.maxTimestamp), (h.attributes & TRANSACTIONAL_MASK) !== 0);
  }
  return end;
}

/**
 * Kafka's collectAbortedTransactions: the aborted transactions with lastOffset >= startOffset and
 * firstOffset < upperBoundOffset, from the segment holding startOffset on, in marker order.
 */
export function collectAbortedTransactions(segments: readonly LogSegment[], startOffset: number, upperBoundOffset: number): AbortedTxn[] {
  const out: AbortedTxn[] = [];
  let started = false;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const next = segments[i + 1];
    if (!started && next !== undefined && next.baseOffset <= startOffset) continue;
    started = true;
    // Markers of transactions starting below the bound may sit in later segments: go on until
    // an entry says the range is complete.
    const r = seg.txnIndex.collectAbortedTxns(startOffset, upperBoundOffset);
    out.push(...r.abortedTransactions);
    if (r.isComplete) break;
  }
  return out;
}
