// startCluster() as another project's test suite uses it: three combined nodes in this process,
// a replicated topic written with acks=all by kafkajs while the leader's node is killed (halted
// as a crash looks) and started again; every acknowledged record is read back once, and the
// killed node returns to the ISR. A controller-only layout starts and serves too.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster, type StartedCluster } from '../index.ts';
import { eventually, partitionViews } from '../conformance/harness/cluster-checks.ts';
import { readPartition } from '../conformance/harness/read-back.ts';
import { KafkaClient } from '../protocol/client/client.ts';

const FAST = {
  'controller.quorum.election.timeout.ms': '500',
  'controller.quorum.fetch.timeout.ms': '1000',
  'controller.quorum.request.timeout.ms': '1000',
  'broker.heartbeat.interval.ms': '300',
  'broker.session.timeout.ms': '3000',
  'replica.lag.time.max.ms': '1500',
  'replica.fetch.wait.max.ms': '200',
};

const clusters: StartedCluster[] = [];
afterAll(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
});

describe('startCluster', () => {
  it('keeps every acknowledged record across a kill and restart of the leader', async () => {
    const cluster = await startCluster({ brokers: 3, overrides: { ...FAST, 'min.insync.replicas': '2' } });
    clusters.push(cluster);
    expect(cluster.nodes.map((n) => n.roles.join(','))).toEqual(['broker,controller', 'broker,controller', 'broker,controller']);
    const bootstrap = cluster.bootstrap.split(',');
    const kafka = new Kafka({ clientId: 'embedded-test', brokers: bootstrap, logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kept', numPartitions: 1, replicationFactor: 3 }] });
    await admin.disconnect();
    const full = await eventually('a leader with a full ISR', 20_000, async () => {
      const v = (await partitionViews(bootstrap, 'kept', 1))?.[0];
      return v && v.leader >= 0 && v.isr.length === 3 ? v : undefined;
    });

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acked: string[] = [];
    const send = async (n: number, prefix: string) => {
      for (let i = 0; i < n; i++) {
        const value = `${prefix}-${i}`;
        await producer.send({ topic: 'kept', acks: -1, messages: [{ value }] });
        acked.push(value);
      }
    };
    await send(20, 'before');
    const victim = cluster.node(full.leader);
    await victim.kill();
    expect(victim.running).toBe(false);
    await send(20, 'during');
    await victim.start();
    await send(20, 'after');
    await producer.disconnect();

    await eventually('the killed node back in the ISR', 30_000, async () => (await partitionViews(bootstrap, 'kept', 1))?.[0]?.isr.includes(victim.nodeId));
    const c = new KafkaClient({ bootstrapServers: bootstrap, clientId: 'embedded-test', retries: 5 });
    await c.connect();
    try {
      const read = await readPartition(c, 'kept', 0);
      expect(read.records.map((r) => r.value)).toEqual(acked);
    } finally {
      await c.close();
    }
  }, 120_000);

  it('runs controller-only nodes beside broker-only ones', async () => {
    const cluster = await startCluster({ brokers: 2, controllers: 1, overrides: FAST });
    clusters.push(cluster);
    expect(cluster.nodes.map((n) => [n.nodeId, n.roles.join(','), n.bootstrap !== undefined])).toEqual([
      [1, 'controller', false],
      [2, 'broker', true],
      [3, 'broker', true],
    ]);
    const c = new KafkaClient({ bootstrapServers: cluster.bootstrap.split(','), clientId: 'embedded-test', retries: 5 });
    await c.connect();
    try {
      expect((await c.metadata([])).brokers.map((b) => b.nodeId).sort()).toEqual([2, 3]);
    } finally {
      await c.close();
    }
    await cluster.node(3).stop();
    expect(cluster.node(3).running).toBe(false);
  }, 60_000);
});
