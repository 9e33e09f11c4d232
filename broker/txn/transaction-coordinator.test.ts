import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { decodeTxnRecord, encodeTxnRecord, partitionForTransactionalId, TxnState } from './transaction-log.ts';
import { settle, txnHarness } from './txn-test-support.ts';

const tp = (topic: string, partition: number) => ({ topic, partition });

async function loaded(config = {}) {
  const h = txnHarness(config);
  await h.coordinator.elect(0, 1);
  return h;
}

describe('transaction log records', () => {
  it('round-trip in Kafka formats, version 0, tombstones included', () => {
    const m = {
      transactionalId: 'tx',
      producerId: 42n,
      lastProducerId: 42n,
      producerEpoch: 7,
      lastProducerEpoch: -1,
      txnTimeoutMs: 60000,
      state: TxnState.Ongoing,
      partitions: [tp('a', 0), tp('a', 3), tp('b', 1)],
      txnStartTimestamp: 1000,
      txnLastUpdateTimestamp: 2000,
    };
    const raw = encodeTxnRecord({ transactionalId: 'tx', metadata: m });
    expect(raw.key.readInt16BE(0)).toBe(0);
    expect(raw.value!.readInt16BE(0)).toBe(0);
    expect(decodeTxnRecord(raw.key, raw.value)).toEqual({ transactionalId: 'tx', metadata: m });
    const tomb = encodeTxnRecord({ transactionalId: 'tx', metadata: null });
    expect(decodeTxnRecord(tomb.key, tomb.value)).toEqual({ transactionalId: 'tx', metadata: null });
  });

  it('maps transactional ids to partitions as Kafka does (abs of Java hashCode)', () => {
    // "hello".hashCode() == 99162322; Integer.MIN_VALUE has no absolute value and maps to 0.
    expect(partitionForTransactionalId('hello', 50)).toBe(99162322 % 50);
    expect(partitionForTransactionalId('polygenelubricants', 50)).toBe(0);
  });
});

describe('TransactionCoordinator', () => {
  it('answers NOT_COORDINATOR before election and COORDINATOR_LOAD_IN_PROGRESS while loading', async () => {
    const h = txnHarness();
    expect((await h.coordinator.initProducerId('t', 1000, null)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    h.log.beforeChunk = () => new Promise(() => undefined);
    h.log.appendLoaded(0, { kind: 'record', producerId: -1n, transactional: false, ...encodeTxnRecord({ transactionalId: 'x', metadata: null }) });
    void h.coordinator.elect(0, 1);
    await settle();
    expect((await h.coordinator.initProducerId('t', 1000, null)).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  });

  it('refuses empty ids and timeouts above transaction.max.timeout.ms', async () => {
    const { coordinator } = await loaded({ transactionMaxTimeoutMs: 5000 });
    expect((await coordinator.initProducerId('', 1000, null)).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await coordinator.initProducerId('t', 5001, null)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await coordinator.initProducerId('t', 0, null)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
  });

  it('runs a transaction: init, add partitions, commit; markers to every partition, then CompleteCommit', async () => {
    const { coordinator, markers } = await loaded();
    const init = await coordinator.initProducerId('t', 60000, null);
    expect(init).toEqual({ errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 0 });
    expect(await coordinator.addPartitions('t', 1000n, 0, [tp('a', 1), tp('a', 0)])).toBe(ErrorCode.NONE);
    expect(await coordinator.addPartitions('t', 1000n, 0, [tp('b', 0)])).toBe(ErrorCode.NONE);
    expect(coordinator.verifyPartitions('t', 1000n, 0, [tp('a', 0), tp('c', 0)])).toEqual([ErrorCode.NONE, ErrorCode.TRANSACTION_ABORTABLE]);
    markers.hold = true;
    expect(await coordinator.endTxn('t', 1000n, 0, true)).toBe(ErrorCode.NONE);
    expect(coordinator.describe('t').transactionState).toBe('PrepareCommit');
    expect(await coordinator.addPartitions('t', 1000n, 0, [tp('a', 0)])).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(await coordinator.endTxn('t', 1000n, 0, true)).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(await coordinator.endTxn('t', 1000n, 0, false)).toBe(ErrorCode.INVALID_TXN_STATE);
    markers.release();
    await settle();
    expect(markers.sent).toEqual([{ transactionalId: 't', producerId: 1000n, producerEpoch: 0, coordinatorEpoch: 1, commit: true, partitions: [tp('a', 0), tp('a', 1), tp('b', 0)] }]);
    const d = coordinator.describe('t');
    expect([d.transactionState, d.topics]).toEqual(['CompleteCommit', []]);
    expect(await coordinator.endTxn('t', 1000n, 0, true)).toBe(ErrorCode.NONE);
    expect(await coordinator.endTxn('t', 1000n, 0, false)).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('fences a zombie: InitProducerId on an ongoing transaction aborts it at a bumped epoch', async () => {
    const { coordinator, markers } = await loaded();
    await coordinator.initProducerId('t', 60000, null);
    await coordinator.addPartitions('t', 1000n, 0, [tp('a', 0)]);
    expect((await coordinator.initProducerId('t', 60000, null)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    await settle();
    expect(markers.sent.map((m) => [m.producerEpoch, m.commit])).toEqual([[1, false]]);
    expect(coordinator.describe('t').transactionState).toBe('CompleteAbort');
    expect(await coordinator.initProducerId('t', 60000, null)).toEqual({ errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 2 });
    // The zombie at epoch 0 stays fenced.
    expect(await coordinator.addPartitions('t', 1000n, 0, [tp('a', 0)])).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await coordinator.endTxn('t', 1000n, 0, true)).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('KIP-360: a producer recovers with its id and epoch; a retry of a bump is answered without bumping; others are fenced', async () => {
    const { coordinator } = await loaded();
    await coordinator.initProducerId('t', 60000, null);
    expect(await coordinator.initProducerId('t', 60000, { producerId: 1000n, producerEpoch: 0 })).toEqual({ errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 1 });
    expect(await coordinator.initProducerId('t', 60000, { producerId: 1000n, producerEpoch: 0 })).toEqual({ errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 1 });
    expect((await coordinator.initProducerId('t', 60000, { producerId: 1000n, producerEpoch: 5 })).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await coordinator.initProducerId('t', 60000, { producerId: 7n, producerEpoch: 1 })).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('an exhausted epoch gets a new producer id', async () => {
    const h = await loaded();
    await h.coordinator.initProducerId('t', 60000, null);
    // Bring the epoch to 32766 through the log, as a long-lived producer would have.
    const m = h.coordinator.runtime.read(0, (s) => s.txns.get('t'))!;
    await h.coordinator.runtime.write(0, 'test', () => ({ records: [{ transactionalId: 't', metadata: { ...m, producerEpoch: 32766 } }], response: null }));
    expect(await h.coordinator.initProducerId('t', 60000, { producerId: 1000n, producerEpoch: 32766 })).toEqual({ errorCode: ErrorCode.NONE, producerId: 1001n, producerEpoch: 0 });
    // The retry of that call (the answer was lost) gets the same new id and epoch.
    expect(await h.coordinator.initProducerId('t', 60000, { producerId: 1000n, producerEpoch: 32766 })).toEqual({ errorCode: ErrorCode.NONE, producerId: 1001n, producerEpoch: 0 });
  });

  it('aborts transactions past their timeout with an epoch bump', async () => {
    const { coordinator, scheduler, markers } = await loaded();
    await coordinator.initProducerId('t', 15000, null);
    await coordinator.addPartitions('t', 1000n, 0, [tp('a', 0)]);
    scheduler.advance(10_000);
    await settle();
    expect(coordinator.describe('t').transactionState).toBe('Ongoing');
    scheduler.advance(10_000);
    await settle();
    expect(coordinator.describe('t')).toMatchObject({ transactionState: 'CompleteAbort', producerEpoch: 1 });
    expect(markers.sent.map((m) => [m.producerEpoch, m.commit])).toEqual([[1, false]]);
    expect(await coordinator.endTxn('t', 1000n, 0, true)).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('expires idle transactional ids with a tombstone', async () => {
    const { coordinator, scheduler, log } = await loaded({ transactionalIdExpirationMs: 1000, removeExpiredTransactionalIdsIntervalMs: 500 });
    await coordinator.initProducerId('t', 500, null);
    scheduler.advance(1500);
    await settle();
    expect(coordinator.describe('t').errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    const last = log.partitions.get(0)!.at(-1)!;
    expect(last.kind === 'record' && last.value).toBe(null);
  });

  it('a reload resumes markers of prepared transactions and completes them', async () => {
    const h = await loaded();
    await h.coordinator.initProducerId('t', 60000, null);
    await h.coordinator.addPartitions('t', 1000n, 0, [tp('a', 0)]);
    h.markers.hold = true;
    await h.coordinator.endTxn('t', 1000n, 0, false);
    h.coordinator.resign(0);
    h.markers.release();
    h.markers.hold = false;
    await settle();
    expect(h.markers.sent).toEqual([]);
    await h.coordinator.elect(0, 2);
    await settle();
    expect(h.markers.sent.map((m) => [m.coordinatorEpoch, m.commit, m.partitions])).toEqual([[2, false, [tp('a', 0)]]]);
    expect(h.coordinator.describe('t').transactionState).toBe('CompleteAbort');
  });

  it('lists transactions by state, producer id and duration', async () => {
    const { coordinator, scheduler } = await loaded();
    await coordinator.initProducerId('a', 60000, null);
    await coordinator.initProducerId('b', 60000, null);
    await coordinator.addPartitions('b', 1001n, 0, [tp('x', 0)]);
    scheduler.advance(5000);
    expect(coordinator.list([], [], -1).transactions.map((t) => t.transactionalId).sort()).toEqual(['a', 'b']);
    expect(coordinator.list(['Ongoing', 'Bogus'], [], -1)).toMatchObject({ unknownStateFilters: ['Bogus'], transactions: [{ transactionalId: 'b', transactionState: 'Ongoing' }] });
    expect(coordinator.list([], [1000n], -1).transactions.map((t) => t.transactionalId)).toEqual(['a']);
    expect(coordinator.list(['Ongoing'], [], 4000).transactions.length).toBe(1);
    expect(coordinator.list(['Ongoing'], [], 6000).transactions.length).toBe(0);
  });
});
