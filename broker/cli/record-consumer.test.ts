import { describe, expect, it } from 'vitest';
import { encodeEndTxnMarkerBatch } from '../../protocol/records/control-record.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import type { FetchResponse } from '../../protocol/generated/message/fetch-response.ts';
import { nextPositions, recordsFromFetch } from './record-consumer.ts';

function batch(baseOffset: bigint, values: string[], txnProducer?: bigint): Buffer {
  return encodeRecordBatch({
    baseOffset,
    baseTimestamp: 1000n,
    isTransactional: txnProducer !== undefined,
    producerId: txnProducer ?? -1n,
    producerEpoch: txnProducer !== undefined ? 0 : -1,
    records: values.map((v, i) => ({ offsetDelta: i, timestampDelta: i, key: null, value: Buffer.from(v) })),
  });
}

// 0-1: aborted transaction of producer 7; 2: plain; 3: ABORT marker; 4: committed transaction; 5: COMMIT marker.
const log = Buffer.concat([
  batch(0n, ['a0', 'a1'], 7n),
  batch(2n, ['plain']),
  encodeEndTxnMarkerBatch({ baseOffset: 3n, producerId: 7n, producerEpoch: 0, timestamp: 1n, commit: false, coordinatorEpoch: 0 }),
  batch(4n, ['c4'], 7n),
  encodeEndTxnMarkerBatch({ baseOffset: 5n, producerId: 7n, producerEpoch: 0, timestamp: 1n, commit: true, coordinatorEpoch: 0 }),
]);
const base = { topic: 't', partition: 0, abortedTransactions: [{ producerId: 7n, firstOffset: 0n }] };

describe('recordsFromFetch', () => {
  it('delivers every data record under read_uncommitted and skips control batches', () => {
    const r = recordsFromFetch(log, { ...base, position: 0n, readCommitted: false });
    expect(r.records.map((x) => [x.offset, x.value?.toString()])).toEqual([
      [0n, 'a0'],
      [1n, 'a1'],
      [2n, 'plain'],
      [4n, 'c4'],
    ]);
    expect(r.position).toBe(6n);
  });

  it('drops aborted transactions under read_committed, keeping later committed ones', () => {
    const r = recordsFromFetch(log, { ...base, position: 0n, readCommitted: true });
    expect(r.records.map((x) => x.value?.toString())).toEqual(['plain', 'c4']);
    expect(r.position).toBe(6n);
  });

  it('drops records before the position inside a batch and keeps the batch timestamps', () => {
    const r = recordsFromFetch(log, { ...base, position: 1n, readCommitted: false });
    expect(r.records.map((x) => x.offset)).toEqual([1n, 2n, 4n]);
    expect(r.records[0]).toMatchObject({ timestamp: 1001n, timestampType: 'CreateTime', partition: 0, topic: 't' });
  });

  it('ignores a partial batch at the end, as fetch responses may carry one', () => {
    const cut = log.subarray(0, log.length - 10);
    const r = recordsFromFetch(cut, { ...base, position: 0n, readCommitted: false });
    expect(r.position).toBe(5n);
  });
});

describe('nextPositions', () => {
  const response = (records: Buffer, errorCode = 0): FetchResponse =>
    ({ throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [{ topic: 't', partitions: [{ partitionIndex: 0, errorCode, highWatermark: 6n, records }] }] }) as unknown as FetchResponse;

  it('agrees with recordsFromFetch from batch headers alone', () => {
    for (const start of [0n, 1n, 3n, 5n, 6n]) {
      const decoded = recordsFromFetch(log, { ...base, position: start, readCommitted: true });
      expect(nextPositions(response(log), [0], new Map([[0, start]]))?.get(0)).toBe(decoded.position);
    }
  });

  it('gives up on errors so the answer is handled first', () => {
    expect(nextPositions(response(log, 1), [0], new Map([[0, 0n]]))).toBeNull();
    expect(nextPositions(response(Buffer.alloc(0)), [0], new Map([[0, 4n]]))?.get(0)).toBe(4n);
  });
});
