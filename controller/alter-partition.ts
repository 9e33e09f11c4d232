// AlterPartition (key 56) on the active controller: a partition leader asks to change its ISR
// (shrink a follower that fell behind, add back one that caught up). Pure: decided against one
// image, returning the PartitionChangeRecords to commit and the answer, as Kafka's
// ReplicationControlManager.alterPartition does:
// - the sender must be a registered broker with the epoch it names (else STALE_BROKER_EPOCH for
//   the whole request);
// - per partition: the leader epoch must be the current one (FENCED_LEADER_EPOCH), the sender
//   its leader (INVALID_REQUEST), and the partition epoch the current one (INVALID_UPDATE_VERSION),
//   so a leader acting on an ISR it has not seen change is refused;
// - the new ISR holds the leader, only replicas of the partition (INVALID_REQUEST), and only
//   brokers that are registered, unfenced, not shutting down and (v3+) of the epoch named
//   (INELIGIBLE_REPLICA; OPERATION_NOT_ATTEMPTED before v2, as Kafka answers older senders).
// The answer carries the ISR and the partition epoch the committed record gives (the current
// ones when nothing changes). The ISR change never moves leadership, so the leader epoch stays.
import { ErrorCode } from '../protocol/errors.ts';
import type { AlterPartitionRequest } from '../protocol/generated/message/alter-partition-request.ts';
import type { AlterPartitionResponse, PartitionData as PartitionAnswer, TopicData as TopicAnswer } from '../protocol/generated/message/alter-partition-response.ts';
import { MetadataRecordType } from '../protocol/generated/metadata-records.ts';
import type { ControllerResult } from './controller-result.ts';
import type { MetadataImage, PartitionImage } from './metadata/image.ts';
import { type MetadataRecord, record } from './metadata/record-serde.ts';

/** The version brokers send (topic ids, ISR members with their broker epochs). */
export const ALTER_PARTITION_VERSION = 3;

interface RequestedReplica {
  brokerId: number;
  brokerEpoch: bigint;
}

function answerOf(index: number, errorCode: number, p?: PartitionImage): PartitionAnswer {
  return {
    partitionIndex: index,
    errorCode,
    leaderId: p?.leader ?? -1,
    leaderEpoch: p?.leaderEpoch ?? -1,
    isr: p ? [...p.isr] : [],
    leaderRecoveryState: p?.leaderRecoveryState ?? 0,
    partitionEpoch: p?.partitionEpoch ?? -1,
  };
}

function ineligible(image: MetadataImage, r: RequestedReplica): boolean {
  const b = image.brokers.get(r.brokerId);
  if (!b || b.fenced || b.inControlledShutdown) return true;
  return r.brokerEpoch !== -1n && b.epoch !== r.brokerEpoch;
}

/** Decides one AlterPartition request (`version` is the request's, for its field layout). */
export function alterPartition(image: MetadataImage, req: AlterPartitionRequest, version: number): ControllerResult<AlterPartitionResponse> {
  const sender = image.brokers.get(req.brokerId);
  if (!sender || (req.brokerEpoch !== -1n && sender.epoch !== req.brokerEpoch)) {
    return { records: [], response: { throttleTimeMs: 0, errorCode: ErrorCode.STALE_BROKER_EPOCH, topics: [] } };
  }
  const records: MetadataRecord[] = [];
  const topics: TopicAnswer[] = [];
  for (const t of req.topics) {
    const topic = version >= 2 ? image.topicsById.get(t.topicId ?? '') : image.topicsByName.get(t.topicName ?? '');
    const answer: TopicAnswer = version >= 2 ? { topicId: t.topicId ?? '', partitions: [] } : { topicName: t.topicName ?? '', partitions: [] };
    topics.push(answer);
    for (const pd of t.partitions) {
      if (!topic) {
        answer.partitions.push(answerOf(pd.partitionIndex, version >= 2 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        continue;
      }
      const p = topic.partitions[pd.partitionIndex];
      if (!p) {
        answer.partitions.push(answerOf(pd.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        continue;
      }
      const fail = (code: number) => answer.partitions.push(answerOf(pd.partitionIndex, code));
      if (pd.leaderEpoch !== p.leaderEpoch) {
        fail(ErrorCode.FENCED_LEADER_EPOCH);
        continue;
      }
      if (p.leader !== req.brokerId) {
        fail(ErrorCode.INVALID_REQUEST);
        continue;
      }
      if (pd.partitionEpoch !== p.partitionEpoch) {
        fail(ErrorCode.INVALID_UPDATE_VERSION);
        continue;
      }
      const requested: RequestedReplica[] = version >= 3 ? (pd.newIsrWithEpochs ?? []).map((s) => ({ brokerId: s.brokerId, brokerEpoch: s.brokerEpoch })) : (pd.newIsr ?? []).map((id) => ({ brokerId: id, brokerEpoch: -1n }));
      const newIsr = requested.map((r) => r.brokerId);
      if (!newIsr.includes(p.leader) || new Set(newIsr).size !== newIsr.length || newIsr.some((id) => !p.replicas.includes(id))) {
        fail(ErrorCode.INVALID_REQUEST);
        continue;
      }
      if (requested.some((r) => r.brokerId !== p.leader && ineligible(image, r))) {
        fail(version >= 2 ? ErrorCode.INELIGIBLE_REPLICA : ErrorCode.OPERATION_NOT_ATTEMPTED);
        continue;
      }
      const same = newIsr.length === p.isr.length && newIsr.every((id) => p.isr.includes(id));
      if (same) {
        answer.partitions.push(answerOf(pd.partitionIndex, ErrorCode.NONE, p));
        continue;
      }
      // The ISR in replica order, as the image keeps it.
      const isr = p.replicas.filter((id) => newIsr.includes(id));
      records.push(
        record(MetadataRecordType.PartitionChangeRecord, {
          partitionId: p.partition,
          topicId: topic.id,
          leader: -2,
          isr,
          replicas: null,
          removingReplicas: null,
          addingReplicas: null,
          leaderRecoveryState: -1,
        }),
      );
      answer.partitions.push(answerOf(pd.partitionIndex, ErrorCode.NONE, { ...p, isr, partitionEpoch: p.partitionEpoch + 1 }));
    }
  }
  return { records, response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics } };
}
