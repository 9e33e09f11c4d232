// Transactions open while the broker (partition leader and transaction coordinator in one
// process) is killed (SIGKILL) or stopped (SIGTERM), in a real broker process: one transaction's
// EndTxn(commit) was accepted just before, another was never ended. After the restart the first is
// completed (its PrepareCommit finished, commit markers on every partition) and the second is
// aborted once its transaction.timeout.ms has passed; every partition's last stable offset reaches
// its high watermark. A kafkajs read_committed consumer running across the restart never gets a
// record of the aborted transaction, and gets every record of the committed one; a new one after
// it gets exactly those.
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess } from '../../conformance/harness/broker-process.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';

const OVERRIDES = {
  'offsets.topic.num.partitions': '3',
  'transaction.state.log.num.partitions': '3',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
  'group.initial.rebalance.delay.ms': '0',
  // Timed-out transactions are looked for every second (Kafka: every 10 s).
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': '1000',
};
const PARTITIONS = 2;
const OPEN_TIMEOUT_MS = 8000;

function kafka(bootstrap: string, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 } });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const RETRIABLE: ReadonlySet<number> = new Set([ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR, ErrorCode.CONCURRENT_TRANSACTIONS]);

/** A transactional producer driven request by request, so the test knows where each one stands. */
class RawTxnProducer {
  private seq = new Map<number, number>();
  producerId = -1n;
  producerEpoch = -1;

  constructor(
    private readonly client: KafkaClient,
    readonly transactionalId: string,
  ) {}

  private async coordinator<T>(call: () => Promise<T>, codeOf: (r: T) => number): Promise<void> {
    const r = await until(`${this.transactionalId}: coordinator answer`, async () => {
      const x = await call();
      return RETRIABLE.has(codeOf(x)) ? undefined : x;
    });
    expect(codeOf(r), this.transactionalId).toBe(ErrorCode.NONE);
  }

  async init(timeoutMs: number): Promise<void> {
    await this.coordinator(
      async () => {
        const r = await this.client.send('any', ApiKey.InitProducerId, { transactionalId: this.transactionalId, transactionTimeoutMs: timeoutMs, producerId: -1n, producerEpoch: -1 });
        this.producerId = r.producerId;
        this.producerEpoch = r.producerEpoch;
        return r;
      },
      (r) => r.errorCode,
    );
  }

  async send(topic: string, values: string[]): Promise<void> {
    const byPartition = new Map<number, string[]>();
    values.forEach((v, i) => byPartition.set(i % PARTITIONS, [...(byPartition.get(i % PARTITIONS) ?? []), v]));
    await this.coordinator(
      () =>
        this.client.send(
          'any',
          ApiKey.AddPartitionsToTxn,
          { v3AndBelowTransactionalId: this.transactionalId, v3AndBelowProducerId: this.producerId, v3AndBelowProducerEpoch: this.producerEpoch, v3AndBelowTopics: [{ name: topic, partitions: [...byPartition.keys()] }] },
          { version: 3 },
        ),
      (r) => r.resultsByTopicV3AndBelow!.flatMap((t) => t.resultsByPartition).find((p) => p.partitionErrorCode !== ErrorCode.NONE)?.partitionErrorCode ?? ErrorCode.NONE,
    );
    for (const [partition, vs] of byPartition) {
      const seq = this.seq.get(partition) ?? 0;
      this.seq.set(partition, seq + vs.length);
      const batch = encodeRecordBatch({
        baseTimestamp: BigInt(Date.now()),
        isTransactional: true,
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        baseSequence: seq,
        records: vs.map((v, i) => ({ timestampDelta: 0, offsetDelta: i, key: null, value: Buffer.from(v) })),
      });
      await this.client.produce(topic, partition, batch, { acks: -1, transactionalId: this.transactionalId });
    }
  }

  async end(commit: boolean): Promise<void> {
    await this.coordinator(() => this.client.send('any', ApiKey.EndTxn, { transactionalId: this.transactionalId, producerId: this.producerId, producerEpoch: this.producerEpoch, committed: commit }), (r) => r.errorCode);
  }
}

describe('open transactions across a broker crash and a clean stop', () => {
  let broker: BrokerProcess;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    broker = await BrokerProcess.start({ overrides: OVERRIDES, startTimeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    for (const c of consumers) await c.disconnect().catch(() => undefined);
    await broker?.destroy();
  }, 60_000);

  async function reader(groupId: string, topic: string): Promise<string[]> {
    const c = kafka(broker.bootstrap, groupId).consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 200, sessionTimeout: 30_000 });
    consumers.push(c);
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await c.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    return seen;
  }

  /** [last stable offset, high watermark] of each partition. */
  async function offsets(client: KafkaClient, topic: string): Promise<[bigint, bigint][]> {
    const out: [bigint, bigint][] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      const lso = (await client.listOffsets(topic, p, -1, { isolationLevel: 1 })).offset ?? -1n;
      const hw = (await client.listOffsets(topic, p, -1)).offset ?? -1n;
      out.push([lso, hw]);
    }
    return out;
  }

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`${signal}: an accepted commit is completed and an unended transaction aborted by its timeout after the restart`, async () => {
      const topic = `crash-${signal.toLowerCase()}`;
      let client = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: `crash-${signal}` });
      try {
        const created = await client.createTopics([{ name: topic, numPartitions: PARTITIONS, replicationFactor: 1 }]);
        expect(created.topics[0]!.errorCode).toBe(ErrorCode.NONE);
        await client.metadata([topic]);
        const live = await reader(`live-${signal}`, topic);

        const committed = Array.from({ length: 6 }, (_, i) => `commit-${i}`);
        const aborted = Array.from({ length: 6 }, (_, i) => `open-${i}`);
        const open = new RawTxnProducer(client, `open-${signal}`);
        await open.init(OPEN_TIMEOUT_MS);
        await open.send(topic, aborted);
        const commit = new RawTxnProducer(client, `commit-${signal}`);
        await commit.init(60_000);
        await commit.send(topic, committed.slice(0, 4));
        await commit.send(topic, committed.slice(4));
        await commit.end(true);
        // At once, with the commit's markers possibly still on their way.
        await client.close();
        await broker.restart(signal);

        client = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: `after-${signal}` });
        const settled = await until(
          'every partition stable',
          async () => {
            const o = await offsets(client, topic);
            return o.every(([lso, hw]) => lso === hw && hw > 0n) ? o : undefined;
          },
          90_000,
        );
        // On each partition 6 records, the abort marker and the commit marker: once, or twice when
        // the broker died after the marker was written but before CompleteCommit was (the
        // coordinator then sends the prepared transaction's markers again, as Kafka's does; a
        // second COMMIT for a producer with no open transaction changes nothing).
        for (const [, hw] of settled) expect([8n, 9n]).toContain(hw);
        const described = await until('both transactions complete', async () => {
          const d = await client.send('any', ApiKey.DescribeTransactions, { transactionalIds: [commit.transactionalId, open.transactionalId] });
          const states = d.transactionStates.map((s) => s.transactionState);
          return states[0] === 'CompleteCommit' && states[1] === 'CompleteAbort' ? states : undefined;
        });
        expect(described).toEqual(['CompleteCommit', 'CompleteAbort']);

        const fresh = await reader(`fresh-${signal}`, topic);
        await until('the committed records', async () => (fresh.length >= committed.length && live.length >= committed.length ? true : undefined));
        // A little longer: nothing more may arrive.
        await new Promise((r) => setTimeout(r, 2000));
        expect([...fresh].sort()).toEqual(committed);
        expect(live.filter((v) => !committed.includes(v))).toEqual([]);
        expect(new Set(live)).toEqual(new Set(committed));
      } finally {
        await client.close();
      }
    }, 240_000);
  }
});
