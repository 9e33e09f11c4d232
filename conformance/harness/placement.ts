// Where a cluster put things, as clients learn it from Metadata: each partition's leader, and
// for a group the broker that coordinates it (the leader of __consumer_offsets partition
// abs(javaStringHashCode(groupId)) % partitions, Kafka's rule). The group checks on a cluster
// pick their group ids with groupAwayFrom so that the coordinator is not the leader of every
// partition the group consumes: members then talk to the coordinator and to other leaders at once.
// Every wait here is bounded.
import { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { GROUP_METADATA_TOPIC_NAME, partitionForGroup } from '../../broker/group/offsets-topic.ts';

export interface GroupPlacement {
  group: string;
  /** The broker that leads the group's __consumer_offsets partition. */
  coordinator: number;
  /** Leader of each partition of the topic, by partition index. */
  leaders: number[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Leaders of every partition of `topic`, once each has one (bounded by `timeoutMs`). */
export async function partitionLeaders(admin: KafkaClient, topic: string, timeoutMs = 20_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const md = await admin.metadata([topic]);
    const t = md.topics[0];
    if (t && t.errorCode === ErrorCode.NONE && t.partitions.length > 0) {
      const leaders: number[] = [];
      for (const p of t.partitions) leaders[p.partitionIndex] = p.errorCode === ErrorCode.NONE ? p.leaderId : -1;
      if (leaders.every((l) => l >= 0)) return leaders;
      last = `leaders ${JSON.stringify(leaders)}`;
    } else {
      last = `topic error ${t?.errorCode}`;
    }
    await sleep(200);
  }
  throw new Error(`${topic}: not every partition has a leader within ${timeoutMs} ms (${last})`);
}

/**
 * A group id starting with `base` whose coordinator leads as few of `topic`'s partitions as any
 * broker does (so not all of them, when the topic is spread). With one broker, `base` itself.
 * Creates __consumer_offsets first if it does not exist yet (FindCoordinator does).
 */
export async function groupAwayFrom(admin: KafkaClient, base: string, topic: string): Promise<GroupPlacement> {
  const leaders = await partitionLeaders(admin, topic);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await admin.findCoordinator(base);
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(250);
    }
  }
  const offsetLeaders = await partitionLeaders(admin, GROUP_METADATA_TOPIC_NAME);
  const brokers = [...admin.brokers.keys()].sort((a, b) => a - b);
  const led = (id: number): number => leaders.filter((l) => l === id).length;
  const wanted = [...brokers].sort((a, b) => led(a) - led(b) || a - b)[0]!;
  for (let i = 0; i < 10_000; i++) {
    const group = i === 0 ? base : `${base}-${i}`;
    const coordinator = offsetLeaders[partitionForGroup(group, offsetLeaders.length)]!;
    if (coordinator === wanted) return { group, coordinator, leaders };
  }
  throw new Error(`no group id ${base}-<n> maps to a __consumer_offsets partition led by broker ${wanted} (leaders ${JSON.stringify(offsetLeaders)})`);
}

/**
 * Waits until every broker's own Metadata shows every topic with a leader for each partition:
 * the fixtures a suite creates up front are then there wherever a client asks first.
 */
export async function awaitTopicsOnEveryBroker(servers: readonly string[], topics: readonly string[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await Promise.all(
    servers.map(async (server) => {
      const client = new KafkaClient({ bootstrapServers: [server], clientId: 'conformance-placement', retries: 2 });
      try {
        let missing: string[] = [...topics];
        while (missing.length > 0) {
          if (Date.now() > deadline) throw new Error(`${server} does not show ${missing.join(', ')} within ${timeoutMs} ms`);
          // Asked of this broker alone: its metadata, not the cluster's eventually.
          const conn = await client.connectionFor('any');
          const md = await conn.send(ApiKey.Metadata, { topics: missing.map((name) => ({ name })), allowAutoTopicCreation: false });
          const ready = new Set(md.topics.filter((t) => t.errorCode === ErrorCode.NONE && t.partitions.length > 0 && t.partitions.every((p) => p.leaderId >= 0)).map((t) => t.name));
          missing = missing.filter((name) => !ready.has(name));
          if (missing.length > 0) await sleep(100);
        }
      } finally {
        await client.close();
      }
    }),
  );
}
