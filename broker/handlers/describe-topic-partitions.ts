// DescribeTopicPartitions (key 75), v0 (KIP-966): topics by name in name order (all topics when
// the list is empty, leaving out unknown ones), partitions from the cursor's, at most
// responsePartitionLimit partitions in all (capped by Kafka's max.request.partition.size.limit,
// 2000, and at least 1), with nextCursor where the next page starts. Partitions carry leader,
// epoch, replicas, ISR, offline replicas and the ELR fields (empty: this cluster does not run
// eligible leader replicas). A cursor topic missing from the list, or a negative cursor
// partition, is INVALID_REQUEST for the whole request, as in Kafka.
import type { MetadataImage, TopicImage } from '../../controller/metadata/image.ts';
import { INTERNAL_TOPICS, topicNameProblem } from '../../controller/topic-names.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type {
  Cursor,
  DescribeTopicPartitionsResponsePartition,
  DescribeTopicPartitionsResponseTopic,
} from '../../protocol/generated/message/describe-topic-partitions-response.ts';
import { ZERO_UUID } from '../../protocol/uuid.ts';
import type { BrokerContext } from '../broker-context.ts';
import { OPERATIONS_NOT_REQUESTED, TOPIC_OPERATIONS } from './acl-operations.ts';
import { defineHandler } from './api-handler.ts';
import { brokersOnListener } from './metadata.ts';

/** Kafka's max.request.partition.size.limit default. */
export const MAX_REQUEST_PARTITION_SIZE_LIMIT = 2000;

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function describePartitions(image: MetadataImage, t: TopicImage, reachable: ReadonlySet<number>, start: number, max: number): DescribeTopicPartitionsResponsePartition[] {
  const out: DescribeTopicPartitionsResponsePartition[] = [];
  const end = Math.min(t.partitions.length, start + max);
  for (let i = start; i < end; i++) {
    const p = t.partitions[i]!;
    out.push({
      errorCode: ErrorCode.NONE,
      partitionIndex: p.partition,
      leaderId: reachable.has(p.leader) ? p.leader : -1,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [...p.replicas],
      isrNodes: [...p.isr],
      eligibleLeaderReplicas: [],
      lastKnownElr: [],
      offlineReplicas: p.replicas.filter((r) => !image.brokers.has(r) || image.brokers.get(r)!.fenced),
    });
  }
  return out;
}

export function describeTopicPartitionsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DescribeTopicPartitions,
    handle(req, rc) {
      const image = ctx.metadata.image;
      const all = req.topics.length === 0;
      const cursor = req.cursor;
      const from = cursor?.topicName ?? '';
      const names = new Set<string>();
      for (const n of all ? image.topicsByName.keys() : req.topics.map((t) => t.name)) if (byCodeUnits(n, from) >= 0) names.add(n);
      if (!all && cursor && !names.has(cursor.topicName)) {
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `DescribeTopicPartitionsRequest topic list should contain the cursor topic: ${cursor.topicName}`);
      }
      if (cursor && cursor.partitionIndex < 0) {
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `DescribeTopicPartitionsRequest cursor partition must be valid: (topicName=${cursor.topicName}, partitionIndex=${cursor.partitionIndex})`);
      }
      const reachable = new Set(brokersOnListener(image, rc.listenerName).map((b) => b.nodeId));
      let remaining = Math.max(Math.min(MAX_REQUEST_PARTITION_SIZE_LIMIT, req.responsePartitionLimit), 1);
      const topics: DescribeTopicPartitionsResponseTopic[] = [];
      let nextCursor: Cursor | null = null;
      for (const name of [...names].sort(byCodeUnits)) {
        if (remaining === 0) {
          nextCursor = { topicName: name, partitionIndex: 0 };
          break;
        }
        const t = image.topicsByName.get(name);
        if (!t) {
          if (!all) {
            topics.push({
              errorCode: topicNameProblem(name) ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              name,
              topicId: ZERO_UUID,
              isInternal: INTERNAL_TOPICS.has(name),
              partitions: [],
              topicAuthorizedOperations: TOPIC_OPERATIONS,
            });
          }
          continue;
        }
        const start = cursor && name === cursor.topicName ? cursor.partitionIndex : 0;
        const partitions = describePartitions(image, t, reachable, start, remaining);
        topics.push({ errorCode: ErrorCode.NONE, name, topicId: t.id, isInternal: INTERNAL_TOPICS.has(name), partitions, topicAuthorizedOperations: TOPIC_OPERATIONS });
        const upper = Math.min(t.partitions.length, start + remaining);
        if (upper < t.partitions.length) {
          nextCursor = { topicName: name, partitionIndex: upper };
          break;
        }
        remaining -= partitions.length;
      }
      return { throttleTimeMs: 0, topics, nextCursor };
    },
    errorResponse: (req, err) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ errorCode: err.errorCode, name: t.name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: OPERATIONS_NOT_REQUESTED })),
      nextCursor: null,
    }),
  });
}
