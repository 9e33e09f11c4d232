// Topic creation, partition growth and deletion, decided against one metadata image.
// Pure: each function returns the records to commit and the per-topic answers; the quorum
// controller commits the records, and the answers hold only once they are committed.
import { ErrorCode } from '../protocol/errors.ts';
import { MetadataRecordType } from '../protocol/generated/metadata-records.ts';
import { randomUuid, ZERO_UUID } from '../protocol/uuid.ts';
import type { ControllerResult } from './controller-result.ts';
import { ConfigResourceType, liveBrokers, type MetadataImage } from './metadata/image.ts';
import { type MetadataRecord, record } from './metadata/record-serde.ts';
import { hasCollisionChars, topicNameProblem, unifyCollisionChars } from './topic-names.ts';

export interface TopicOutcome {
  errorCode: number;
  errorMessage: string | null;
}

export interface CreateTopicInput {
  name: string;
  /** -1: the broker default. */
  numPartitions: number;
  /** -1: the broker default. */
  replicationFactor: number;
  /** Explicit replica lists by partition index; empty for automatic placement. */
  assignments: { partitionIndex: number; brokerIds: number[] }[];
  configs: { name: string; value: string | null }[];
}

export interface CreateTopicOutcome extends TopicOutcome {
  name: string;
  topicId: string;
  numPartitions: number;
  replicationFactor: number;
}

export interface TopicDefaults {
  numPartitions: number;
  defaultReplicationFactor: number;
  /** Problems with a topic's config overrides, as Kafka's INVALID_CONFIG messages; empty when fine. */
  validateConfigs(configs: ReadonlyMap<string, string>): string[];
  /** Chooses where replicas go; defaults to striping over live brokers. */
  random?: () => number;
}

/** As Kafka's controller: one request creates at most this many partitions in all. */
export const MAX_PARTITIONS_PER_REQUEST = 10_000;
const TOO_MANY_PARTITIONS = 'Excessively large number of partitions per request.';

const ok = (): TopicOutcome => ({ errorCode: ErrorCode.NONE, errorMessage: null });
const fail = (errorCode: number, errorMessage: string): TopicOutcome => ({ errorCode, errorMessage });

/**
 * Replica lists for `count` new partitions numbered from `first`: brokers taken round-robin from a
 * random start, so leaders spread over the cluster as Kafka's striped placer does.
 */
export function placeReplicas(brokerIds: readonly number[], first: number, count: number, rf: number, random: () => number = Math.random): number[][] {
  const n = brokerIds.length;
  const start = Math.floor(random() * n);
  const out: number[][] = [];
  for (let p = first; p < first + count; p++) {
    const replicas: number[] = [];
    for (let i = 0; i < rf; i++) replicas.push(brokerIds[(start + p + i) % n]!);
    out.push(replicas);
  }
  return out;
}

function partitionRecords(topicId: string, first: number, replicaLists: number[][]): MetadataRecord[] {
  return replicaLists.map((replicas, i) =>
    record(MetadataRecordType.PartitionRecord, {
      partitionId: first + i,
      topicId,
      replicas,
      isr: replicas,
      removingReplicas: [],
      addingReplicas: [],
      leader: replicas[0]!,
      leaderRecoveryState: 0,
      leaderEpoch: 0,
      partitionEpoch: 0,
      directories: replicas.map(() => ZERO_UUID),
    }),
  );
}

function checkAssignment(image: MetadataImage, lists: number[][], what: string): TopicOutcome {
  const rf = lists[0]?.length ?? 0;
  for (const [i, ids] of lists.entries()) {
    if (ids.length === 0) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes an empty replica list.`);
    if (ids.length !== rf) {
      return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes a partition with ${ids.length} replica(s), but this is not consistent with previous partitions, which have ${rf} replica(s).`);
    }
    if (new Set(ids).size !== ids.length) {
      return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes the broker ${ids.find((b, j) => ids.indexOf(b) !== j)} more than once.`);
    }
    for (const b of ids) {
      if (!image.brokers.has(b)) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${b}, but no such broker is registered (${what} ${i}).`);
    }
  }
  return ok();
}

export function createTopics(image: MetadataImage, topics: readonly CreateTopicInput[], defaults: TopicDefaults, validateOnly: boolean): ControllerResult<CreateTopicOutcome[]> {
  const records: MetadataRecord[] = [];
  const response: CreateTopicOutcome[] = [];
  const seen = new Map<string, number>();
  for (const t of topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
  const live = liveBrokers(image).map((b) => b.id);
  const createdCollisions = new Set<string>();
  let budget = MAX_PARTITIONS_PER_REQUEST;
  for (const t of topics) {
    const out: CreateTopicOutcome = { name: t.name, topicId: ZERO_UUID, numPartitions: -1, replicationFactor: -1, ...ok() };
    response.push(out);
    const set = (o: TopicOutcome): void => {
      out.errorCode = o.errorCode;
      out.errorMessage = o.errorMessage;
    };
    if (seen.get(t.name)! > 1) {
      set(fail(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'));
      continue;
    }
    const problem = topicNameProblem(t.name);
    if (problem) {
      set(fail(ErrorCode.INVALID_TOPIC_EXCEPTION, problem));
      continue;
    }
    if (image.topicsByName.has(t.name)) {
      set(fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`));
      continue;
    }
    if (hasCollisionChars(t.name)) {
      const unified = unifyCollisionChars(t.name);
      const clash = [...image.topicsByName.keys()].find((n) => unifyCollisionChars(n) === unified);
      if (clash || createdCollisions.has(unified)) {
        set(fail(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${t.name}' collides with existing topic: ${clash ?? unified}`));
        continue;
      }
    }
    const configMap = new Map<string, string>();
    let nullConfig: string | null = null;
    for (const c of t.configs) {
      if (c.value === null) nullConfig = c.name;
      else configMap.set(c.name, c.value);
    }
    if (nullConfig !== null) {
      set(fail(ErrorCode.INVALID_CONFIG, `Null value not supported for topic configs: ${nullConfig}`));
      continue;
    }
    const configProblems = defaults.validateConfigs(configMap);
    if (configProblems.length > 0) {
      set(fail(ErrorCode.INVALID_CONFIG, configProblems.join('; ')));
      continue;
    }
    let replicaLists: number[][];
    if (t.assignments.length > 0) {
      if (t.numPartitions !== -1) {
        set(fail(ErrorCode.INVALID_REQUEST, 'A manual partition assignment was specified, but numPartitions was not set to -1.'));
        continue;
      }
      if (t.replicationFactor !== -1) {
        set(fail(ErrorCode.INVALID_REQUEST, 'A manual partition assignment was specified, but replicationFactor was not set to -1.'));
        continue;
      }
      const byIndex = [...t.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
      if (byIndex.some((a, i) => a.partitionIndex !== i)) {
        set(fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes a partition index that is not consecutive from 0.'));
        continue;
      }
      replicaLists = byIndex.map((a) => a.brokerIds);
      const check = checkAssignment(image, replicaLists, 'partition');
      if (check.errorCode !== ErrorCode.NONE) {
        set(check);
        continue;
      }
    } else {
      const partitions = t.numPartitions === -1 ? defaults.numPartitions : t.numPartitions;
      const rf = t.replicationFactor === -1 ? defaults.defaultReplicationFactor : t.replicationFactor;
      if (partitions <= 0) {
        set(fail(ErrorCode.INVALID_PARTITIONS, `Number of partitions was set to an invalid non-positive value.`));
        continue;
      }
      if (rf <= 0) {
        set(fail(ErrorCode.INVALID_REPLICATION_FACTOR, `Replication factor must be larger than 0, or -1 to use the default value.`));
        continue;
      }
      if (partitions > budget) {
        set(fail(ErrorCode.POLICY_VIOLATION, TOO_MANY_PARTITIONS));
        continue;
      }
      if (rf > live.length) {
        set(
          fail(
            ErrorCode.INVALID_REPLICATION_FACTOR,
            `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${live.length} broker(s) are registered.`,
          ),
        );
        continue;
      }
      replicaLists = placeReplicas(live, 0, partitions, rf, defaults.random);
    }
    if (replicaLists.length > budget) {
      set(fail(ErrorCode.POLICY_VIOLATION, TOO_MANY_PARTITIONS));
      continue;
    }
    budget -= replicaLists.length;
    out.numPartitions = replicaLists.length;
    out.replicationFactor = replicaLists[0]!.length;
    if (hasCollisionChars(t.name)) createdCollisions.add(unifyCollisionChars(t.name));
    if (validateOnly) continue;
    const topicId = randomUuid();
    out.topicId = topicId;
    records.push(record(MetadataRecordType.TopicRecord, { name: t.name, topicId }));
    for (const [name, value] of configMap) {
      records.push(record(MetadataRecordType.ConfigRecord, { resourceType: ConfigResourceType.Topic, resourceName: t.name, name, value }));
    }
    records.push(...partitionRecords(topicId, 0, replicaLists));
  }
  return { records, response };
}

export interface CreatePartitionsInput {
  name: string;
  count: number;
  assignments: { brokerIds: number[] }[] | null;
}

export function createPartitions(image: MetadataImage, topics: readonly CreatePartitionsInput[], validateOnly: boolean, random?: () => number): ControllerResult<(TopicOutcome & { name: string })[]> {
  const records: MetadataRecord[] = [];
  const response: (TopicOutcome & { name: string })[] = [];
  const seen = new Map<string, number>();
  for (const t of topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
  const live = liveBrokers(image).map((b) => b.id);
  let budget = MAX_PARTITIONS_PER_REQUEST;
  for (const t of topics) {
    const answer = (o: TopicOutcome): void => void response.push({ name: t.name, ...o });
    if (seen.get(t.name)! > 1) {
      answer(fail(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'));
      continue;
    }
    const topic = image.topicsByName.get(t.name);
    if (!topic) {
      answer(fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `This server does not host this topic-partition.`));
      continue;
    }
    const current = topic.partitions.length;
    if (t.count < current) {
      answer(fail(ErrorCode.INVALID_PARTITIONS, `The topic ${t.name} currently has ${current} partition(s); ${t.count} would not be an increase.`));
      continue;
    }
    if (t.count === current) {
      answer(fail(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`));
      continue;
    }
    const added = t.count - current;
    if (added > budget) {
      answer(fail(ErrorCode.POLICY_VIOLATION, TOO_MANY_PARTITIONS));
      continue;
    }
    const rf = topic.partitions[0]?.replicas.length ?? 1;
    let lists: number[][];
    if (t.assignments) {
      if (t.assignments.length !== added) {
        answer(fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Attempted to add ${added} additional partition(s), but only ${t.assignments.length} assignment(s) were specified.`));
        continue;
      }
      lists = t.assignments.map((a) => a.brokerIds);
      const check = checkAssignment(image, lists, 'new partition');
      if (check.errorCode === ErrorCode.NONE && lists[0]!.length !== rf) {
        check.errorCode = ErrorCode.INVALID_REPLICA_ASSIGNMENT;
        check.errorMessage = `The manual partition assignment includes a partition with ${lists[0]!.length} replica(s), but this is not consistent with previous partitions, which have ${rf} replica(s).`;
      }
      if (check.errorCode !== ErrorCode.NONE) {
        answer(check);
        continue;
      }
    } else {
      if (rf > live.length) {
        answer(fail(ErrorCode.INVALID_REPLICATION_FACTOR, `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${live.length} broker(s) are registered.`));
        continue;
      }
      lists = placeReplicas(live, current, added, rf, random);
    }
    budget -= added;
    answer(ok());
    if (!validateOnly) records.push(...partitionRecords(topic.id, current, lists));
  }
  return { records, response };
}

export interface DeleteTopicInput {
  name: string | null;
  topicId: string;
}

export interface DeleteTopicOutcome extends TopicOutcome {
  name: string | null;
  topicId: string;
}

export function deleteTopics(image: MetadataImage, topics: readonly DeleteTopicInput[], deleteEnabled: boolean): ControllerResult<DeleteTopicOutcome[]> {
  const records: MetadataRecord[] = [];
  const response: DeleteTopicOutcome[] = [];
  const removed = new Set<string>();
  for (const t of topics) {
    const byName = t.name !== null && t.name !== '';
    const topic = byName ? image.topicsByName.get(t.name!) : image.topicsById.get(t.topicId);
    const out: DeleteTopicOutcome = { name: topic?.name ?? t.name, topicId: topic?.id ?? t.topicId, ...ok() };
    response.push(out);
    if (byName && t.topicId !== ZERO_UUID) {
      Object.assign(out, fail(ErrorCode.INVALID_REQUEST, 'Topic name and topic id cannot both be set.'));
    } else if (!deleteEnabled) {
      Object.assign(out, fail(ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.'));
    } else if (!topic) {
      Object.assign(out, byName ? fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.') : fail(ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.'));
    } else if (!removed.has(topic.id)) {
      removed.add(topic.id);
      records.push(record(MetadataRecordType.RemoveTopicRecord, { topicId: topic.id }));
    }
  }
  return { records, response };
}
