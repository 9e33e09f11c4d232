// The console's topic views and actions. Lists and details come from the published metadata
// image (partitions, leaders, replicas, ISR), DescribeLogDirs (sizes of the replicas this node
// holds: in a cluster a topic's size is what this node stores of it), ListOffsets (earliest and
// latest offsets of the partitions this node leads) and DescribeConfigs (the topic's configs with
// their sources). Create, delete, add partitions and alter configs are CreateTopics,
// DeleteTopics, CreatePartitions and IncrementalAlterConfigs served by this node's handlers.
import { INTERNAL_TOPICS } from '../../controller/topic-names.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { checkKafka, type ConsoleAdmin, ConsoleError } from './console-admin.ts';
import { mayDescribe } from './console-visibility.ts';

/** Kafka's ConfigResource.Type codes used here. */
export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;
/** Kafka's DescribeConfigsResponse.ConfigSource names, by id. */
const CONFIG_SOURCES = ['UNKNOWN', 'DYNAMIC_TOPIC_CONFIG', 'DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG', 'STATIC_BROKER_CONFIG', 'DEFAULT_CONFIG', 'DYNAMIC_BROKER_LOGGER_CONFIG', 'CLIENT_METRICS_CONFIG', 'GROUP_CONFIG'];
/** Kafka's AlterConfigOp.OpType codes. */
const OP_SET = 0;
const OP_DELETE = 1;
const TIMEOUT_MS = 30_000;

export interface TopicRow {
  name: string;
  internal: boolean;
  partitions: number;
  replicationFactor: number;
  underReplicated: number;
  offline: number;
  /** Bytes of the replicas stored on this node. */
  size: number;
}

export interface PartitionRow {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  /** Bytes on this node, or null when it holds no replica. */
  size: number | null;
  /** Earliest and latest offsets, or null when this node does not lead the partition. */
  earliest: number | null;
  latest: number | null;
}

export interface ConfigRow {
  name: string;
  value: string | null;
  source: string;
  readOnly: boolean;
  sensitive: boolean;
}

/** Bytes per topic and partition of the replicas this node stores. */
async function localSizes(admin: ConsoleAdmin, principal: string, topics: string[] | null): Promise<Map<string, Map<number, number>>> {
  const r = await admin.call(ApiKey.DescribeLogDirs, { topics: topics && topics.map((t) => ({ topic: t, partitions: partitionsOf(admin, t) })) }, principal);
  const sizes = new Map<string, Map<number, number>>();
  for (const dir of r.results) {
    for (const t of dir.topics) {
      const m = sizes.get(t.name) ?? new Map<number, number>();
      sizes.set(t.name, m);
      for (const p of t.partitions) if (!p.isFutureKey) m.set(p.partitionIndex, (m.get(p.partitionIndex) ?? 0) + Number(p.partitionSize));
    }
  }
  return sizes;
}

function partitionsOf(admin: ConsoleAdmin, topic: string): number[] {
  return (admin.context.metadata.image.topicsByName.get(topic)?.partitions ?? []).map((p) => p.partition);
}

export async function listTopics(admin: ConsoleAdmin, principal: string): Promise<TopicRow[]> {
  const image = admin.context.metadata.image;
  const sizes = await localSizes(admin, principal, null);
  const rows: TopicRow[] = [];
  for (const t of [...image.topicsByName.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!mayDescribe(admin.context, principal, { type: 'topic', name: t.name })) continue;
    let size = 0;
    for (const s of sizes.get(t.name)?.values() ?? []) size += s;
    rows.push({
      name: t.name,
      internal: INTERNAL_TOPICS.has(t.name),
      partitions: t.partitions.length,
      replicationFactor: t.partitions[0]?.replicas.length ?? 0,
      underReplicated: t.partitions.filter((p) => p.isr.length < p.replicas.length).length,
      offline: t.partitions.filter((p) => p.leader < 0).length,
      size,
    });
  }
  return rows;
}

/** Earliest or latest offsets (timestamp -2 or -1), or the first offset at a timestamp, per partition; null where not led here. */
export async function listOffsets(admin: ConsoleAdmin, principal: string, topic: string, partitions: number[], timestamp: bigint): Promise<Map<number, { offset: number; timestamp: number } | null>> {
  const out = new Map<number, { offset: number; timestamp: number } | null>();
  if (partitions.length === 0) return out;
  const r = await admin.call(
    ApiKey.ListOffsets,
    { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: partitions.map((p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp })) }] },
    principal,
  );
  for (const p of r.topics[0]?.partitions ?? []) {
    out.set(p.partitionIndex, p.errorCode === ErrorCode.NONE ? { offset: Number(p.offset ?? -1n), timestamp: Number(p.timestamp ?? -1n) } : null);
  }
  return out;
}

export async function describeConfigs(admin: ConsoleAdmin, principal: string, resourceType: number, resourceName: string): Promise<ConfigRow[]> {
  const r = await admin.call(ApiKey.DescribeConfigs, { resources: [{ resourceType, resourceName, configurationKeys: null }], includeSynonyms: false, includeDocumentation: false }, principal);
  const res = r.results[0];
  if (!res) throw new ConsoleError(500, 'DescribeConfigs answered nothing');
  checkKafka(res.errorCode, res.errorMessage, `configs of ${resourceName}`);
  return res.configs
    .map((c) => ({ name: c.name, value: c.isSensitive ? null : c.value, source: CONFIG_SOURCES[c.configSource ?? 0] ?? 'UNKNOWN', readOnly: c.readOnly, sensitive: c.isSensitive }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function topicDetail(admin: ConsoleAdmin, principal: string, name: string) {
  const t = admin.context.metadata.image.topicsByName.get(name);
  if (!t || !mayDescribe(admin.context, principal, { type: 'topic', name })) throw new ConsoleError(404, `topic ${name} does not exist`, 'UNKNOWN_TOPIC_OR_PARTITION');
  const ids = t.partitions.map((p) => p.partition);
  const led = t.partitions.filter((p) => p.leader === admin.context.nodeId).map((p) => p.partition);
  const [sizes, earliest, latest, configs] = await Promise.all([
    localSizes(admin, principal, [name]),
    listOffsets(admin, principal, name, led, -2n),
    listOffsets(admin, principal, name, led, -1n),
    describeConfigs(admin, principal, RESOURCE_TOPIC, name),
  ]);
  const partitions: PartitionRow[] = ids.map((id) => {
    const p = t.partitions.find((x) => x.partition === id)!;
    return {
      partition: id,
      leader: p.leader,
      replicas: [...p.replicas],
      isr: [...p.isr],
      size: sizes.get(name)?.get(id) ?? null,
      earliest: earliest.get(id)?.offset ?? null,
      latest: latest.get(id)?.offset ?? null,
    };
  });
  return { name, id: t.id, internal: INTERNAL_TOPICS.has(name), nodeId: admin.context.nodeId, partitions, configs };
}

export interface NewTopicInput {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

export async function createTopic(admin: ConsoleAdmin, principal: string, t: NewTopicInput): Promise<void> {
  const r = await admin.call(
    ApiKey.CreateTopics,
    {
      topics: [{ name: t.name, numPartitions: t.partitions, replicationFactor: t.replicationFactor, assignments: [], configs: Object.entries(t.configs).map(([name, value]) => ({ name, value })) }],
      timeoutMs: TIMEOUT_MS,
      validateOnly: false,
    },
    principal,
  );
  const res = r.topics[0];
  if (!res) throw new ConsoleError(500, 'CreateTopics answered nothing');
  checkKafka(res.errorCode, res.errorMessage, `create ${t.name}`);
}

export async function deleteTopic(admin: ConsoleAdmin, principal: string, name: string): Promise<void> {
  const r = await admin.call(ApiKey.DeleteTopics, { topicNames: [name], timeoutMs: TIMEOUT_MS }, principal);
  const res = r.responses[0];
  if (!res) throw new ConsoleError(500, 'DeleteTopics answered nothing');
  checkKafka(res.errorCode, res.errorMessage, `delete ${name}`);
}

export async function addPartitions(admin: ConsoleAdmin, principal: string, name: string, count: number): Promise<void> {
  const r = await admin.call(ApiKey.CreatePartitions, { topics: [{ name, count, assignments: null }], timeoutMs: TIMEOUT_MS, validateOnly: false }, principal);
  const res = r.results[0];
  if (!res) throw new ConsoleError(500, 'CreatePartitions answered nothing');
  checkKafka(res.errorCode, res.errorMessage, `add partitions to ${name}`);
}

/** Sets each config with a value and deletes (back to its default) each one given null. */
export async function alterConfigs(admin: ConsoleAdmin, principal: string, resourceType: number, resourceName: string, changes: Record<string, string | null>): Promise<void> {
  const configs = Object.entries(changes).map(([name, value]) => ({ name, configOperation: value === null ? OP_DELETE : OP_SET, value }));
  const r = await admin.call(ApiKey.IncrementalAlterConfigs, { resources: [{ resourceType, resourceName, configs }], validateOnly: false }, principal);
  const res = r.responses[0];
  if (!res) throw new ConsoleError(500, 'IncrementalAlterConfigs answered nothing');
  checkKafka(res.errorCode, res.errorMessage, `alter configs of ${resourceName}`);
}
