// Fetching from the closest replica (KIP-392) on a three-node cluster of real processes, each
// node in its own rack (broker.rack) and replica.selector.class=RackAwareReplicaSelector: a
// consumer naming a follower's rack is sent there by the leader (preferredReadReplica, no
// records), the follower serves it below its high watermark, older Fetch versions still read
// from the leader only, and a kafkajs consumer with that rackId reads every record with the
// follower's byte counter (its own /metrics) moving; so does a librdkafka consumer with
// client.rack (confluent-kafka-python, skipped with a message where it is missing).
import { appendFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { PartitionData } from '../../protocol/generated/message/fetch-response.ts';
import { decodeRecordBatch, iterateBatches } from '../../protocol/records/record-batch.ts';
import { eventually, FAST_FAILOVER_PROPERTIES, type PartitionView, partitionViews } from '../harness/cluster-checks.ts';
import { runJson } from '../harness/child-json.ts';
import { ClusterProcess, type NodeProcess } from '../harness/cluster-process.ts';
import { PYTHON, pythonModuleVersion } from '../harness/python.ts';

const TOPIC = 'closest';
const RECORDS = 200;
const rackOf = (id: number) => `rack-${id}`;
const RACK_CONSUMER = join(dirname(fileURLToPath(import.meta.url)), 'rack_consumer.py');
const librdkafka = await pythonModuleVersion('confluent_kafka', 'confluent_kafka.libversion()[0]', 'python3-confluent-kafka');
if ('unavailable' in librdkafka) console.warn(`[conformance] fetch from the closest replica through librdkafka skipped: ${librdkafka.unavailable}`);

let cluster: ClusterProcess;
let view: PartitionView;

beforeAll(async () => {
  cluster = await ClusterProcess.prepare({ nodes: 3, properties: { ...FAST_FAILOVER_PROPERTIES, 'replica.selector.class': 'org.apache.kafka.common.replica.RackAwareReplicaSelector' } });
  for (const n of cluster.nodes) await appendFile(n.propertiesFile, `broker.rack=${rackOf(n.id)}\n`);
  await Promise.all(cluster.nodes.map((n) => n.start()));
  const kafka = new Kafka({ clientId: 'ffr-setup', brokers: cluster.bootstrap, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
  } finally {
    await admin.disconnect();
  }
  view = await eventually('a leader with all three replicas in sync', 60_000, async () => {
    const v = (await partitionViews(cluster.bootstrap, TOPIC, 1))?.[0];
    return v && v.leader >= 0 && v.isr.length === 3 ? v : undefined;
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
  } finally {
    await producer.disconnect();
  }
}, 180_000);

afterAll(async () => {
  await cluster?.destroy();
});

/** One consumer Fetch of partition 0 from `node` at `version`, naming `rack` (v11+). */
async function fetchFrom(node: NodeProcess, version: number, rack: string, fetchOffset = 0n): Promise<PartitionData> {
  const c = await KafkaConnection.connect('127.0.0.1', node.port, { requestTimeoutMs: 10_000 });
  try {
    const topicId = (await c.send(ApiKey.Metadata, { topics: [{ name: TOPIC, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false, includeClusterAuthorizedOperations: false }, { version: 12 })).topics[0]!.topicId;
    const r = await c.send(
      ApiKey.Fetch,
      {
        clusterId: null,
        replicaId: -1,
        replicaState: { replicaId: -1, replicaEpoch: -1n },
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: TOPIC, topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA' }] }],
        forgottenTopicsData: [],
        rackId: rack,
      },
      { version },
    );
    return r.responses[0]!.partitions[0]!;
  } finally {
    await c.close();
  }
}

function recordCount(records: Buffer | null | undefined): number {
  let n = 0;
  if (!records) return 0;
  for (const e of iterateBatches(records, { allowPartial: true })) n += decodeRecordBatch(records, e.position).records.length;
  return n;
}

async function bytesOut(node: NodeProcess): Promise<number> {
  const line = node.logs.split('\n').find((l) => l.includes('"msg":"http listening"'));
  const port = line ? (JSON.parse(line) as { port: number }).port : undefined;
  if (port === undefined) throw new Error(`node ${node.id} logged no HTTP port`);
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('kafka_server_brokertopicmetrics_bytesout_total{') && l.includes(`topic="${TOPIC}"`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('fetch from the closest replica (KIP-392)', () => {
  it('the leader points a consumer at the in-sync follower in its rack, without records', async () => {
    const follower = view.replicas.find((id) => id !== view.leader)!;
    const answer = await fetchFrom(cluster.node(view.leader), 16, rackOf(follower));
    expect(answer.errorCode).toBe(ErrorCode.NONE);
    expect(answer.preferredReadReplica).toBe(follower);
    expect(recordCount(answer.records)).toBe(0);
    expect(answer.highWatermark).toBe(BigInt(RECORDS));
    // In the leader's own rack, or naming none, the consumer stays on the leader and reads.
    for (const rack of [rackOf(view.leader), '']) {
      const here = await fetchFrom(cluster.node(view.leader), 16, rack);
      expect(here.preferredReadReplica).toBe(-1);
      expect(recordCount(here.records)).toBe(RECORDS);
    }
  });

  it('a follower serves consumers of Fetch v11+ below its high watermark, and older versions not at all', async () => {
    const follower = cluster.node(view.replicas.find((id) => id !== view.leader)!);
    const answer = await eventually('the follower to have every record below its high watermark', 30_000, async () => {
      const a = await fetchFrom(follower, 16, rackOf(follower.id));
      return a.highWatermark === BigInt(RECORDS) ? a : undefined;
    });
    expect(answer.errorCode).toBe(ErrorCode.NONE);
    expect(answer.preferredReadReplica).toBe(-1);
    expect(recordCount(answer.records)).toBe(RECORDS);
    expect((await fetchFrom(follower, 11, rackOf(follower.id))).errorCode).toBe(ErrorCode.NONE);
    expect((await fetchFrom(follower, 10, '')).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });

  it('a kafkajs consumer with rackId reads everything from the follower in its rack', async () => {
    const follower = cluster.node(view.replicas.find((id) => id !== view.leader)!);
    const before = await bytesOut(follower);
    const kafka = new Kafka({ clientId: 'ffr-consumer', brokers: cluster.bootstrap, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: 'ffr-group', rackId: rackOf(follower.id), maxWaitTimeInMs: 200 });
    const seen = new Set<string>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.add(message.value!.toString()) });
      await eventually(`all ${RECORDS} records consumed`, 60_000, async () => seen.size === RECORDS);
    } finally {
      await consumer.disconnect();
    }
    expect([...seen].sort()).toEqual(Array.from({ length: RECORDS }, (_, i) => `v${i}`).sort());
    expect(await bytesOut(follower)).toBeGreaterThan(before);
  });

  it.skipIf('unavailable' in librdkafka)('a librdkafka consumer with client.rack reads everything from the follower in its rack', async () => {
    const followerId = view.replicas.filter((id) => id !== view.leader).at(-1)!;
    const follower = cluster.node(followerId);
    const before = await bytesOut(follower);
    const answer = await runJson<{ values: string[]; fetchedFrom: number[] }>(PYTHON, [RACK_CONSUMER], {
      input: JSON.stringify({ bootstrap: cluster.bootstrap.join(','), topic: TOPIC, rack: rackOf(followerId), count: RECORDS, group: 'ffr-librdkafka' }),
      timeoutMs: 90_000,
    });
    expect([...answer.values].sort()).toEqual(Array.from({ length: RECORDS }, (_, i) => `v${i}`).sort());
    expect(answer.fetchedFrom).toContain(followerId);
    expect(await bytesOut(follower)).toBeGreaterThan(before);
  });
});
