// kafkajs against a broker process, then against a three-node cluster: its admin, producer (acks
// 0/1/all, gzip, idempotent), offsets by timestamp and group consumer. kafkajs has no consumer
// without a group, so records are read back through Samsa's own client.
import { createRequire } from 'node:module';
import { CompressionTypes, Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { defineClientSuite, type ClientDriver, type ClientSuiteOptions } from '../harness/client-suite.ts';
import { singleBroker, threeNodeCluster } from '../harness/target.ts';
import type { ReadRecord } from '../harness/records.ts';

const require = createRequire(import.meta.url);

async function kafkajsDriver(bootstrap: string): Promise<ClientDriver> {
  const kafka = new Kafka({
    clientId: 'conformance-kafkajs',
    brokers: bootstrap.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 15_000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
  });
  const admin: Admin = kafka.admin();
  await admin.connect();
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let idempotent: Producer | undefined;

  return {
    async metadata(topic) {
      const cluster = await admin.describeCluster();
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      return {
        brokers: cluster.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })),
        partitions: md.topics[0]!.partitions.map((p) => p.partitionId),
      };
    },
    async createTopics(topics) {
      const created = await admin.createTopics({ topics: topics.map((t) => ({ topic: t.name, numPartitions: t.partitions })), waitForLeaders: true });
      if (!created) throw new Error('kafkajs createTopics reported the topics already existed');
    },
    async describeTopics(names) {
      const md = await admin.fetchTopicMetadata({ topics: [...names] });
      return md.topics.map((t) => ({ name: t.name, partitions: t.partitions.length }));
    },
    async deleteTopics(names) {
      await admin.deleteTopics({ topics: [...names], timeout: 10_000 });
    },
    async produce(topic, records, spec) {
      let p = producer;
      if (spec.idempotent) {
        idempotent ??= kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
        await idempotent.connect();
        p = idempotent;
      }
      if (spec.compression !== undefined && spec.compression !== 'gzip') throw new Error(`kafkajs has no built-in ${spec.compression} codec`);
      const result = await p.send({
        topic,
        acks: spec.acks,
        compression: spec.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: records.map((r) => ({
          partition: r.partition,
          key: r.key,
          value: r.value,
          headers: r.headers,
          ...(r.timestamp === undefined ? {} : { timestamp: String(r.timestamp) }),
        })),
      });
      for (const m of result) if (m.errorCode !== 0) throw new Error(`partition ${m.partition}: error ${m.errorCode}`);
    },
    async offsetForTime(topic, partition, timestamp) {
      const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, timestamp);
      const entry = offsets.find((o) => o.partition === partition);
      if (!entry) throw new Error(`no offset for partition ${partition}`);
      return Number(entry.offset);
    },
    async groupConsume(topic, group, expected) {
      const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1000 });
      const got: ReadRecord[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`consumed ${got.length} of ${expected} records in 30 s`)), 30_000);
          consumer
            .run({
              eachMessage: async ({ partition, message }) => {
                const headers: Record<string, string> = {};
                for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
                got.push({ partition, offset: Number(message.offset), key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
                if (got.length >= expected) {
                  clearTimeout(timer);
                  resolve();
                }
              },
            })
            .catch(reject);
        });
      } finally {
        await consumer.disconnect();
      }
      return got;
    },
    async close() {
      await idempotent?.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}

const suite: ClientSuiteOptions = {
  client: 'kafkajs',
  title: 'kafkajs',
  async detect() {
    return { version: (require('kafkajs/package.json') as { version: string }).version };
  },
  driver: kafkajsDriver,
  explicitTimestamps: true,
  notApplicable: {
    snappy: 'kafkajs ships only gzip; other codecs need a codec plugin',
    lz4: 'kafkajs ships only gzip; other codecs need a codec plugin',
    zstd: 'kafkajs ships only gzip; other codecs need a codec plugin',
  },
};

await defineClientSuite(suite, singleBroker());
await defineClientSuite(suite, threeNodeCluster());
