// Consumer groups through a real in-process broker with kafkajs consumers: partitions shared by
// three members and moved when one leaves, committed offsets resumed by a restarted consumer, and
// offsets and groups kept across a broker restart on the same log dir.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { startBroker, type StartedBroker } from '../../index.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';

// Short fetch waits: kafkajs heartbeats (and so learns of a rebalance) only between fetches.
const OVERRIDES = { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '10' };

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function kafkaFor(bootstrap: string, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
}

async function produce(bootstrap: string, topic: string, count: number, from = 0): Promise<void> {
  const producer = kafkaFor(bootstrap, 'producer').producer();
  await producer.connect();
  const messages = Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}`, partition: (from + i) % 6 }));
  await producer.send({ topic, messages });
  await producer.disconnect();
}

async function createTopic(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const admin = kafkaFor(bootstrap, 'admin').admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
  await admin.disconnect();
}

describe('consumer groups with kafkajs', () => {
  const started: StartedBroker[] = [];
  const consumers: Consumer[] = [];
  const dirs: string[] = [];

  afterAll(async () => {
    for (const c of consumers) await c.disconnect().catch(() => undefined);
    for (const b of started) await b.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('three consumers share six partitions; when one stops its partitions move', async () => {
    const b = await startBroker({ overrides: OVERRIDES });
    started.push(b);
    await createTopic(b.bootstrap, 'shared', 6);
    const seen = new Map<string, string>();
    const assignments = new Map<string, number[]>();
    const group: Consumer[] = [];
    for (let i = 0; i < 3; i++) {
      const name = `c${i}`;
      const c = kafkaFor(b.bootstrap, name).consumer({ groupId: 'g-shared', heartbeatInterval: 300, sessionTimeout: 10_000, maxWaitTimeInMs: 500 });
      c.on(c.events.GROUP_JOIN, (e) => assignments.set(name, e.payload.memberAssignment['shared'] ?? []));
      await c.connect();
      await c.subscribe({ topic: 'shared', fromBeginning: true });
      await c.run({ eachMessage: async ({ message }) => void seen.set(message.value!.toString(), name) });
      group.push(c);
      consumers.push(c);
    }
    await until('all three members assigned', () => [...assignments.values()].filter((a) => a.length > 0).length === 3 && [...assignments.values()].flat().length === 6);
    await produce(b.bootstrap, 'shared', 60);
    await until('60 records consumed', () => seen.size === 60);
    expect(new Set(seen.values()).size).toBe(3);
    const leaving = assignments.get('c2')!;
    await group[2]!.disconnect();
    assignments.delete('c2');
    await until('partitions of the stopped member moved', () => {
      const all = [...assignments.values()].flat();
      return all.length === 6 && leaving.every((p) => all.includes(p));
    });
    await produce(b.bootstrap, 'shared', 30, 60);
    await until('30 more records consumed by the two remaining', () => seen.size === 90);
    const late = [...seen.entries()].filter(([v]) => Number(v.slice(1)) >= 60).map(([, who]) => who);
    expect(late).not.toContain('c2');
    for (const c of group.slice(0, 2)) await c.disconnect();
  }, 90_000);

  it('a consumer restarted in the same group resumes at its committed offsets', async () => {
    const b = await startBroker({ overrides: OVERRIDES });
    started.push(b);
    await createTopic(b.bootstrap, 'resume', 6);
    await produce(b.bootstrap, 'resume', 12);
    const first: string[] = [];
    const c1 = kafkaFor(b.bootstrap, 'r1').consumer({ groupId: 'g-resume', heartbeatInterval: 300, maxWaitTimeInMs: 500 });
    consumers.push(c1);
    await c1.connect();
    await c1.subscribe({ topic: 'resume', fromBeginning: true });
    await c1.run({ autoCommitThreshold: 1, eachMessage: async ({ message }) => void first.push(message.value!.toString()) });
    await until('12 records consumed', () => first.length === 12);
    await c1.disconnect();
    await produce(b.bootstrap, 'resume', 6, 12);
    const second: string[] = [];
    const c2 = kafkaFor(b.bootstrap, 'r2').consumer({ groupId: 'g-resume', heartbeatInterval: 300, maxWaitTimeInMs: 500 });
    consumers.push(c2);
    await c2.connect();
    await c2.subscribe({ topic: 'resume', fromBeginning: true });
    await c2.run({ eachMessage: async ({ message }) => void second.push(message.value!.toString()) });
    await until('6 new records consumed', () => second.length >= 6);
    await new Promise((r) => setTimeout(r, 500));
    expect(second.sort()).toEqual(['v12', 'v13', 'v14', 'v15', 'v16', 'v17']);
    await c2.disconnect();
  }, 90_000);

  it('a restarted broker keeps committed offsets and groups', async () => {
    const logDir = await mkdtemp(join(tmpdir(), 'samsa-group-'));
    dirs.push(logDir);
    let b = await startBroker({ logDir, overrides: OVERRIDES });
    await createTopic(b.bootstrap, 'kept', 6);
    await produce(b.bootstrap, 'kept', 12);
    const got: string[] = [];
    const c = kafkaFor(b.bootstrap, 'k1').consumer({ groupId: 'g-kept', heartbeatInterval: 300, maxWaitTimeInMs: 500 });
    await c.connect();
    await c.subscribe({ topic: 'kept', fromBeginning: true });
    await c.run({ autoCommitThreshold: 1, eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
    await until('12 records consumed', () => got.length === 12);
    await c.disconnect();
    await b.stop();

    b = await startBroker({ logDir, overrides: OVERRIDES });
    started.push(b);
    const client = new KafkaClient({ bootstrapServers: b.bootstrap });
    try {
      const coord = await client.findCoordinator('g-kept');
      let fetched;
      for (let i = 0; i < 100; i++) {
        fetched = await client.send({ nodeId: coord.nodeId }, ApiKey.OffsetFetch, { groups: [{ groupId: 'g-kept', topics: null }], requireStable: false });
        if (fetched.groups?.[0]?.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const g = fetched!.groups![0]!;
      expect(g.errorCode).toBe(ErrorCode.NONE);
      const offsets = g.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}-${p.partitionIndex}`, p.committedOffset] as const)).sort();
      expect(offsets).toEqual([0, 1, 2, 3, 4, 5].map((p) => [`kept-${p}`, 2n]));
      const described = await client.send({ nodeId: coord.nodeId }, ApiKey.DescribeGroups, { groups: ['g-kept'] });
      expect(described.groups[0]).toMatchObject({ errorCode: ErrorCode.NONE, groupState: 'Empty', protocolType: 'consumer' });
      const listed = await client.send({ nodeId: coord.nodeId }, ApiKey.ListGroups, {});
      expect(listed.groups.map((x) => x.groupId)).toContain('g-kept');
    } finally {
      await client.close();
    }
  }, 90_000);
});
