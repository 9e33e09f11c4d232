// Transactions on a three-node cluster (real processes): the coordinator sends markers to
// partition leaders on other brokers, and when the coordinator's broker is killed, another
// broker becomes leader of the `__transaction_state` partition, loads it from its replica and
// the producer carries on; a read_committed consumer sees exactly the committed records.
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterProcess } from '../../conformance/harness/cluster-process.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';

const TOPIC = 'cluster-txn';

function kafka(brokers: string[], clientId: string): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 3000 } });
}

describe('transactions on a three-node cluster', () => {
  let cluster: ClusterProcess;
  let brokers: string[];
  const producers: Producer[] = [];

  beforeAll(async () => {
    cluster = await ClusterProcess.start({
      nodes: 3,
      startTimeoutMs: 90_000,
      properties: {
        'transaction.state.log.num.partitions': '3',
        'transaction.state.log.replication.factor': '3',
        'transaction.state.log.min.isr': '2',
        'offsets.topic.num.partitions': '3',
        'group.initial.rebalance.delay.ms': '0',
      },
    });
    brokers = cluster.nodes.map((n) => n.bootstrap);
    const admin = kafka(brokers, 'admin').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    await admin.disconnect();
  }, 180_000);

  afterAll(async () => {
    for (const p of producers) await p.disconnect().catch(() => undefined);
    await cluster?.destroy();
  }, 60_000);

  async function coordinatorOf(transactionalId: string): Promise<number> {
    const client = new KafkaClient({ bootstrapServers: brokers.filter((_, i) => cluster.nodes[i]!.running), clientId: 'find' });
    try {
      const r = await client.send('any', ApiKey.FindCoordinator, { key: transactionalId, keyType: 1, coordinatorKeys: [transactionalId] });
      return r.coordinators![0]!.nodeId;
    } finally {
      await client.close();
    }
  }

  async function committedValues(live: string[], expected: number): Promise<string[]> {
    const c = kafka(live, `reader-${Date.now()}`).consumer({ groupId: `reader-${Date.now()}`, readUncommitted: false, maxWaitTimeInMs: 200 });
    await c.connect();
    await c.subscribe({ topic: TOPIC, fromBeginning: true });
    const seen: string[] = [];
    await c.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    const end = Date.now() + 90_000;
    while (seen.length < expected && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1500));
    await c.disconnect();
    return seen.sort();
  }

  it('markers reach leaders on every broker, and the coordinator fails over', async () => {
    const p = kafka(brokers, 'txn-producer').producer({ transactionalId: 'cluster-tx', idempotent: true, maxInFlightRequests: 1 });
    producers.push(p);
    await p.connect();
    const expected: string[] = [];
    for (let round = 0; round < 3; round++) {
      const t = await p.transaction();
      const values = [0, 1, 2].map((part) => `r${round}-p${part}`);
      await t.send({ topic: TOPIC, messages: values.map((value, part) => ({ value, partition: part })) });
      if (round === 1) {
        await t.abort();
      } else {
        await t.commit();
        expected.push(...values);
      }
    }
    const coordinator = await coordinatorOf('cluster-tx');
    expect(coordinator).toBeGreaterThan(0);
    await cluster.node(coordinator).kill();
    const live = cluster.nodes.filter((n) => n.running).map((n) => n.bootstrap);

    // The producer's next transactions go to the new coordinator, which loaded the id's state.
    let after = -1;
    const end = Date.now() + 60_000;
    while (Date.now() < end) {
      after = await coordinatorOf('cluster-tx').catch(() => -1);
      if (after > 0 && after !== coordinator) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(after).not.toBe(coordinator);
    const t = await p.transaction();
    await t.send({ topic: TOPIC, messages: [0, 1, 2].map((part) => ({ value: `after-p${part}`, partition: part })) });
    await t.commit();
    expected.push('after-p0', 'after-p1', 'after-p2');

    expect(await committedValues(live, expected.length)).toEqual(expected.sort());
  }, 300_000);
});
