// DescribeProducers (key 61), v0: the producers this broker's replica of each partition knows
// (producer id, epoch, last sequence, last timestamp, coordinator epoch, first offset of the open
// transaction or -1), as Kafka's Partition.activeProducerState. As in Kafka, any hosting replica
// answers (admin clients ask the leader unless told a broker id): UNKNOWN_TOPIC_OR_PARTITION for
// a partition not in the metadata, NOT_LEADER_OR_FOLLOWER for one this broker does not host,
// KAFKA_STORAGE_ERROR when its log is offline.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { PartitionResponse, ProducerState } from '../../protocol/generated/message/describe-producers-response.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnTopic } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import type { Partition } from '../replica/partition.ts';
import { defineHandler } from './api-handler.ts';

function errorPartition(partitionIndex: number, errorCode: number): PartitionResponse {
  return { partitionIndex, errorCode, errorMessage: null, activeProducers: [] };
}

/** The producer entries of a partition in Kafka's DescribeProducers shape, by producer id. */
export function activeProducers(partition: Partition): ProducerState[] {
  const ps = partition.producerState;
  const out: ProducerState[] = [];
  for (const e of ps.entries()) {
    const written = e.batches.filter((b) => b.firstOffset >= 0);
    out.push({
      producerId: e.producerId,
      producerEpoch: e.producerEpoch,
      lastSequence: written.at(-1)?.lastSeq ?? -1,
      lastTimestamp: BigInt(e.lastTimestamp),
      coordinatorEpoch: e.coordinatorEpoch,
      currentTxnStartOffset: BigInt(ps.ongoingTxnFirstOffset(e.producerId)),
    });
  }
  return out.sort((a, b) => (a.producerId < b.producerId ? -1 : a.producerId > b.producerId ? 1 : 0));
}

export function describeProducersHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DescribeProducers,
    handle(req, rc) {
      const image = ctx.metadata.image;
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((index): PartitionResponse => {
            if (!allowedOnTopic(ctx, rc, AclOperation.READ, t.name)) return errorPartition(index, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            const topic = image.topicsByName.get(t.name);
            if (!topic || index < 0 || index >= topic.partitions.length) return errorPartition(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            const partition = ctx.replicaManager.getPartition(t.name, index);
            if (!partition) return errorPartition(index, ErrorCode.NOT_LEADER_OR_FOLLOWER);
            if (partition.log.isOffline) return errorPartition(index, ErrorCode.KAFKA_STORAGE_ERROR);
            return { partitionIndex: index, errorCode: ErrorCode.NONE, errorMessage: null, activeProducers: activeProducers(partition) };
          }),
        })),
      };
    },
    errorResponse: (req, err) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((i) => errorPartition(i, err.errorCode)) })),
    }),
  });
}
