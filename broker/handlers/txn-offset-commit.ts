// TxnOffsetCommit (key 28), v0-v4: offsets committed inside a producer's transaction, written to
// `__consumer_offsets` as part of it and visible to OffsetFetch only once the transaction commits
// (dropped when it aborts). v2+ carries the leader epoch; v3+ the group generation, member id and
// group.instance.id (KIP-447), checked as for OffsetCommit. Partitions of unknown topics get
// UNKNOWN_TOPIC_OR_PARTITION; clients before v3 get INVALID_PRODUCER_EPOCH for PRODUCER_FENCED.
// Kafka 3.9 may first verify with the transaction coordinator that the group's partition is in
// the transaction (KIP-890); this broker does not.
import { ErrorCode, type KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { TxnOffsetCommitResponseTopic } from '../../protocol/generated/message/txn-offset-commit-response.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import type { OffsetCommitEntry } from '../group/group-coordinator.ts';
import { defineHandler } from './api-handler.ts';
import { partitionExists } from './offset-commit.ts';

export function txnOffsetCommitHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.TxnOffsetCommit,
    async handle(req, rc) {
      const v = rc.apiVersion;
      const coordinator = await readyGroupCoordinator(ctx);
      const image = ctx.metadata.image;
      const out: TxnOffsetCommitResponseTopic[] = req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE })) }));
      const entries: OffsetCommitEntry[] = [];
      const slots: { t: number; p: number }[] = [];
      req.topics.forEach((t, ti) =>
        t.partitions.forEach((p, pi) => {
          if (!partitionExists(image, t.name, p.partitionIndex)) {
            out[ti]!.partitions[pi]!.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
            return;
          }
          entries.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: v >= 2 ? (p.committedLeaderEpoch ?? -1) : -1, metadata: p.committedMetadata });
          slots.push({ t: ti, p: pi });
        }),
      );
      if (entries.length > 0) {
        const errors = await coordinator.commitTxnOffsets({
          transactionalId: req.transactionalId,
          groupId: req.groupId,
          producerId: req.producerId,
          producerEpoch: req.producerEpoch,
          generationId: v >= 3 ? (req.generationId ?? -1) : -1,
          memberId: v >= 3 ? (req.memberId ?? '') : '',
          groupInstanceId: v >= 3 ? (req.groupInstanceId ?? null) : null,
          offsets: entries,
        });
        errors.forEach((code, i) => {
          out[slots[i]!.t]!.partitions[slots[i]!.p]!.errorCode = code === ErrorCode.PRODUCER_FENCED && v < 3 ? ErrorCode.INVALID_PRODUCER_EPOCH : code;
        });
      }
      return { throttleTimeMs: 0, topics: out };
    },
    errorResponse: (req, err: KafkaError) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: err.errorCode })) })),
    }),
  });
}
