// @platformatic/kafka against a broker process and a three-node cluster: Admin (metadata,
// create/delete topics), Producer (acks 0/1/all, each codec this Node has, idempotent) and
// Consumer. Its consume() always joins a group, so records are read back without one through
// Consumer.fetch (a raw Fetch to the partition leader by topic id) and offsets by timestamp come
// from Consumer.listOffsets.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import zlib from 'node:zlib';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { defineClientSuite, type ClientDriver, type ClientSuiteOptions } from '../harness/client-suite.ts';
import { singleBroker, threeNodeCluster } from '../harness/target.ts';
import type { ReadRecord } from '../harness/records.ts';

const require = createRequire(import.meta.url);
const MAX_FETCHES = 100;

async function platformaticDriver(bootstrap: string): Promise<ClientDriver> {
  const base = { clientId: 'conformance-platformatic', bootstrapBrokers: bootstrap.split(','), retries: 5, retryDelay: 200, timeout: 15_000 };
  const admin = new Admin(base);
  const producer = new Producer({ ...base, serializers: stringSerializers, autocreateTopics: false });
  let idempotent: Producer<string, string, string, string> | undefined;
  const consumer = new Consumer({ ...base, groupId: 'conformance-platformatic', deserializers: stringDeserializers });

  async function readPartition(topic: string, partition: number): Promise<ReadRecord[]> {
    const md = await consumer.metadata({ topics: [topic] });
    const t = md.topics.get(topic)!;
    const leader = t.partitions[partition]!.leader;
    const out: ReadRecord[] = [];
    let offset = 0n;
    for (let n = 0; n < MAX_FETCHES; n++) {
      const response = await consumer.fetch({
        node: leader,
        maxWaitTime: 50,
        topics: [{ topicId: t.id, partitions: [{ partition, fetchOffset: offset, currentLeaderEpoch: -1, lastFetchedEpoch: -1, partitionMaxBytes: 1 << 20 }] }],
      });
      const p = response.responses[0]!.partitions.find((x) => x.partitionIndex === partition)!;
      if (p.errorCode !== 0) throw new Error(`fetch ${topic}-${partition} at ${offset}: error ${p.errorCode}`);
      if (offset >= p.highWatermark) return out;
      for (const batch of p.records ?? []) {
        for (const r of batch.records) {
          const at = batch.firstOffset + BigInt(r.offsetDelta);
          if (at < offset) continue;
          const headers: Record<string, string> = {};
          for (const [k, v] of r.headers) headers[k?.toString() ?? ''] = v?.toString() ?? '';
          out.push({ partition, offset: Number(at), key: r.key?.toString() ?? null, value: r.value?.toString() ?? null, headers, timestamp: Number(batch.firstTimestamp + r.timestampDelta) });
        }
        offset = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
      }
    }
    throw new Error(`${topic}-${partition}: not read to the end in ${MAX_FETCHES} fetches`);
  }

  return {
    async metadata(topic) {
      const md = await admin.metadata({ topics: [topic] });
      return {
        brokers: [...md.brokers.entries()].map(([nodeId, b]) => ({ nodeId, host: b.host, port: b.port })),
        partitions: md.topics.get(topic)!.partitions.map((_, i) => i),
      };
    },
    async createTopics(topics) {
      for (const t of topics) await admin.createTopics({ topics: [t.name], partitions: t.partitions, replicas: 1 });
    },
    async describeTopics(names) {
      const md = await admin.metadata({ topics: [...names] });
      return names.map((name) => ({ name, partitions: md.topics.get(name)!.partitionsCount }));
    },
    async deleteTopics(names) {
      await admin.deleteTopics({ topics: [...names] });
    },
    async produce(topic, records, spec) {
      let p = producer;
      if (spec.idempotent) p = idempotent ??= new Producer({ ...base, serializers: stringSerializers, autocreateTopics: false, idempotent: true });
      await p.send({
        acks: spec.acks,
        compression: spec.compression ?? 'none',
        messages: records.map((r) => ({
          topic,
          partition: r.partition,
          key: r.key,
          value: r.value,
          headers: r.headers,
          ...(r.timestamp === undefined ? {} : { timestamp: BigInt(r.timestamp) }),
        })),
      });
    },
    async consume(topic, partitions) {
      const out: ReadRecord[] = [];
      for (let p = 0; p < partitions; p++) out.push(...(await readPartition(topic, p)));
      return out;
    },
    async offsetForTime(topic, partition, timestamp) {
      const offsets = await consumer.listOffsets({ topics: [topic], partitions: { [topic]: [partition] }, timestamp: BigInt(timestamp) });
      return Number(offsets.get(topic)![partition]);
    },
    async groupConsume(topic, group, expected) {
      const member = new Consumer({ ...base, groupId: group, deserializers: stringDeserializers });
      const got: ReadRecord[] = [];
      try {
        const stream = await member.consume({ topics: [topic], mode: 'earliest', autocommit: false });
        const timer = setTimeout(() => void stream.close(), 30_000);
        for await (const m of stream) {
          const headers: Record<string, string> = {};
          for (const [k, v] of m.headers) headers[String(k)] = String(v);
          got.push({ partition: m.partition, offset: Number(m.offset), key: m.key ?? null, value: m.value ?? null, headers });
          // No autocommit: each record's offset is committed once it is taken.
          await m.commit();
          if (got.length >= expected) break;
        }
        clearTimeout(timer);
        await stream.close();
      } finally {
        await member.close(true);
      }
      return got;
    },
    async close() {
      await idempotent?.close();
      await producer.close();
      await consumer.close(true);
      await admin.close();
    },
  };
}

const zstdHere = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';

const suite: ClientSuiteOptions = {
  client: 'platformatic-kafka',
  title: '@platformatic/kafka',
  async detect() {
    // The package's exports map hides package.json: read it beside the resolved entry point.
    const entry = require.resolve('@platformatic/kafka');
    const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
    return { version: pkg.version };
  },
  driver: platformaticDriver,
  explicitTimestamps: true,
  notApplicable: zstdHere ? {} : { zstd: `@platformatic/kafka uses node:zlib zstd, which Node ${process.versions.node} lacks` },
};

await defineClientSuite(suite, singleBroker());
await defineClientSuite(suite, threeNodeCluster());
