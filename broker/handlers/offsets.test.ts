// ListOffsets, OffsetForLeaderEpoch, DeleteRecords and DescribeLogDirs against an in-process
// broker on loopback, driven by kafkajs (produce, admin offsets, record deletion) and the
// internal client.
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type StartedBroker } from '../../index.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';

let started: StartedBroker;
let client: KafkaClient;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;

async function createTopic(name: string, partitions = 1): Promise<void> {
  const ctx = started.broker.context;
  const [r] = await ctx.controller.createTopics([{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }], false);
  expect(r!.errorCode).toBe(ErrorCode.NONE);
  await ctx.metadata.waitFor(ctx.controller.image.offset);
}

async function send(topic: string, messages: { value: string; timestamp?: number; partition?: number }[]): Promise<void> {
  for (const m of messages) {
    await producer.send({ topic, acks: -1, messages: [{ value: m.value, partition: m.partition ?? 0, timestamp: m.timestamp === undefined ? undefined : String(m.timestamp) }] });
  }
}

async function listOffsets(topic: string, partition: number, timestamp: bigint, version: number, over: { isolationLevel?: number; currentLeaderEpoch?: number; replicaId?: number; maxNumOffsets?: number } = {}) {
  const res = await client.send(
    'any',
    ApiKey.ListOffsets,
    {
      replicaId: over.replicaId ?? -1,
      isolationLevel: over.isolationLevel ?? 0,
      topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: over.currentLeaderEpoch ?? -1, timestamp, maxNumOffsets: over.maxNumOffsets ?? 1 }] }],
    },
    { version },
  );
  return res.topics[0]!.partitions[0]!;
}

beforeAll(async () => {
  started = await startBroker();
  client = new KafkaClient({ bootstrapServers: started.bootstrap });
  await client.connect();
  kafka = new Kafka({ brokers: [started.bootstrap], clientId: 'offsets-test', logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
}, 60_000);

afterAll(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
  await client?.close();
  await started?.stop();
});

describe('ListOffsets', () => {
  it('earliest, latest and offsets by timestamp through kafkajs admin', async () => {
    await createTopic('lo');
    const t0 = 1_700_000_000_000;
    await send('lo', [
      { value: 'a', timestamp: t0 },
      { value: 'b', timestamp: t0 + 100 },
      { value: 'c', timestamp: t0 + 200 },
    ]);
    const offsets = await admin.fetchTopicOffsets('lo');
    expect(offsets).toEqual([{ partition: 0, offset: '3', high: '3', low: '0' }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('lo', t0 + 50)).toEqual([{ partition: 0, offset: '1' }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('lo', t0 + 200)).toEqual([{ partition: 0, offset: '2' }]);
    // Past every record: kafkajs falls back to the latest offset when the broker says -1.
    const after = await listOffsets('lo', 0, BigInt(t0 + 1000), 1);
    expect([after.errorCode, after.offset, after.timestamp]).toEqual([ErrorCode.NONE, -1n, -1n]);
  });

  it('answers timestamps, leader epochs, max timestamp (v7) and earliest-local (v8)', async () => {
    await createTopic('lo2');
    const t0 = 1_700_000_000_000;
    await send('lo2', [
      { value: 'a', timestamp: t0 + 500 },
      { value: 'b', timestamp: t0 + 900 },
      { value: 'c', timestamp: t0 + 100 },
    ]);
    const epoch = started.broker.context.replicaManager.getPartition('lo2', 0)!.leaderEpoch;
    const byTime = await listOffsets('lo2', 0, BigInt(t0 + 600), 4);
    expect([byTime.offset, byTime.timestamp, byTime.leaderEpoch]).toEqual([1n, BigInt(t0 + 900), epoch]);
    const latest = await listOffsets('lo2', 0, -1n, 4);
    expect([latest.offset, latest.timestamp, latest.leaderEpoch]).toEqual([3n, -1n, epoch]);
    const max = await listOffsets('lo2', 0, -3n, 7);
    expect([max.offset, max.timestamp]).toEqual([1n, BigInt(t0 + 900)]);
    const earliestLocal = await listOffsets('lo2', 0, -4n, 8);
    expect(earliestLocal.offset).toBe(0n);
    const committed = await listOffsets('lo2', 0, -1n, 4, { isolationLevel: 1 });
    expect(committed.offset).toBe(3n);
    const tiered = await listOffsets('lo2', 0, -5n, 9);
    expect([tiered.errorCode, tiered.offset]).toEqual([ErrorCode.NONE, -1n]);
  });

  it('checks the current leader epoch and unknown partitions', async () => {
    await createTopic('lo3');
    const epoch = started.broker.context.replicaManager.getPartition('lo3', 0)!.leaderEpoch;
    expect((await listOffsets('lo3', 0, -1n, 4, { currentLeaderEpoch: epoch + 1 })).errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    expect((await listOffsets('lo3', 0, -1n, 4, { currentLeaderEpoch: epoch })).errorCode).toBe(ErrorCode.NONE);
    expect((await listOffsets('lo3', 7, -1n, 4)).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await listOffsets('nope', 0, -1n, 1)).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('v0 answers old-style offsets: the log end then segment starts, newest first', async () => {
    await createTopic('lo0');
    await send('lo0', [{ value: 'a' }, { value: 'b' }]);
    const latest = await listOffsets('lo0', 0, -1n, 0, { maxNumOffsets: 5 });
    expect(latest.errorCode).toBe(ErrorCode.NONE);
    expect(latest.oldStyleOffsets).toEqual([2n, 0n]);
    const earliest = await listOffsets('lo0', 0, -2n, 0, { maxNumOffsets: 5 });
    expect(earliest.oldStyleOffsets).toEqual([0n]);
    const one = await listOffsets('lo0', 0, -1n, 0, { maxNumOffsets: 1 });
    expect(one.oldStyleOffsets).toEqual([2n]);
  });

  it('a partition named twice gets INVALID_REQUEST (v1+)', async () => {
    await createTopic('lo-dup');
    const res = await client.send(
      'any',
      ApiKey.ListOffsets,
      {
        replicaId: -1,
        topics: [{ name: 'lo-dup', partitions: [0, 0].map(() => ({ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n })) }],
      },
      { version: 5 },
    );
    expect(res.topics[0]!.partitions.map((p) => p.errorCode)).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
  });
});

describe('OffsetForLeaderEpoch', () => {
  it('answers the end offset of the current epoch, -1 for unknown epochs, and checks the current epoch', async () => {
    await createTopic('ole');
    await send('ole', [{ value: 'a' }, { value: 'b' }]);
    const epoch = started.broker.context.replicaManager.getPartition('ole', 0)!.leaderEpoch;
    const ask = async (leaderEpoch: number, currentLeaderEpoch = -1, topic = 'ole') =>
      (
        await client.send('any', ApiKey.OffsetForLeaderEpoch, { replicaId: -1, topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch, leaderEpoch }] }] }, { version: 4 })
      ).topics[0]!.partitions[0]!;
    const current = await ask(epoch);
    expect([current.errorCode, current.leaderEpoch, current.endOffset]).toEqual([ErrorCode.NONE, epoch, 2n]);
    const above = await ask(epoch + 3);
    expect([above.errorCode, above.leaderEpoch, above.endOffset]).toEqual([ErrorCode.NONE, -1, -1n]);
    const undef = await ask(-1);
    expect([undef.leaderEpoch, undef.endOffset]).toEqual([-1, -1n]);
    expect((await ask(epoch, epoch + 1)).errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    expect((await ask(epoch, epoch)).errorCode).toBe(ErrorCode.NONE);
    const missing = await ask(0, -1, 'no-such');
    expect([missing.errorCode, missing.endOffset]).toEqual([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n]);
  });
});

describe('DeleteRecords', () => {
  it('moves the log start offset (kafkajs deleteTopicRecords); a fetch below it is OFFSET_OUT_OF_RANGE', async () => {
    await createTopic('dr');
    await send('dr', [{ value: 'a' }, { value: 'b' }, { value: 'c' }, { value: 'd' }]);
    // kafkajs finds leaders from its metadata cache only.
    await admin.fetchTopicMetadata({ topics: ['dr'] });
    await admin.deleteTopicRecords({ topic: 'dr', partitions: [{ partition: 0, offset: '2' }] });
    expect(await admin.fetchTopicOffsets('dr')).toEqual([{ partition: 0, offset: '4', high: '4', low: '2' }]);
    await expect(client.fetch('dr', 0, 1n, { maxWaitMs: 0 })).rejects.toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
    const at = await client.fetch('dr', 0, 2n, { maxWaitMs: 0 });
    expect(at.logStartOffset).toBe(2n);
    expect(at.records.length).toBeGreaterThan(0);
  });

  it('offset -1 means the high watermark; above it is OFFSET_OUT_OF_RANGE', async () => {
    await createTopic('dr2');
    await send('dr2', [{ value: 'a' }, { value: 'b' }]);
    const del = async (offset: bigint, partitionIndex = 0) =>
      (await client.send('any', ApiKey.DeleteRecords, { topics: [{ name: 'dr2', partitions: [{ partitionIndex, offset }] }], timeoutMs: 5000 }, { version: 2 })).topics[0]!.partitions[0]!;
    const above = await del(5n);
    expect([above.errorCode, above.lowWatermark]).toEqual([ErrorCode.OFFSET_OUT_OF_RANGE, -1n]);
    const hw = await del(-1n);
    expect([hw.errorCode, hw.lowWatermark]).toEqual([ErrorCode.NONE, 2n]);
    expect((await del(0n, 4)).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});

describe('DescribeLogDirs', () => {
  it('lists the log dir with partition sizes, zero lag and the volume sizes (v4)', async () => {
    await createTopic('dld', 2);
    await send('dld', [{ value: 'x'.repeat(100), partition: 1 }]);
    const res = await client.send('any', ApiKey.DescribeLogDirs, { topics: [{ topic: 'dld', partitions: [0, 1] }] }, { version: 4 });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.results).toHaveLength(1);
    const dir = res.results[0]!;
    expect(dir.errorCode).toBe(ErrorCode.NONE);
    expect(dir.logDir).toBe(started.broker.context.config.logDirs[0]);
    expect(dir.totalBytes!).toBeGreaterThan(0n);
    expect(dir.usableBytes!).toBeGreaterThan(0n);
    expect(dir.usableBytes!).toBeLessThanOrEqual(dir.totalBytes!);
    const topic = dir.topics.find((t) => t.name === 'dld')!;
    const parts = [...topic.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex);
    expect(parts.map((p) => [p.partitionIndex, p.offsetLag, p.isFutureKey])).toEqual([
      [0, 0n, false],
      [1, 0n, false],
    ]);
    expect(parts[0]!.partitionSize).toBe(0n);
    expect(parts[1]!.partitionSize).toBe(BigInt(started.broker.context.replicaManager.getPartition('dld', 1)!.log.size));
    expect(parts[1]!.partitionSize).toBeGreaterThan(100n);
    // Only the named partitions are described; null topics means all.
    const one = await client.send('any', ApiKey.DescribeLogDirs, { topics: [{ topic: 'dld', partitions: [1] }] }, { version: 1 });
    expect(one.results[0]!.topics.find((t) => t.name === 'dld')!.partitions.map((p) => p.partitionIndex)).toEqual([1]);
    const all = await client.send('any', ApiKey.DescribeLogDirs, { topics: null }, { version: 4 });
    expect(all.results[0]!.topics.map((t) => t.name)).toContain('dld');
    expect(all.results[0]!.topics.find((t) => t.name === 'dld')!.partitions).toHaveLength(2);
  });
});
