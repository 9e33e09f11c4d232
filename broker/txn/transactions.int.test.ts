// Transactions through a real broker process with kafkajs (and @platformatic/kafka, which uses
// the newest request versions): a transactional producer commits and
// aborts, a read_committed consumer sees only the committed records (a read_uncommitted one sees
// all), a second producer with the same transactional id fences the first, and the coordinator's
// state survives a restart (DescribeTransactions through the internal client). A late
// transactional batch of an aborted transaction is refused by the partition leader after asking
// the coordinator (KIP-890 part 1), and becomes a hanging transaction once that check is
// switched off (transaction.partition.verification.enable, a dynamic broker config).
import { Producer as PlatformaticProducer, stringSerializers } from '@platformatic/kafka';
import { type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess } from '../../conformance/harness/broker-process.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { runAction } from '../cli/command-io.ts';
import { runTransactions } from '../cli/transactions.ts';

const OVERRIDES = {
  'offsets.topic.num.partitions': '3',
  'transaction.state.log.num.partitions': '3',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
  'group.initial.rebalance.delay.ms': '0',
};

function kafka(bootstrap: string, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 2000 } });
}

/** Switches KIP-890 verification for every broker and waits until broker 1 has it in force. */
async function setVerification(client: KafkaClient, enabled: boolean): Promise<void> {
  const key = 'transaction.partition.verification.enable';
  const r = await client.incrementalAlterConfigs([{ resourceType: 4, resourceName: '', configs: [{ name: key, configOperation: 0, value: String(enabled) }] }]);
  expect(r.responses[0]!.errorCode).toBe(0);
  const end = Date.now() + 30_000;
  for (;;) {
    const d = await client.describeConfigs([{ resourceType: 4, resourceName: '1', configurationKeys: [key] }]);
    if (d.results[0]?.configs.find((c) => c.name === key)?.value === String(enabled)) return;
    if (Date.now() > end) throw new Error(`${key} not ${enabled} on broker 1`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** A coordinator call answered with a retriable error is asked again. */
async function coordinatorCall<T>(call: () => Promise<T>, codeOf: (r: T) => number): Promise<T> {
  const end = Date.now() + 60_000;
  for (;;) {
    const r = await call();
    const code = codeOf(r);
    const retriable = code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.CONCURRENT_TRANSACTIONS;
    if (!retriable || Date.now() > end) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
}

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('transactions with kafkajs', () => {
  let broker: BrokerProcess;
  const producers: Producer[] = [];
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    broker = await BrokerProcess.start({ overrides: OVERRIDES, startTimeoutMs: 60_000 });
    const admin = kafka(broker.bootstrap, 'admin').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'txn-data', numPartitions: 2 }] });
    await admin.disconnect();
  }, 90_000);

  afterAll(async () => {
    for (const c of consumers) await c.disconnect().catch(() => undefined);
    for (const p of producers) await p.disconnect().catch(() => undefined);
    await broker?.destroy();
  }, 60_000);

  async function producer(transactionalId: string): Promise<Producer> {
    const p = kafka(broker.bootstrap, `producer-${transactionalId}`).producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 30_000 });
    producers.push(p);
    await p.connect();
    return p;
  }

  async function readAll(groupId: string, readUncommitted: boolean, expected: number): Promise<string[]> {
    const c = kafka(broker.bootstrap, groupId).consumer({ groupId, readUncommitted, maxWaitTimeInMs: 200 });
    consumers.push(c);
    await c.connect();
    await c.subscribe({ topic: 'txn-data', fromBeginning: true });
    const seen: string[] = [];
    await c.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await until(`${expected} records for ${groupId}`, () => seen.length >= expected);
    // A little longer: nothing more may arrive.
    await new Promise((r) => setTimeout(r, 1500));
    await c.disconnect();
    return seen.sort();
  }

  it('commits and aborts; read_committed consumers see only committed records', async () => {
    const p = await producer('tx-a');
    const t1 = await p.transaction();
    await t1.send({ topic: 'txn-data', messages: [0, 1, 2, 3].map((i) => ({ value: `committed-${i}`, partition: i % 2 })) });
    await t1.commit();
    const t2 = await p.transaction();
    await t2.send({ topic: 'txn-data', messages: [0, 1].map((i) => ({ value: `aborted-${i}`, partition: i % 2 })) });
    await t2.abort();
    const t3 = await p.transaction();
    await t3.send({ topic: 'txn-data', messages: [{ value: 'committed-4', partition: 0 }] });
    await t3.commit();

    expect(await readAll('rc', false, 5)).toEqual(['committed-0', 'committed-1', 'committed-2', 'committed-3', 'committed-4']);
    expect((await readAll('ru', true, 7)).filter((v) => v.startsWith('aborted'))).toEqual(['aborted-0', 'aborted-1']);
  }, 120_000);

  it('a new producer with the same transactional id fences the old one', async () => {
    const old = await producer('tx-b');
    const t = await old.transaction();
    await t.send({ topic: 'txn-data', messages: [{ value: 'zombie', partition: 0 }] });
    const fresh = await producer('tx-b');
    const t2 = await fresh.transaction();
    await t2.send({ topic: 'txn-data', messages: [{ value: 'fresh', partition: 1 }] });
    await t2.commit();
    await expect(t.commit()).rejects.toThrow();
  }, 120_000);

  it('offsets sent in a transaction become the group\'s committed offsets only when it commits', async () => {
    const p = await producer('tx-c');
    const admin = kafka(broker.bootstrap, 'admin-offsets').admin();
    await admin.connect();
    try {
      const aborted = await p.transaction();
      await aborted.send({ topic: 'txn-data', messages: [{ value: 'with-offsets-aborted', partition: 0 }] });
      await aborted.sendOffsets({ consumerGroupId: 'txn-group', topics: [{ topic: 'txn-data', partitions: [{ partition: 0, offset: '3' }] }] });
      await aborted.abort();
      const committed = await p.transaction();
      await committed.send({ topic: 'txn-data', messages: [{ value: 'with-offsets', partition: 1 }] });
      await committed.sendOffsets({ consumerGroupId: 'txn-group', topics: [{ topic: 'txn-data', partitions: [{ partition: 1, offset: '5' }] }] });
      const before = await admin.fetchOffsets({ groupId: 'txn-group', topics: ['txn-data'] });
      expect(before[0]!.partitions.map((x) => x.offset).sort()).toEqual(['-1', '-1']);
      await committed.commit();
      let offsets: string[] = [];
      const end = Date.now() + 30_000;
      while (Date.now() < end) {
        const got = await admin.fetchOffsets({ groupId: 'txn-group', topics: ['txn-data'] });
        offsets = got[0]!.partitions.sort((a, b) => a.partition - b.partition).map((x) => x.offset);
        if (offsets[1] === '5') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(offsets).toEqual(['-1', '5']);
    } finally {
      await admin.disconnect();
    }
  }, 120_000);

  it('@platformatic/kafka transactions (the newest request versions) commit and abort', async () => {
    const admin = kafka(broker.bootstrap, 'admin-plat').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'plat-txn', numPartitions: 2 }] });
    await admin.disconnect();
    const p = new PlatformaticProducer({ clientId: 'plat', bootstrapBrokers: [broker.bootstrap], serializers: stringSerializers, autocreateTopics: false, idempotent: true, transactionalId: 'plat-tx', retries: 10, retryDelay: 200 });
    try {
      const committed = await p.beginTransaction();
      await committed.send({ messages: [{ topic: 'plat-txn', partition: 0, key: 'k', value: 'c0' }, { topic: 'plat-txn', partition: 1, key: 'k', value: 'c1' }] });
      await committed.commit();
      const aborted = await p.beginTransaction();
      await aborted.send({ messages: [{ topic: 'plat-txn', partition: 0, key: 'k', value: 'a0' }] });
      await aborted.abort();
    } finally {
      await p.close();
    }
    const c = kafka(broker.bootstrap, 'plat-reader').consumer({ groupId: 'plat-reader', readUncommitted: false, maxWaitTimeInMs: 200 });
    consumers.push(c);
    await c.connect();
    await c.subscribe({ topic: 'plat-txn', fromBeginning: true });
    const seen: string[] = [];
    await c.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await until('two committed records', () => seen.length >= 2);
    await new Promise((r) => setTimeout(r, 1500));
    await c.disconnect();
    expect(seen.sort()).toEqual(['c0', 'c1']);
  }, 120_000);

  it('DescribeTransactions and ListTransactions report the coordinator state, also after a restart', async () => {
    const describe = async () => {
      const client = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: 'describe' });
      try {
        const found = await client.send('any', ApiKey.FindCoordinator, { key: 'tx-a', keyType: 1, coordinatorKeys: ['tx-a'] });
        expect(found.coordinators?.[0]?.errorCode ?? found.errorCode).toBe(0);
        const d = await client.send('any', ApiKey.DescribeTransactions, { transactionalIds: ['tx-a', 'nope'] });
        const l = await client.send('any', ApiKey.ListTransactions, { stateFilters: [], producerIdFilters: [], durationFilter: -1n });
        return { d, l };
      } finally {
        await client.close();
      }
    };
    const before = await describe();
    expect(before.d.transactionStates.map((s) => [s.transactionalId, s.errorCode, s.transactionState])).toEqual([
      ['tx-a', 0, 'CompleteCommit'],
      ['nope', 105, ''],
    ]);
    expect(before.l.transactionStates.map((s) => s.transactionalId).sort()).toEqual(['plat-tx', 'tx-a', 'tx-b', 'tx-c']);
    await broker.restart();
    let after: Awaited<ReturnType<typeof describe>> | undefined;
    const end = Date.now() + 60_000;
    while (Date.now() < end) {
      after = await describe().catch(() => undefined);
      if (after?.d.transactionStates[0]?.errorCode === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(after!.d.transactionStates[0]).toMatchObject({ transactionalId: 'tx-a', transactionState: 'CompleteCommit', producerId: before.d.transactionStates[0]!.producerId });
  }, 180_000);

  it('a late transactional batch after its transaction was aborted is refused; with verification off it hangs', async () => {
    const client = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: 'late' });
    try {
      const created = await client.createTopics([{ name: 'txn-late', numPartitions: 1, replicationFactor: 1 }]);
      expect(created.topics[0]!.errorCode).toBe(0);
      await client.metadata(['txn-late']);
      const init = await coordinatorCall(() => client.send('any', ApiKey.InitProducerId, { transactionalId: 'late-tx', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 }), (r) => r.errorCode);
      expect(init.errorCode).toBe(0);
      const { producerId, producerEpoch } = init;
      const txn = { transactionalId: 'late-tx', producerId, producerEpoch };
      const added = await coordinatorCall(
        () => client.send('any', ApiKey.AddPartitionsToTxn, { v3AndBelowTransactionalId: 'late-tx', v3AndBelowProducerId: producerId, v3AndBelowProducerEpoch: producerEpoch, v3AndBelowTopics: [{ name: 'txn-late', partitions: [0] }] }, { version: 3 }),
        (r) => r.resultsByTopicV3AndBelow![0]!.resultsByPartition[0]!.partitionErrorCode,
      );
      expect(added.resultsByTopicV3AndBelow![0]!.resultsByPartition[0]!.partitionErrorCode).toBe(0);
      const batch = (value: string, seq: number) =>
        encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), isTransactional: true, producerId, producerEpoch, baseSequence: seq, records: [{ timestampDelta: 0, offsetDelta: 0, key: null, value: Buffer.from(value) }] });
      expect((await client.produce('txn-late', 0, batch('first', 0), { acks: -1, transactionalId: 'late-tx' }))!.baseOffset).toBe(0n);
      const ended = await coordinatorCall(() => client.send('any', ApiKey.EndTxn, { ...txn, committed: false }), (r) => r.errorCode);
      expect(ended.errorCode).toBe(0);
      // The abort marker is written: nothing is open on the partition.
      const stable = async () => [(await client.listOffsets('txn-late', 0, -1, { isolationLevel: 1 })).offset, (await client.listOffsets('txn-late', 0, -1)).offset];
      const end = Date.now() + 30_000;
      while ((await stable())[0] !== 2n && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
      expect(await stable()).toEqual([2n, 2n]);

      // The producer's second batch, delayed past the abort (a retry, a slow network): the leader
      // asks the coordinator, which has no such partition in a transaction of this producer.
      await expect(client.produce('txn-late', 0, batch('late', 1), { acks: -1, transactionalId: 'late-tx' })).rejects.toMatchObject({ errorCode: ErrorCode.INVALID_TXN_STATE });
      expect(await stable()).toEqual([2n, 2n]);

      // Without the check the same batch is taken and opens a transaction no coordinator will end:
      // read_committed readers are held at it.
      await setVerification(client, false);
      try {
        expect((await client.produce('txn-late', 0, batch('late', 1), { acks: -1, transactionalId: 'late-tx' }))!.baseOffset).toBe(2n);
        expect(await stable()).toEqual([2n, 3n]);
      } finally {
        await setVerification(client, true);
      }
      // Ended as an operator ends a hanging transaction (the marker the coordinator never sends, at
      // the coordinator epoch of the producer's last marker).
      const described = await client.send('any', ApiKey.DescribeProducers, { topics: [{ name: 'txn-late', partitionIndexes: [0] }] });
      const coordinatorEpoch = described.topics[0]!.partitions[0]!.activeProducers.find((a) => a.producerId === producerId)!.coordinatorEpoch;
      const m = await client.send('any', ApiKey.WriteTxnMarkers, { markers: [{ producerId, producerEpoch, transactionResult: false, coordinatorEpoch, topics: [{ name: 'txn-late', partitionIndexes: [0] }] }] });
      expect(m.markers[0]!.topics[0]!.partitions[0]!.errorCode).toBe(0);
      expect(await stable()).toEqual([4n, 4n]);
    } finally {
      await client.close();
    }
  }, 120_000);

  it('samsa transactions: list, describe, describe-producers, find-hanging and abort', async () => {
    const cli = async (action: string, o: Record<string, string> = {}) => {
      const out: string[] = [];
      const err: string[] = [];
      let code = 0;
      const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), fail: (c: number) => (code = c) };
      await runAction(io, 'Error: ', () => runTransactions(action, { bootstrapServer: broker.bootstrap, ...o }, io));
      return { out: out.join(''), err: err.join(''), code };
    };
    const list = await cli('list');
    expect(list.out.split('\n')[0]).toMatch(/^TransactionalId\s*\tCoordinator\s*\tProducerId\s*\tTransactionState\s*\t$/);
    expect(list.out).toMatch(/tx-a\s*\t1\s*\t\d+\s*\tCompleteCommit/);
    const d = await cli('describe', { transactionalId: 'tx-a' });
    expect(d.out.split('\n')[1]).toMatch(/^1\s*\ttx-a\s*\t\d+\s*\t\d+\s*\tCompleteCommit\s*\t30000\s*\t/);
    expect((await cli('describe', { transactionalId: 'nobody' })).err).toContain('TRANSACTIONAL_ID_NOT_FOUND');

    // A transaction its coordinator never heard of: a transactional batch from an idempotent
    // producer id, which the leader takes only while KIP-890 verification is off.
    const client = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: 'hanging' });
    await setVerification(client, false);
    try {
      const { producerId } = await client.send('any', ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60000 });
      const batch = encodeRecordBatch({ baseTimestamp: BigInt(Date.now() - 120_000), isTransactional: true, producerId, producerEpoch: 0, baseSequence: 0, records: [{ timestampDelta: 0, offsetDelta: 0, key: null, value: Buffer.from('hanging') }] });
      const appended = await client.produce('txn-data', 1, batch, { acks: -1, transactionalId: 'ghost' });
      const producers = await cli('describe-producers', { topic: 'txn-data', partition: '1' });
      expect(producers.out).toMatch(new RegExp(`${producerId}\\s*\\t0\\s*\\t\\S+\\s*\\t0\\s*\\t\\d+\\s*\\t${appended!.baseOffset}`));
      const hanging = await cli('find-hanging', { brokerId: '1', maxTransactionTimeout: '0' });
      expect(hanging.out.split('\n').filter((l) => l.startsWith('txn-data'))).toEqual([expect.stringMatching(new RegExp(`^txn-data\\s*\\t1\\s*\\t${producerId}\\s`))]);
      const aborted = await cli('abort', { topic: 'txn-data', partition: '1', startOffset: String(appended!.baseOffset) });
      expect([aborted.code, aborted.err]).toEqual([0, '']);
      expect((await cli('find-hanging', { brokerId: '1', maxTransactionTimeout: '0' })).out.split('\n').filter((l) => l.startsWith('txn-data'))).toEqual([]);
    } finally {
      await setVerification(client, true).catch(() => undefined);
      await client.close();
    }
  }, 120_000);
});
