// `samsa topics`: Kafka's kafka-topics.sh over the Admin APIs (Metadata, CreateTopics,
// DeleteTopics, CreatePartitions, DescribeConfigs). Exactly one action per run. --topic is a list
// of patterns as in Kafka's IncludeList ("a,b" or a regular expression matched against the whole
// name), so describe, alter and delete work on every topic it matches. Output lines follow
// TopicCommand's format; an error prints "Error while executing topic command : <message>" on
// stderr and exits 1. Describe reads partitions from Metadata, so ELR fields are not printed.
import { Command } from 'commander';
import { ConfigResourceType } from '../../protocol/client/client.ts';
import type { KafkaClient, TopicMetadata } from '../../protocol/client/client.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { ErrorCode as ErrorCodeValue } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { DescribeConfigsResult } from '../../protocol/generated/message/describe-configs-response.ts';
import type { DescribeTopicPartitionsResponse } from '../../protocol/generated/message/describe-topic-partitions-response.ts';
import { ZERO_UUID } from '../../protocol/uuid.ts';
import { CliError, clientFor, collect, parseInteger, parseKeyValues, processIo, runAction } from './command-io.ts';
import type { CommandIo } from './command-io.ts';

const ERROR_PREFIX = 'Error while executing topic command : ';

export type TopicsAction = 'list' | 'describe' | 'create' | 'alter' | 'delete';

export interface TopicsOptions {
  action: TopicsAction;
  bootstrapServer: string;
  topic?: string;
  partitions?: number;
  replicationFactor?: number;
  replicaAssignment?: number[][];
  configs: Map<string, string>;
  ifExists: boolean;
  ifNotExists: boolean;
  excludeInternal: boolean;
  topicsWithOverrides: boolean;
  underReplicatedPartitions: boolean;
  unavailablePartitions: boolean;
  underMinIsrPartitions: boolean;
  atMinIsrPartitions: boolean;
}

interface RawTopicsOptions {
  bootstrapServer?: string;
  list?: boolean;
  describe?: boolean;
  create?: boolean;
  alter?: boolean;
  delete?: boolean;
  topic?: string;
  partitions?: string;
  replicationFactor?: string;
  replicaAssignment?: string;
  config?: string[];
  ifExists?: boolean;
  ifNotExists?: boolean;
  excludeInternal?: boolean;
  topicsWithOverrides?: boolean;
  underReplicatedPartitions?: boolean;
  unavailablePartitions?: boolean;
  underMinIsrPartitions?: boolean;
  atMinIsrPartitions?: boolean;
}

export function defineTopicsOptions(cmd: Command): Command {
  return cmd
    .description('Create, delete, describe, or change a topic (kafka-topics).')
    .option('--bootstrap-server <server>', 'REQUIRED: the Kafka server(s) to connect to, host:port[,host:port]')
    .option('--list', 'List all available topics.')
    .option('--describe', 'List details for the given topics.')
    .option('--create', 'Create a new topic.')
    .option('--alter', 'Alter the number of partitions of a topic.')
    .option('--delete', 'Delete a topic.')
    .option('--topic <topic>', 'The topic to create, alter, describe or delete; also a comma list or a regular expression (not for --create).')
    .option('--partitions <n>', 'The number of partitions for the topic being created or altered.')
    .option('--replication-factor <r>', 'The replication factor for each partition in the topic being created.')
    .option('--replica-assignment <list>', 'Manual partition-to-broker assignment: b0:b1,b2:b3 (replicas of partition 0, then 1, ...).')
    .option('--config <name=value>', 'A topic configuration override for the topic being created (repeatable).', collect)
    .option('--if-exists', 'With --alter, --delete or --describe: only act if the topic exists.')
    .option('--if-not-exists', 'With --create: only create the topic if it does not already exist.')
    .option('--exclude-internal', 'Exclude internal topics when listing or describing all topics.')
    .option('--topics-with-overrides', 'With --describe: only show topics that have overridden configs.')
    .option('--under-replicated-partitions', 'With --describe: only show under-replicated partitions.')
    .option('--unavailable-partitions', 'With --describe: only show partitions whose leader is not available.')
    .option('--under-min-isr-partitions', 'With --describe: only show partitions whose ISR is smaller than min.insync.replicas.')
    .option('--at-min-isr-partitions', 'With --describe: only show partitions whose ISR size equals min.insync.replicas.');
}

/** Checks option combinations as TopicCommand does and returns typed options. */
export function toTopicsOptions(raw: RawTopicsOptions): TopicsOptions {
  const actions = (['list', 'describe', 'create', 'alter', 'delete'] as const).filter((a) => raw[a] === true);
  if (actions.length !== 1) throw new CliError('Command must include exactly one action: --list, --describe, --create, --alter or --delete');
  const action = actions[0]!;
  if (raw.bootstrapServer === undefined) throw new CliError('Missing required argument "[bootstrap-server]"');
  if ((action === 'create' || action === 'alter' || action === 'delete') && raw.topic === undefined) {
    throw new CliError('Missing required argument "[topic]"');
  }
  const only = (flag: string, given: unknown, allowed: readonly TopicsAction[]): void => {
    if (given !== undefined && given !== false && !allowed.includes(action)) {
      throw new CliError(`Option "[${flag}]" can't be used with option "[${action}]"`);
    }
  };
  only('partitions', raw.partitions, ['create', 'alter']);
  only('replication-factor', raw.replicationFactor, ['create']);
  only('replica-assignment', raw.replicaAssignment, ['create']);
  only('config', raw.config, ['create']);
  only('if-exists', raw.ifExists, ['alter', 'delete', 'describe']);
  only('if-not-exists', raw.ifNotExists, ['create']);
  only('exclude-internal', raw.excludeInternal, ['list', 'describe']);
  for (const f of ['topicsWithOverrides', 'underReplicatedPartitions', 'unavailablePartitions', 'underMinIsrPartitions', 'atMinIsrPartitions'] as const) {
    only(f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), raw[f], ['describe']);
  }
  if (action === 'alter' && raw.partitions === undefined) throw new CliError('Missing required argument "[partitions]"');
  if (raw.replicaAssignment !== undefined && (raw.partitions !== undefined || raw.replicationFactor !== undefined)) {
    throw new CliError('Option "[replica-assignment]" can\'t be used with option "[partitions]" or "[replication-factor]"');
  }
  const partitions = parseInteger('--partitions', raw.partitions, 1);
  const replicationFactor = parseInteger('--replication-factor', raw.replicationFactor, 1);
  if (replicationFactor !== undefined && replicationFactor > 32767) throw new CliError(`The replication factor must be between 1 and ${32767} inclusive`);
  return {
    action,
    bootstrapServer: raw.bootstrapServer,
    topic: raw.topic,
    partitions,
    replicationFactor,
    replicaAssignment: raw.replicaAssignment === undefined ? undefined : parseReplicaAssignment(raw.replicaAssignment),
    configs: parseKeyValues(raw.config ?? [], '--config'),
    ifExists: raw.ifExists === true,
    ifNotExists: raw.ifNotExists === true,
    excludeInternal: raw.excludeInternal === true,
    topicsWithOverrides: raw.topicsWithOverrides === true,
    underReplicatedPartitions: raw.underReplicatedPartitions === true,
    unavailablePartitions: raw.unavailablePartitions === true,
    underMinIsrPartitions: raw.underMinIsrPartitions === true,
    atMinIsrPartitions: raw.atMinIsrPartitions === true,
  };
}

/** "1:2,3:4" → [[1,2],[3,4]]: replicas of partition 0, then partition 1. */
export function parseReplicaAssignment(text: string): number[][] {
  const out: number[][] = [];
  for (const part of text.split(',')) {
    const ids = part.split(':').map((s) => s.trim());
    const brokers = ids.map((s) => {
      const n = Number(s);
      if (s === '' || !Number.isInteger(n) || n < 0) throw new CliError(`Invalid replica assignment '${text}': '${s}' is not a broker id`);
      return n;
    });
    if (new Set(brokers).size !== brokers.length) {
      throw new CliError(`Partition replica lists may not contain duplicate entries: ${brokers.join(',')}`);
    }
    if (out.length > 0 && out[0]!.length !== brokers.length) {
      throw new CliError(`Partition ${out.length} has different replication factor: ${brokers.join(',')}`);
    }
    out.push(brokers);
  }
  return out;
}

/**
 * Kafka's IncludeList: commas become alternatives, spaces and surrounding quotes go, and a name
 * matches when the whole of it matches.
 */
export function topicMatcher(include: string): (topic: string) => boolean {
  const source = include.trim().replaceAll(',', '|').replaceAll(' ', '').replace(/^["']+/, '').replace(/["']+$/, '');
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${source})$`);
  } catch {
    throw new CliError(`Invalid topic pattern '${include}'`);
  }
  return (topic) => re.test(topic);
}

export interface PartitionLine {
  topic: string;
  partition: number;
  leader: number;
  replicas: readonly number[];
  isr: readonly number[];
  /**
   * Eligible leader replicas and last known ELR from DescribeTopicPartitions; null prints N/A.
   * Absent (undefined) when the broker answered through Metadata, which has no ELR: no columns.
   */
  elr?: readonly number[] | null;
  lastKnownElr?: readonly number[] | null;
}

export function formatTopicLine(t: { name: string; topicId: string; partitionCount: number; replicationFactor: number; configs: ReadonlyArray<[string, string | null]> }): string {
  let line = `Topic: ${t.name}`;
  if (t.topicId !== ZERO_UUID) line += `\tTopicId: ${t.topicId}`;
  line += `\tPartitionCount: ${t.partitionCount}\tReplicationFactor: ${t.replicationFactor}`;
  line += `\tConfigs: ${t.configs.map(([k, v]) => `${k}=${v}`).join(',')}`;
  return line;
}

export function formatPartitionLine(p: PartitionLine): string {
  let line = `\tTopic: ${p.topic}\tPartition: ${p.partition}\tLeader: ${p.leader < 0 ? 'none' : p.leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}`;
  if (p.elr !== undefined) line += `\tElr: ${p.elr === null ? 'N/A' : p.elr.join(',')}`;
  if (p.lastKnownElr !== undefined) line += `\tLastKnownElr: ${p.lastKnownElr === null ? 'N/A' : p.lastKnownElr.join(',')}`;
  return line;
}

interface DescribedTopic {
  topicId: string;
  partitions: PartitionLine[];
}

/**
 * Topic partitions as the Admin client's describeTopics gets them: DescribeTopicPartitions
 * (with its cursor) where the broker has it, else Metadata.
 */
async function describeTopicPartitions(client: KafkaClient, names: string[]): Promise<Map<string, DescribedTopic>> {
  const out = new Map<string, DescribedTopic>();
  try {
    let cursor: { topicName: string; partitionIndex: number } | null = null;
    for (let page = 0; page < 100_000; page++) {
      const response: DescribeTopicPartitionsResponse = await client.send('any', ApiKey.DescribeTopicPartitions, { topics: names.map((name) => ({ name })), responsePartitionLimit: 2000, cursor });
      for (const t of response.topics) {
        if (t.name === null || t.errorCode !== ErrorCode.NONE) continue;
        let entry = out.get(t.name);
        if (!entry) out.set(t.name, (entry = { topicId: t.topicId, partitions: [] }));
        for (const p of t.partitions) {
          entry.partitions.push({ topic: t.name, partition: p.partitionIndex, leader: p.leaderId, replicas: p.replicaNodes, isr: p.isrNodes, elr: p.eligibleLeaderReplicas, lastKnownElr: p.lastKnownElr });
        }
      }
      cursor = response.nextCursor === null ? null : { topicName: response.nextCursor.topicName, partitionIndex: response.nextCursor.partitionIndex };
      if (cursor === null) return out;
    }
    return out;
  } catch (e) {
    if (!(e instanceof KafkaError && e.errorCode === ErrorCode.UNSUPPORTED_VERSION)) throw e;
  }
  await client.metadata(names);
  for (const name of names) {
    const t: TopicMetadata | undefined = client.topic(name);
    if (!t || t.errorCode !== ErrorCode.NONE) continue;
    out.set(name, {
      topicId: t.topicId,
      partitions: [...t.partitions.values()].map((p) => ({ topic: name, partition: p.partition, leader: p.leaderId, replicas: p.replicas, isr: p.isr })),
    });
  }
  return out;
}

/** Kafka's message for a per-topic error that came without a message. */
function topicError(code: number, message: string | null | undefined, topic: string): KafkaError {
  if (message) return new KafkaError(code as ErrorCodeValue, message);
  if (code === ErrorCode.TOPIC_ALREADY_EXISTS) return new KafkaError(code, `Topic '${topic}' already exists.`);
  if (code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return new KafkaError(code, `Topic '${topic}' does not exist as expected`);
  return new KafkaError(code as ErrorCodeValue);
}

async function topicNames(client: KafkaClient, excludeInternal: boolean): Promise<string[]> {
  const md = await client.metadata(null);
  return md.topics
    .filter((t) => t.name !== null && t.errorCode === ErrorCode.NONE && !(excludeInternal && (t.isInternal ?? false)))
    .map((t) => t.name!)
    .sort();
}

async function matchingTopics(client: KafkaClient, o: TopicsOptions): Promise<string[]> {
  const all = await topicNames(client, o.excludeInternal);
  if (o.topic === undefined) return all;
  const match = topicMatcher(o.topic);
  const found = all.filter(match);
  if (found.length === 0 && !o.ifExists) throw new CliError(`${ERROR_PREFIX}Topic '${o.topic}' does not exist as expected`);
  return found;
}

export async function runTopics(o: TopicsOptions, io: CommandIo): Promise<void> {
  const client = clientFor(o.bootstrapServer, 'samsa-topics');
  try {
    switch (o.action) {
      case 'list': {
        // As TopicCommand: the names joined by newlines, then one println (an empty line if none).
        const names = await topicNames(client, o.excludeInternal);
        io.out(`${(o.topic === undefined ? names : names.filter(topicMatcher(o.topic))).join('\n')}\n`);
        return;
      }
      case 'create':
        return await createTopic(client, o, io);
      case 'describe':
        return await describeTopics(client, o, io);
      case 'alter':
        return await alterTopics(client, o);
      case 'delete':
        return await deleteTopics(client, o);
    }
  } finally {
    await client.close();
  }
}

async function createTopic(client: KafkaClient, o: TopicsOptions, io: CommandIo): Promise<void> {
  const name = o.topic!;
  if (name.includes('.') || name.includes('_')) {
    io.out("WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.\n");
  }
  const response = await client.createTopics([
    {
      name,
      numPartitions: o.replicaAssignment ? -1 : (o.partitions ?? -1),
      replicationFactor: o.replicaAssignment ? -1 : (o.replicationFactor ?? -1),
      assignments: o.replicaAssignment?.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
      configs: Object.fromEntries(o.configs),
    },
  ]);
  const result = response.topics.find((t) => t.name === name);
  if (!result) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `CreateTopics response has no entry for ${name}`);
  if (result.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS && o.ifNotExists) return;
  if (result.errorCode !== ErrorCode.NONE) throw topicError(result.errorCode, result.errorMessage, name);
  io.out(`Created topic ${name}.\n`);
}

async function describeTopics(client: KafkaClient, o: TopicsOptions, io: CommandIo): Promise<void> {
  const names = await matchingTopics(client, o);
  if (names.length === 0) return;
  const described = await describeTopicPartitions(client, names);
  const configsOf = new Map<string, Array<{ name: string; value: string | null; isDefault: boolean }>>();
  for (const r of await topicConfigs(client, names)) {
    if (r.errorCode !== ErrorCode.NONE) continue;
    configsOf.set(
      r.resourceName,
      r.configs.map((c) => ({ name: c.name, value: c.value, isDefault: c.configSource !== undefined && c.configSource !== -1 ? c.configSource === 5 : (c.isDefault ?? false) })),
    );
  }
  const partitionFilter = o.underReplicatedPartitions || o.unavailablePartitions || o.underMinIsrPartitions || o.atMinIsrPartitions;
  const liveBrokers = new Set(client.brokers.keys());
  for (const name of names) {
    const t = described.get(name);
    if (!t) continue;
    const partitions = t.partitions.sort((a, b) => a.partition - b.partition);
    const overrides = (configsOf.get(name) ?? []).filter((c) => !c.isDefault);
    if (!partitionFilter && (!o.topicsWithOverrides || overrides.length > 0)) {
      io.out(
        formatTopicLine({
          name,
          topicId: t.topicId,
          partitionCount: partitions.length,
          replicationFactor: partitions[0]?.replicas.length ?? 0,
          configs: overrides.map((c) => [c.name, c.value]),
        }) + '\n',
      );
    }
    if (o.topicsWithOverrides) continue;
    const minIsr = Number((configsOf.get(name) ?? []).find((c) => c.name === 'min.insync.replicas')?.value ?? '1');
    for (const p of partitions) {
      if (o.underReplicatedPartitions && !(p.isr.length < p.replicas.length)) continue;
      if (o.unavailablePartitions && !(p.leader < 0 || !liveBrokers.has(p.leader))) continue;
      if (o.underMinIsrPartitions && !(p.isr.length < minIsr)) continue;
      if (o.atMinIsrPartitions && p.isr.length !== minIsr) continue;
      io.out(formatPartitionLine(p) + '\n');
    }
  }
}

/** DescribeConfigs of the topics; a broker without DescribeConfigs leaves the Configs column empty. */
async function topicConfigs(client: KafkaClient, names: string[]): Promise<DescribeConfigsResult[]> {
  try {
    const response = await client.describeConfigs(names.map((resourceName) => ({ resourceType: ConfigResourceType.TOPIC, resourceName })));
    return response.results;
  } catch (e) {
    if (e instanceof KafkaError && e.errorCode === ErrorCode.UNSUPPORTED_VERSION) return [];
    throw e;
  }
}

async function alterTopics(client: KafkaClient, o: TopicsOptions): Promise<void> {
  const names = await matchingTopics(client, o);
  for (const name of names) {
    if (client.topic(name)?.isInternal) throw new CliError(`${ERROR_PREFIX}The number of partitions for the internal topic ${name} cannot be changed.`);
  }
  if (names.length === 0) return;
  const response = await client.send('controller', ApiKey.CreatePartitions, {
    topics: names.map((name) => ({ name, count: o.partitions!, assignments: null })),
    timeoutMs: 30_000,
    validateOnly: false,
  });
  for (const r of response.results) {
    if (r.errorCode !== ErrorCode.NONE) throw topicError(r.errorCode, r.errorMessage, r.name);
  }
}

async function deleteTopics(client: KafkaClient, o: TopicsOptions): Promise<void> {
  const names = await matchingTopics(client, o);
  for (const name of names) {
    if (client.topic(name)?.isInternal) throw new CliError(`${ERROR_PREFIX}Topic ${name} is a kafka internal topic and is not allowed to be marked for deletion.`);
  }
  if (names.length === 0) return;
  const response = await client.deleteTopics(names);
  for (const r of response.responses) {
    if (r.errorCode !== ErrorCode.NONE) throw topicError(r.errorCode, r.errorMessage, r.name ?? '');
  }
}

export function topicsCommand(io: CommandIo = processIo): Command {
  return defineTopicsOptions(new Command('topics')).action(async (raw: RawTopicsOptions) => {
    await runAction(io, ERROR_PREFIX, async () => runTopics(toTopicsOptions(raw), io));
  });
}
