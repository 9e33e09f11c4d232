// Partition reassignment on a four-node KRaft cluster of real processes (each node broker and
// controller), driven by the operator's tools as Kafka's docs drive kafka-reassign-partitions.sh:
// - a topic placed explicitly on brokers 1-3 (CreateTopics assignments), RF 3, under a steady
//   acks=all load from kafkajs (idempotent producer); `samsa reassign-partitions --generate` over
//   brokers 1-4 proposes a plan, --execute starts it, --verify is run until every partition is
//   complete; broker 4 then holds replicas (`samsa log-dirs`);
// - broker 1 is decommissioned: a plan over brokers 2-4, executed and verified, after which no
//   partition names broker 1 and its log dir holds none of the topic's replicas;
// - every acknowledged record reads back exactly once, and nothing reads back twice;
// - a throttle: a partition of about 4 MB moved to broker 4 with --throttle 300000; broker 4's
//   replica grows at the set rate (measured from DescribeLogDirs sizes over time, within 10%),
//   and --verify removes the throttles once it is complete;
// - a slow (throttled) reassignment cancelled with --cancel: the partition keeps its old replica
//   and the added one deletes its copy;
// - a replica moved off a stopped broker: once back, the broker deletes its stray copy.
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logDirsCommand } from '../../broker/cli/log-dirs.ts';
import { reassignPartitionsCommand } from '../../broker/cli/reassign-partitions.ts';
import type { Command } from 'commander';
import type { CommandIo } from '../../broker/cli/command-io.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { eventually, FAST_FAILOVER_PROPERTIES, partitionViews, withClient } from '../harness/cluster-checks.ts';
import { ClusterProcess } from '../harness/cluster-process.ts';
import { readTopic } from '../harness/read-back.ts';

const TOPIC = 'moving';
const PARTITIONS = 3;
const THROTTLED = 'throttled';
// Low enough that a loaded machine copies faster than this unthrottled.
const RATE = 300_000;
const PROPERTIES = {
  ...FAST_FAILOVER_PROPERTIES,
  'auto.leader.rebalance.enable': 'false',
  // Small follower fetches, so a throttle is held at a fine grain.
  'replica.fetch.max.bytes': '65536',
  'replica.lag.time.max.ms': '5000',
};

let cluster: ClusterProcess;
let dir: string;

async function run(make: (io: CommandIo) => Command, args: string[]): Promise<{ out: string; err: string; code: number }> {
  const r = { out: '', err: '', code: 0 };
  const cmd = make({ out: (t) => (r.out += t), err: (t) => (r.err += t), fail: (c) => (r.code = c) });
  await cmd.parseAsync(args, { from: 'user' });
  return r;
}

const bootstrap = () => cluster.nodes.map((n) => n.bootstrap).join(',');
const reassign = (args: string[]) => run(reassignPartitionsCommand, ['--bootstrap-server', bootstrap(), ...args]);

/** The proposed plan --generate prints, as the file --execute takes. */
function proposedPlan(out: string): string {
  const lines = out.split('\n');
  const i = lines.indexOf('Proposed partition reassignment configuration');
  expect(i).toBeGreaterThanOrEqual(0);
  return lines[i + 1]!;
}

async function generateExecuteVerify(name: string, topics: string[], brokers: number[]): Promise<{ topic: string; partition: number; replicas: number[] }[]> {
  const topicsFile = join(dir, `${name}-topics.json`);
  await writeFile(topicsFile, JSON.stringify({ topics: topics.map((topic) => ({ topic })), version: 1 }));
  const gen = await reassign(['--generate', '--topics-to-move-json-file', topicsFile, '--broker-list', brokers.join(',')]);
  expect(gen.err).toBe('');
  expect(gen.out.startsWith('Current partition replica assignment\n{"version":1,"partitions":[')).toBe(true);
  const plan = proposedPlan(gen.out);
  const planFile = join(dir, `${name}-plan.json`);
  await writeFile(planFile, plan);
  const exec = await reassign(['--execute', '--reassignment-json-file', planFile]);
  expect(exec.err).toBe('');
  expect(exec.out).toContain('Save this to use as the --reassignment-json-file option during rollback');
  expect(exec.out).toContain('Successfully started partition reassignment');
  const verified = await eventually(`${name}: --verify reports every partition complete`, 60_000, async () => {
    const v = await reassign(['--verify', '--reassignment-json-file', planFile]);
    return v.code === 0 && !v.out.includes('still in progress') ? v : undefined;
  });
  expect(verified.out).toContain('Status of partition reassignment:');
  expect(verified.out).toContain('Clearing topic-level throttles');
  return (JSON.parse(plan) as { partitions: { topic: string; partition: number; replicas: number[] }[] }).partitions;
}

/** Partitions of `topic` in broker `id`'s log dirs, with their sizes (DescribeLogDirs sent to it). */
async function hostedOn(id: number, topic: string): Promise<Map<number, number>> {
  return withClient(cluster.nodes.map((n) => n.bootstrap), async (c) => {
    const r = await c.send({ nodeId: id }, ApiKey.DescribeLogDirs, { topics: null });
    const out = new Map<number, number>();
    for (const d of r.results) for (const t of d.topics) if (t.name === topic) for (const p of t.partitions) out.set(p.partitionIndex, Number(p.partitionSize));
    return out;
  }, { retries: 1, requestTimeoutMs: 5000 });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-reassign-'));
  cluster = await ClusterProcess.start({ nodes: 4, properties: PROPERTIES });
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('partition reassignment', () => {
  it('moves replicas onto the fourth broker and off the first under acks=all load, losing and duplicating nothing', async () => {
    await withClient(cluster.nodes.map((n) => n.bootstrap), async (c) => {
      const r = await c.createTopics([{ name: TOPIC, numPartitions: -1, replicationFactor: -1, assignments: [[1, 2, 3], [2, 3, 1], [3, 1, 2]].map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })) }]);
      expect(r.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    }, { retries: 3 });
    await eventually('the explicit assignment in place with full ISRs', 20_000, async () => (await partitionViews(cluster.nodes.map((n) => n.bootstrap), TOPIC, PARTITIONS))?.every((p, i) => p.replicas[0] === i + 1 && p.isr.length === 3));

    const kafka = new Kafka({ clientId: 'reassign-load', brokers: cluster.nodes.map((n) => n.bootstrap), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    const acked: string[] = [];
    const failures: string[] = [];
    let stop = false;
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        const value = `v-${i}`;
        try {
          await producer.send({ topic: TOPIC, acks: -1, messages: [{ partition: i % PARTITIONS, key: `k-${i}`, value }] });
          acked.push(value);
        } catch (e) {
          failures.push(`${value}: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();
    try {
      await eventually('the load under way', 20_000, async () => acked.length >= 20);

      // Onto broker 4.
      const plan = await generateExecuteVerify('expand', [TOPIC], [1, 2, 3, 4]);
      expect(plan.some((p) => p.replicas.includes(4))).toBe(true);
      const views = await eventually('the plan in the metadata', 20_000, async () => partitionViews(cluster.nodes.map((n) => n.bootstrap), TOPIC, PARTITIONS));
      for (const p of plan) expect(views[p.partition]!.replicas).toEqual(p.replicas);
      const onFour = plan.filter((p) => p.replicas.includes(4)).map((p) => p.partition).sort();
      const listed = await run(logDirsCommand, ['--describe', '--bootstrap-server', bootstrap(), '--broker-list', '4', '--topic-list', TOPIC]);
      expect(listed.err).toBe('');
      const json = JSON.parse(listed.out.split('\n')[2]!) as { brokers: { broker: number; logDirs: { partitions: { partition: string }[] }[] }[] };
      expect(json.brokers[0]!.broker).toBe(4);
      expect(json.brokers[0]!.logDirs.flatMap((d) => d.partitions.map((p) => p.partition)).sort()).toEqual(onFour.map((p) => `${TOPIC}-${p}`));
      const ackedAfterExpand = acked.length;

      // Broker 1 decommissioned.
      const off = await generateExecuteVerify('decommission', [TOPIC], [2, 3, 4]);
      for (const p of off) expect(p.replicas).not.toContain(1);
      await eventually('no replica of the topic named on broker 1', 20_000, async () => (await partitionViews(cluster.nodes.map((n) => n.bootstrap), TOPIC, PARTITIONS))?.every((p) => !p.replicas.includes(1) && !p.isr.includes(1) && p.leader !== 1));
      await eventually("broker 1's log dir holds no replica of the topic", 20_000, async () => (await hostedOn(1, TOPIC)).size === 0);
      await eventually('more writes acknowledged after the moves', 20_000, async () => acked.length > ackedAfterExpand + 20);
    } finally {
      stop = true;
      await load;
      await producer.disconnect();
    }

    const read = await withClient(cluster.nodes.map((n) => n.bootstrap), (c) => readTopic(c, TOPIC, PARTITIONS), { retries: 5 });
    const counts = new Map<string, number>();
    for (const r of read.records) counts.set(r.value ?? '', (counts.get(r.value ?? '') ?? 0) + 1);
    const missing = acked.filter((v) => !counts.has(v));
    const twice = [...counts].filter(([, n]) => n > 1).map(([v]) => v);
    expect({ missing, twice }).toEqual({ missing: [], twice: [] });
    expect(acked.length).toBeGreaterThan(40);
  }, 240_000);

  it('holds a moving replica to the throttle rate, and --verify removes the throttle once complete', async () => {
    await withClient(cluster.nodes.map((n) => n.bootstrap), async (c) => {
      const r = await c.createTopics([{ name: THROTTLED, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [2] }] }]);
      expect(r.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    }, { retries: 3 });
    const kafka = new Kafka({ clientId: 'reassign-fill', brokers: cluster.nodes.map((n) => n.bootstrap), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const value = 'x'.repeat(1000);
    try {
      // About 4 MB in batches of about 40 KB.
      for (let i = 0; i < 100; i++) await producer.send({ topic: THROTTLED, acks: 1, messages: Array.from({ length: 40 }, (_, j) => ({ partition: 0, key: `k-${i}-${j}`, value })) });
    } finally {
      await producer.disconnect();
    }
    const total = (await hostedOn(2, THROTTLED)).get(0)!;
    expect(total).toBeGreaterThan(4_000_000);

    const planFile = join(dir, 'throttle-plan.json');
    await writeFile(planFile, JSON.stringify({ version: 1, partitions: [{ topic: THROTTLED, partition: 0, replicas: [2, 4], log_dirs: ['any', 'any'] }] }));
    const exec = await reassign(['--execute', '--reassignment-json-file', planFile, '--throttle', String(RATE), '--replica-alter-log-dirs-throttle', String(RATE)]);
    expect(exec.err).toBe('');
    expect(exec.out).toContain('Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.');
    expect(exec.out).toContain(`The inter-broker throttle limit was set to ${RATE} B/s`);
    expect(exec.out).toContain(`Successfully started partition reassignment for ${THROTTLED}-0`);
    const listed = await reassign(['--list']);
    expect(listed.out).toMatch(new RegExp(`^Current partition reassignments:\\n${THROTTLED}-0: replicas: 2,4. adding: 4.\\n$`));

    // Broker 4's copy over time, from its first bytes until it nears the end.
    const samples: { t: number; size: number }[] = [];
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline) {
      const size = (await hostedOn(4, THROTTLED).catch(() => new Map<number, number>())).get(0) ?? 0;
      samples.push({ t: Date.now(), size });
      if (size >= total * 0.9) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const started = samples.find((s) => s.size > 0);
    expect(started).toBeDefined();
    // Skip the first second (the first window's allowance), end before the tail.
    const from = samples.find((s) => s.t >= started!.t + 1000)!;
    const to = [...samples].reverse().find((s) => s.size < total * 0.9 && s.t > from.t)!;
    const measured = ((to.size - from.size) * 1000) / (to.t - from.t);
    console.log(`throttle ${RATE} B/s: measured ${Math.round(measured)} B/s over ${((to.t - from.t) / 1000).toFixed(1)} s (${to.size - from.size} bytes)`);
    expect(to.t - from.t).toBeGreaterThan(4000);
    expect(Math.abs(measured - RATE) / RATE).toBeLessThan(0.1);

    const verified = await eventually('the throttled reassignment complete', 60_000, async () => {
      const v = await reassign(['--verify', '--reassignment-json-file', planFile]);
      return v.out.includes(`Reassignment of partition ${THROTTLED}-0 is completed.`) ? v : undefined;
    });
    expect(verified.out).toContain('Clearing broker-level throttles on brokers 1,2,3,4');
    expect(verified.out).toContain(`Clearing topic-level throttles on topic ${THROTTLED}`);
    await withClient(cluster.nodes.map((n) => n.bootstrap), async (c) => {
      const r = await c.describeConfigs([{ resourceType: 2, resourceName: THROTTLED }]);
      const names = r.results[0]!.configs.filter((x) => !x.isDefault && x.configSource === 1).map((x) => x.name);
      expect(names).not.toContain('leader.replication.throttled.replicas');
      expect(names).not.toContain('follower.replication.throttled.replicas');
    });
    expect(await reassign(['--list'])).toEqual({ out: 'No partition reassignments found.\n', err: '', code: 0 });
  }, 150_000);

  it('cancels a reassignment in progress: the old replicas stay, the added one deletes its log', async () => {
    const topic = 'cancelled';
    await withClient(cluster.nodes.map((n) => n.bootstrap), async (c) => {
      const r = await c.createTopics([{ name: topic, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [3] }] }]);
      expect(r.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    }, { retries: 3 });
    const kafka = new Kafka({ clientId: 'reassign-cancel', brokers: cluster.nodes.map((n) => n.bootstrap), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (let i = 0; i < 25; i++) await producer.send({ topic, acks: 1, messages: Array.from({ length: 40 }, (_, j) => ({ partition: 0, key: `k-${i}-${j}`, value: 'y'.repeat(1000) })) });
    } finally {
      await producer.disconnect();
    }
    const planFile = join(dir, 'cancel-plan.json');
    await writeFile(planFile, JSON.stringify({ version: 1, partitions: [{ topic, partition: 0, replicas: [3, 1] }] }));
    // Slow enough that it is still going on when cancelled.
    const exec = await reassign(['--execute', '--reassignment-json-file', planFile, '--throttle', '50000']);
    expect(exec.out).toContain(`Successfully started partition reassignment for ${topic}-0`);
    await eventually('broker 1 copying the partition', 20_000, async () => ((await hostedOn(1, topic)).get(0) ?? 0) > 0);
    const verifying = await reassign(['--verify', '--reassignment-json-file', planFile]);
    expect(verifying.out).toBe(`Status of partition reassignment:\nReassignment of partition ${topic}-0 is still in progress.\n`);
    const cancelled = await reassign(['--cancel', '--reassignment-json-file', planFile]);
    expect(cancelled.err).toBe('');
    expect(cancelled.out).toContain(`Successfully cancelled partition reassignment for: ${topic}-0`);
    const views = await eventually('the partition back on broker 3 alone', 20_000, async () => {
      const v = await partitionViews(cluster.nodes.map((n) => n.bootstrap), topic, 1);
      return v?.[0]?.replicas.length === 1 && v[0].replicas[0] === 3 ? v : undefined;
    });
    expect(views[0]!.leader).toBe(3);
    await eventually("broker 1's copy deleted", 20_000, async () => (await hostedOn(1, topic)).size === 0);
    expect((await reassign(['--cancel', '--reassignment-json-file', planFile])).out).toContain('None of the specified partition reassignments are active.');
  }, 90_000);

  it('moves a replica off a stopped broker, which deletes its stray copy when it returns', async () => {
    const topic = 'stray';
    const node4 = cluster.node(4);
    const up = cluster.nodes.filter((n) => n.id !== 4).map((n) => n.bootstrap);
    await withClient(up, async (c) => {
      const r = await c.createTopics([{ name: topic, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [4, 2] }] }]);
      expect(r.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    }, { retries: 3 });
    await eventually('both replicas in sync', 20_000, async () => (await partitionViews(up, topic, 1))?.[0]?.isr.length === 2);
    const onDisk = () => readdirSync(join(node4.dir, 'data')).filter((n) => n === `${topic}-0`);
    expect(onDisk()).toEqual([`${topic}-0`]);
    await node4.stop('SIGTERM');
    const planFile = join(dir, 'stray-plan.json');
    await writeFile(planFile, JSON.stringify({ version: 1, partitions: [{ topic, partition: 0, replicas: [2, 3] }] }));
    const exec = await run(reassignPartitionsCommand, ['--bootstrap-server', up.join(','), '--execute', '--reassignment-json-file', planFile]);
    expect(exec.err).toBe('');
    await eventually('the partition moved to brokers 2 and 3', 30_000, async () => {
      const v = await partitionViews(up, topic, 1);
      return v?.[0]?.replicas.join(',') === '2,3' && v[0].isr.length === 2;
    });
    // Its copy is still there while it is down.
    expect(onDisk()).toEqual([`${topic}-0`]);
    await node4.start();
    await eventually("broker 4's stray copy deleted", 20_000, async () => onDisk().length === 0);
  }, 90_000);
});
