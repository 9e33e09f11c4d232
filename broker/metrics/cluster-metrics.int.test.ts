// Metrics and readiness of a three-node cluster in one process (startCluster): each node serves
// its own registry on its own port, exactly one reports itself the active controller and all
// agree on the quorum leader; replicated produce is counted as bytes in on the leader only; a
// broker that stops leaves the partition under-replicated on its leader and the stopped node's
// HTTP listener goes with it while the others stay ready.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type StartedCluster } from '../../index.ts';
import { Scrape } from './scrape.ts';

const TOPIC = 'replicated';

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('metrics of a three-node cluster', () => {
  let cluster: StartedCluster;
  const urls = new Map<number, string>();

  beforeAll(async () => {
    cluster = await startCluster({ brokers: 3, overrides: { 'http.listeners': 'http://127.0.0.1:0', 'offsets.topic.replication.factor': '3' } });
    for (const n of cluster.nodes) urls.set(n.nodeId, `http://127.0.0.1:${n.broker!.httpListeners[0]!.port}`);
    const admin = new Kafka({ clientId: 'cluster-metrics', brokers: cluster.bootstrap.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    await admin.disconnect();
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('each node reports its own view; bytes in only on the leader', async () => {
    expect(new Set(urls.values()).size).toBe(3);
    for (const url of urls.values()) expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    const producer = new Kafka({ clientId: 'cluster-metrics', brokers: cluster.bootstrap.split(','), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ value: `v${i}` })) });
    await producer.disconnect();
    const scrapes = new Map<number, Scrape>();
    for (const [id, url] of urls) scrapes.set(id, await Scrape.of(url));
    const active = [...scrapes.values()].map((s) => s.value('kafka_controller_kafkacontroller_activecontrollercount') ?? 0);
    expect(active.reduce((a, b) => a + b, 0)).toBe(1);
    const leaders = new Set([...scrapes.values()].map((s) => s.value('kafka_server_raftmetrics_current_leader')));
    expect(leaders.size).toBe(1);
    const leading = [...scrapes.entries()].filter(([, s]) => (s.value('kafka_server_brokertopicmetrics_messagesin_total', { topic: TOPIC }) ?? 0) === 20);
    expect(leading).toHaveLength(1);
    for (const [id, s] of scrapes) {
      if (id !== leading[0]![0]) expect(s.value('kafka_server_brokertopicmetrics_messagesin_total', { topic: TOPIC }) ?? 0).toBe(0);
      expect(s.value('kafka_log_log_logendoffset', { topic: TOPIC, partition: '0' })).toBe(20);
      expect(s.value('kafka_controller_kafkacontroller_activebrokercount')).toBe(3);
    }
    expect(leading[0]![1].value('kafka_server_replicamanager_underreplicatedpartitions')).toBe(0);
  }, 120_000);

  it('a stopped follower leaves the partition under-replicated on its leader', async () => {
    const leaderId = await until('a leader', async () => {
      for (const [id, url] of urls) if ((await Scrape.of(url)).value('kafka_server_brokertopicmetrics_messagesin_total', { topic: TOPIC })) return id;
      return undefined;
    });
    const follower = cluster.nodes.find((n) => n.nodeId !== leaderId && !(n.broker?.context.controller.isActive ?? false))!;
    const followerUrl = urls.get(follower.nodeId)!;
    await follower.stop();
    await expect(fetch(`${followerUrl}/health/live`)).rejects.toThrow();
    const s = await until('under-replicated', async () => {
      const x = await Scrape.of(urls.get(leaderId)!);
      return (x.value('kafka_server_replicamanager_underreplicatedpartitions') ?? 0) >= 1 ? x : undefined;
    });
    expect(s.value('kafka_server_replicamanager_leadercount')).toBeGreaterThanOrEqual(1);
    for (const [id, url] of urls) if (id !== follower.nodeId) expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    const controllerView = await until('the fenced broker counted', async () => {
      for (const url of [...urls.entries()].filter(([id]) => id !== follower.nodeId).map(([, u]) => u)) {
        const x = await Scrape.of(url);
        if (x.value('kafka_controller_kafkacontroller_activecontrollercount') === 1 && x.value('kafka_controller_kafkacontroller_fencedbrokercount') === 1) return x;
      }
      return undefined;
    });
    expect(controllerView.value('kafka_controller_kafkacontroller_activebrokercount')).toBe(2);
  }, 120_000);
});
