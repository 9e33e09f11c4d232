// The partition side of transactions against an in-process broker, driven by the internal client:
// transactional Produce, WriteTxnMarkers, read_committed Fetch, ListOffsets and DescribeProducers.
// Markers are written by the test itself, as a transaction coordinator would send them; the
// producers are real transactional ones (InitProducerId, AddPartitionsToTxn), since the broker's
// coordinator verifies a producer's first batch of a transaction (KIP-890) before the append.
// Their transactions are left open on the coordinator (a long timeout), so it writes no markers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type StartedBroker } from '../../index.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { FetchResponse } from '../../protocol/generated/message/fetch-response.ts';
import type { WriteTxnMarkersResponse } from '../../protocol/generated/message/write-txn-markers-response.ts';
import { CONTROL_MASK } from '../../protocol/records/batch-header.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateBatches } from '../../protocol/records/record-batch.ts';
import type { TransactionMarkerEvent } from '../replica/replica-manager.ts';

let started: StartedBroker;
let client: KafkaClient;
const markers: TransactionMarkerEvent[] = [];

async function createTopic(name: string, partitions = 1): Promise<void> {
  const ctx = started.broker.context;
  const [r] = await ctx.controller.createTopics([{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }], false);
  expect(r!.errorCode).toBe(ErrorCode.NONE);
  await ctx.metadata.waitFor(ctx.controller.image.offset);
  await client.metadata([name]);
}

function batch(values: string[], o: { pid?: bigint; epoch?: number; seq?: number; txn?: boolean } = {}): Buffer {
  return encodeRecordBatch({
    baseTimestamp: BigInt(Date.now()),
    producerId: o.pid ?? -1n,
    producerEpoch: o.epoch ?? (o.pid === undefined ? -1 : 0),
    baseSequence: o.seq ?? (o.pid === undefined ? -1 : 0),
    isTransactional: o.txn ?? false,
    records: values.map((v, i) => ({ timestampDelta: 0, offsetDelta: i, key: null, value: Buffer.from(v) })),
  });
}

/** Asks the coordinator until it answers with something other than a retriable error. */
async function coordinatorCall<T>(call: () => Promise<T>, codeOf: (r: T) => number): Promise<T> {
  for (let n = 0; ; n++) {
    const r = await call();
    const code = codeOf(r);
    if (code === ErrorCode.NONE || n >= 100) return r;
    if (code !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && code !== ErrorCode.COORDINATOR_NOT_AVAILABLE && code !== ErrorCode.NOT_COORDINATOR && code !== ErrorCode.CONCURRENT_TRANSACTIONS) {
      throw new KafkaError(code as ErrorCode, 'coordinator call failed');
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

interface TxnProducer {
  transactionalId: string;
  pid: bigint;
  epoch: number;
}

/** A transactional producer as a client starts one: InitProducerId (again: the next epoch). */
async function initTxnProducer(transactionalId: string): Promise<TxnProducer> {
  const r = await coordinatorCall(() => client.send('any', ApiKey.InitProducerId, { transactionalId, transactionTimeoutMs: 600_000, producerId: -1n, producerEpoch: -1 }), (x) => x.errorCode);
  return { transactionalId, pid: r.producerId, epoch: r.producerEpoch };
}

/** AddPartitionsToTxn, as a client sends it before its first batch to a partition. */
async function addPartitions(p: TxnProducer, topic: string, partitions: number[] = [0]): Promise<void> {
  await coordinatorCall(
    () => client.send('any', ApiKey.AddPartitionsToTxn, { v3AndBelowTransactionalId: p.transactionalId, v3AndBelowProducerId: p.pid, v3AndBelowProducerEpoch: p.epoch, v3AndBelowTopics: [{ name: topic, partitions }] }, { version: 3 }),
    (x) => x.resultsByTopicV3AndBelow!.flatMap((t) => t.resultsByPartition).find((q) => q.partitionErrorCode !== ErrorCode.NONE)?.partitionErrorCode ?? ErrorCode.NONE,
  );
}

/** A started transactional producer with `topic`'s partitions in its transaction. */
async function txnProducer(transactionalId: string, topic: string, partitions: number[] = [0]): Promise<TxnProducer> {
  const p = await initTxnProducer(transactionalId);
  await addPartitions(p, topic, partitions);
  return p;
}

async function produceTxn(topic: string, values: string[], p: TxnProducer, seq: number): Promise<bigint> {
  const r = await client.produce(topic, 0, batch(values, { pid: p.pid, seq, epoch: p.epoch, txn: true }), { acks: -1, transactionalId: p.transactionalId });
  return r!.baseOffset;
}

async function writeMarker(topic: string, pid: bigint, commit: boolean, o: { epoch?: number; coordinatorEpoch?: number; partitions?: number[]; version?: number } = {}): Promise<WriteTxnMarkersResponse> {
  return client.send(
    'any',
    ApiKey.WriteTxnMarkers,
    { markers: [{ producerId: pid, producerEpoch: o.epoch ?? 0, transactionResult: commit, coordinatorEpoch: o.coordinatorEpoch ?? 0, topics: [{ name: topic, partitionIndexes: o.partitions ?? [0] }] }] },
    { version: o.version ?? 1 },
  );
}

function markerErrors(r: WriteTxnMarkersResponse): number[] {
  return r.markers.flatMap((m) => m.topics.flatMap((t) => t.partitions.map((p) => p.errorCode)));
}

async function fetchFrom(topic: string, offset: bigint, isolationLevel: number): Promise<FetchResponse['responses'][number]['partitions'][number]> {
  const res: FetchResponse = await client.send(
    'any',
    ApiKey.Fetch,
    {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [],
      rackId: '',
    },
    { version: 12 },
  );
  return res.responses[0]!.partitions[0]!;
}

/** Data records (value, producer id) of a fetch answer; control batches left out. */
function dataOf(records: Buffer | null | undefined): { value: string; pid: bigint }[] {
  const out: { value: string; pid: bigint }[] = [];
  if (!records) return out;
  for (const e of iterateBatches(records)) {
    const b = decodeRecordBatch(records, e.position);
    if ((b.header.attributes & CONTROL_MASK) !== 0) continue;
    for (const r of b.records) out.push({ value: r.value!.toString(), pid: b.header.producerId });
  }
  return out;
}

async function latest(topic: string, isolationLevel: number): Promise<bigint> {
  const r = await client.listOffsets(topic, 0, -1, { isolationLevel });
  return r.offset ?? -1n;
}

beforeAll(async () => {
  started = await startBroker();
  client = new KafkaClient({ bootstrapServers: started.bootstrap });
  await client.connect();
  started.broker.context.replicaManager.onTransactionMarker((e) => markers.push(e));
}, 60_000);

afterAll(async () => {
  await client?.close();
  await started?.stop();
});

describe('transactions on partitions this broker leads', () => {
  it('holds read_committed readers at the first open transaction and lists aborted ones for them to drop', async () => {
    await createTopic('txn-read');
    const a = await txnProducer('read-a', 'txn-read');
    const c = await txnProducer('read-c', 'txn-read');
    await client.produce('txn-read', 0, batch(['plain-0']), { acks: -1 }); // 0
    await produceTxn('txn-read', ['a1', 'a2'], a, 0); // 1-2, aborted below
    await produceTxn('txn-read', ['c1'], c, 0); // 3, committed below
    expect(markerErrors(await writeMarker('txn-read', a.pid, false))).toEqual([ErrorCode.NONE]); // 4
    // Producer c's transaction is open at 3: read_committed stops there.
    expect(await latest('txn-read', 1)).toBe(3n);
    expect(await latest('txn-read', 0)).toBe(5n);
    let p = await fetchFrom('txn-read', 0n, 1);
    expect(p.lastStableOffset).toBe(3n);
    expect(p.abortedTransactions).toEqual([{ producerId: a.pid, firstOffset: 1n }]);
    expect(dataOf(p.records).map((r) => r.value)).toEqual(['plain-0', 'a1', 'a2']);
    expect(markerErrors(await writeMarker('txn-read', c.pid, true))).toEqual([ErrorCode.NONE]); // 5
    expect(await latest('txn-read', 1)).toBe(6n);
    p = await fetchFrom('txn-read', 0n, 1);
    expect(p.abortedTransactions).toEqual([{ producerId: a.pid, firstOffset: 1n }]);
    expect(dataOf(p.records).map((r) => r.value)).toEqual(['plain-0', 'a1', 'a2', 'c1']);
    // Past the aborted transaction's marker there is nothing to drop.
    p = await fetchFrom('txn-read', 5n, 1);
    expect(p.abortedTransactions).toEqual([]);
    // read_uncommitted: everything below the high watermark, control batches included, no list.
    const u = await fetchFrom('txn-read', 0n, 0);
    expect(u.abortedTransactions).toBeNull();
    let controls = 0;
    for (const e of iterateBatches(u.records!)) if ((decodeRecordBatch(u.records!, e.position).header.attributes & CONTROL_MASK) !== 0) controls++;
    expect(controls).toBe(2);
    expect(markers.filter((m) => m.topic === 'txn-read')).toEqual([
      { topic: 'txn-read', partition: 0, producerId: a.pid, committed: false, offset: 4 },
      { topic: 'txn-read', partition: 0, producerId: c.pid, committed: true, offset: 5 },
    ]);
  });

  it('answers WriteTxnMarkers per partition with Kafka\'s errors, at v0 and v1', async () => {
    await createTopic('txn-markers', 2);
    const p0 = await txnProducer('markers', 'txn-markers', [0, 1]);
    await produceTxn('txn-markers', ['x'], p0, 0);
    const r = await writeMarker('txn-markers', p0.pid, true, { coordinatorEpoch: 5, partitions: [0, 1, 7], version: 0 });
    expect(markerErrors(r)).toEqual([ErrorCode.NONE, ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    expect(r.markers[0]!.producerId).toBe(p0.pid);
    // An older coordinator epoch is fenced; an older producer epoch is refused.
    expect(markerErrors(await writeMarker('txn-markers', p0.pid, false, { coordinatorEpoch: 4 }))).toEqual([ErrorCode.TRANSACTION_COORDINATOR_FENCED]);
    // A producer at its second epoch (InitProducerId twice): a marker at its first epoch is refused.
    const p1 = await initTxnProducer('markers-next');
    const next = await txnProducer('markers-next', 'txn-markers');
    expect(next.pid).toBe(p1.pid);
    expect(next.epoch).toBe(1);
    await produceTxn('txn-markers', ['y'], next, 0);
    expect(markerErrors(await writeMarker('txn-markers', next.pid, false, { epoch: 0, coordinatorEpoch: 5 }))).toEqual([ErrorCode.INVALID_PRODUCER_EPOCH]);
    expect(markerErrors(await writeMarker('txn-markers', next.pid, false, { epoch: 1, coordinatorEpoch: 6 }))).toEqual([ErrorCode.NONE]);
    expect(markerErrors(await writeMarker('no-such-topic', 300n, false))).toEqual([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    expect(await latest('txn-markers', 1)).toBe(await latest('txn-markers', 0));
  });

  it('takes transactional batches, refuses non-transactional ones inside a transaction and keeps idempotence', async () => {
    await createTopic('txn-produce');
    const t = await txnProducer('produce', 'txn-produce');
    // Transactional records without a transactional id: the whole request is refused.
    await expect(client.produce('txn-produce', 0, batch(['t'], { pid: t.pid, txn: true }), { acks: -1 })).rejects.toMatchObject({ errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED });
    expect(await produceTxn('txn-produce', ['t0'], t, 0)).toBe(0n);
    const plain = client.produce('txn-produce', 0, batch(['n'], { pid: t.pid, seq: 1 }), { acks: -1 });
    await expect(plain).rejects.toBeInstanceOf(KafkaError);
    await expect(plain).rejects.toMatchObject({ errorCode: ErrorCode.INVALID_TXN_STATE });
    // A retried transactional batch gets its first offset back; a gap is refused.
    expect(await produceTxn('txn-produce', ['t0'], t, 0)).toBe(0n);
    await expect(produceTxn('txn-produce', ['t9'], t, 5)).rejects.toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(await produceTxn('txn-produce', ['t1'], t, 1)).toBe(1n);
    expect(markerErrors(await writeMarker('txn-produce', t.pid, true))).toEqual([ErrorCode.NONE]);
    // After the commit, the producer may write outside a transaction again.
    expect((await client.produce('txn-produce', 0, batch(['n'], { pid: t.pid, seq: 2 }), { acks: -1 }))!.baseOffset).toBe(3n);
  });

  it('asks a wired transaction verifier before a producer\'s first batch of a transaction, and only then', async () => {
    await createTopic('txn-verify');
    const rm = started.broker.context.replicaManager;
    const wired = rm.transactionVerifier;
    const made = { transactionalId: 'tx-500', pid: 500n, epoch: 0 };
    const asked: string[] = [];
    let answer: number = ErrorCode.INVALID_TXN_STATE;
    rm.transactionVerifier = {
      verify: async (r) => {
        asked.push(`${r.transactionalId}:${r.producerId}:${r.topic}-${r.partition}`);
        return answer;
      },
    };
    try {
      await expect(produceTxn('txn-verify', ['v0'], made, 0)).rejects.toMatchObject({ errorCode: ErrorCode.INVALID_TXN_STATE });
      answer = ErrorCode.NONE;
      expect(await produceTxn('txn-verify', ['v0'], made, 0)).toBe(0n);
      expect(await produceTxn('txn-verify', ['v1'], made, 1)).toBe(1n);
      expect(asked).toEqual(['tx-500:500:txn-verify-0', 'tx-500:500:txn-verify-0']);
      // The coordinator aborts the transaction while a new one's first batch is being verified:
      // the batch was verified for a transaction that has ended, so it is refused (KIP-890's guard).
      expect(markerErrors(await writeMarker('txn-verify', 500n, false))).toEqual([ErrorCode.NONE]); // 2
      rm.transactionVerifier = {
        verify: async () => {
          await rm.getPartition('txn-verify', 0)!.appendTxnMarkerAsLeader({ producerId: 500n, producerEpoch: 0, commit: false, coordinatorEpoch: 0 }, Date.now());
          return ErrorCode.NONE;
        },
      };
      await expect(produceTxn('txn-verify', ['late'], made, 2)).rejects.toMatchObject({ errorCode: ErrorCode.INVALID_TXN_STATE });
      expect(await latest('txn-verify', 0)).toBe(4n);
      expect(await latest('txn-verify', 1)).toBe(4n);
    } finally {
      rm.transactionVerifier = wired;
    }
  });

  it('describes the active producers of a partition with their open transaction', async () => {
    await createTopic('txn-describe');
    await client.produce('txn-describe', 0, batch(['i0', 'i1'], { pid: 600n, seq: 0 }), { acks: -1 });
    const t = await txnProducer('describe', 'txn-describe');
    await produceTxn('txn-describe', ['t'], t, 0);
    await writeMarker('txn-describe', 602n, false, { coordinatorEpoch: 3 });
    const r = await client.send('any', ApiKey.DescribeProducers, { topics: [{ name: 'txn-describe', partitionIndexes: [0, 4] }, { name: 'nope', partitionIndexes: [0] }] });
    const [p0, p4] = r.topics[0]!.partitions;
    expect(p0!.errorCode).toBe(ErrorCode.NONE);
    // Listed by producer id.
    expect(p0!.activeProducers.map((a) => ({ ...a, lastTimestamp: a.lastTimestamp > 0n }))).toEqual(
      [
        { producerId: 600n, producerEpoch: 0, lastSequence: 1, lastTimestamp: true, coordinatorEpoch: -1, currentTxnStartOffset: -1n },
        { producerId: t.pid, producerEpoch: 0, lastSequence: 0, lastTimestamp: true, coordinatorEpoch: -1, currentTxnStartOffset: 2n },
        { producerId: 602n, producerEpoch: 0, lastSequence: -1, lastTimestamp: true, coordinatorEpoch: 3, currentTxnStartOffset: -1n },
      ].sort((x, y) => (x.producerId < y.producerId ? -1 : 1)),
    );
    expect(p4!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(r.topics[1]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});
