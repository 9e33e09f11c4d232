// Transactions on the partition side against a broker process, without a transaction
// coordinator: the test writes transactional batches (Produce with a transactional id) and the
// COMMIT/ABORT markers (WriteTxnMarkers, as a coordinator would) through Samsa's own client, and
// kafkajs group consumers read them: read_committed gets only committed and plain records and
// waits at an open transaction; read_uncommitted gets everything (control records skipped).
// The producers are made up, so the broker runs with transaction.partition.verification.enable
// false: its coordinator would otherwise refuse their batches (KIP-890).
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess } from '../conformance/harness/broker-process.ts';
import { KafkaClient } from '../protocol/client/client.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { ApiKey } from '../protocol/generated/api-table.ts';
import { encodeRecordBatch } from '../protocol/records/record-batch.ts';

const TOPIC = 'txn-int';
let broker: BrokerProcess;
let client: KafkaClient;
const consumers: Consumer[] = [];
const seqs = new Map<bigint, number>();

function batch(values: string[], pid = -1n, txn = false): Buffer {
  const seq = seqs.get(pid) ?? 0;
  if (pid >= 0n) seqs.set(pid, seq + values.length);
  return encodeRecordBatch({
    baseTimestamp: BigInt(Date.now()),
    producerId: pid,
    producerEpoch: pid >= 0n ? 0 : -1,
    baseSequence: pid >= 0n ? seq : -1,
    isTransactional: txn,
    records: values.map((v, i) => ({ timestampDelta: 0, offsetDelta: i, key: Buffer.from(v), value: Buffer.from(v) })),
  });
}

async function plain(values: string[]): Promise<void> {
  await client.produce(TOPIC, 0, batch(values), { acks: -1 });
}

async function inTxn(pid: bigint, values: string[]): Promise<void> {
  await client.produce(TOPIC, 0, batch(values, pid, true), { acks: -1, transactionalId: `txn-${pid}` });
}

async function end(pid: bigint, commit: boolean): Promise<void> {
  const r = await client.send('any', ApiKey.WriteTxnMarkers, {
    markers: [{ producerId: pid, producerEpoch: 0, transactionResult: commit, coordinatorEpoch: 0, topics: [{ name: TOPIC, partitionIndexes: [0] }] }],
  });
  expect(r.markers[0]!.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
}

async function consume(groupId: string, readUncommitted: boolean): Promise<string[]> {
  const kafka = new Kafka({ clientId: groupId, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 200 } });
  const consumer = kafka.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 200, sessionTimeout: 30_000, heartbeatInterval: 1000 });
  consumers.push(consumer);
  const got: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      got.push(message.value!.toString());
    },
  });
  return got;
}

async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: { 'transaction.partition.verification.enable': 'false' }, startTimeoutMs: 60_000 });
  client = new KafkaClient({ bootstrapServers: broker.bootstrap });
  await client.connect();
  const created = await client.createTopics([{ name: TOPIC, numPartitions: 1, replicationFactor: 1 }]);
  expect(created.topics[0]!.errorCode).toBe(ErrorCode.NONE);
  await client.metadata([TOPIC]);
}, 90_000);

afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => undefined);
  await client?.close();
  await broker?.destroy();
});

describe('kafkajs consumers over transactional data written without a coordinator', () => {
  it('read_committed sees committed and plain records only, and waits at an open transaction; read_uncommitted sees all', async () => {
    await plain(['p1']);
    await inTxn(1000n, ['a1', 'a2']);
    await inTxn(2000n, ['c1']);
    await inTxn(1000n, ['a3']);
    await end(1000n, false);
    await inTxn(2000n, ['c2']);
    await end(2000n, true);
    await plain(['p2']);
    // An open transaction, then a plain record behind it.
    await inTxn(3000n, ['o1']);
    await plain(['p3']);

    const committed = await consume('txn-committed', false);
    const everything = await consume('txn-uncommitted', true);
    await until(() => everything.includes('p3'), 'read_uncommitted to reach p3');
    expect(everything).toEqual(['p1', 'a1', 'a2', 'c1', 'a3', 'c2', 'p2', 'o1', 'p3']);
    await until(() => committed.includes('p2'), 'read_committed to reach p2');
    // Records behind the open transaction stay invisible to read_committed while it is open.
    await new Promise((r) => setTimeout(r, 1500));
    expect(committed).toEqual(['p1', 'c1', 'c2', 'p2']);

    await end(3000n, true);
    await until(() => committed.includes('p3'), 'read_committed to pass the committed transaction');
    expect(committed).toEqual(['p1', 'c1', 'c2', 'p2', 'o1', 'p3']);

    // An aborted transaction after that is skipped as well.
    await inTxn(3000n, ['x1']);
    await end(3000n, false);
    await plain(['p4']);
    await until(() => committed.includes('p4') && everything.includes('p4'), 'both consumers to reach p4');
    expect(committed.slice(-2)).toEqual(['p3', 'p4']);
    expect(everything.slice(-2)).toEqual(['x1', 'p4']);
  }, 180_000);
});
