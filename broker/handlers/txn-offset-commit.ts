// TxnOffsetCommit (key 28), v0-v4: offsets committed inside a producer's transaction, written to
// `__consumer_offsets` as part of it and visible to OffsetFetch only once the transaction commits
// (dropped when it aborts). v2+ carries the leader epoch; v3+ the group generation, member id and
// group.instance.id (KIP-447), checked as for OffsetCommit. Partitions of unknown topics get
// UNKNOWN_TOPIC_OR_PARTITION; clients before v3 get INVALID_PRODUCER_EPOCH for PRODUCER_FENCED.
// Kafka 3.9 may first verify with the transaction coordinator that the group's partition is in
// the transaction (KIP-890); this broker does not.
import { ErrorCode, type KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnTopic, requireGroup, requireTransactionalId } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import { defineHandler } from './api-handler.ts';
import { commitAnswers, commitRequest } from './offset-commit.ts';

export function txnOffsetCommitHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.TxnOffsetCommit,
    async handle(req, rc) {
      const v = rc.apiVersion;
      requireTransactionalId(ctx, rc, AclOperation.WRITE, req.transactionalId);
      requireGroup(ctx, rc, AclOperation.READ, req.groupId);
      const coordinator = await readyGroupCoordinator(ctx);
      const { answer, entries, settle } = commitRequest(ctx.metadata.image, req.topics, (topic) => allowedOnTopic(ctx, rc, AclOperation.READ, topic), (topic, p) => ({
        topic,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        leaderEpoch: v >= 2 ? (p.committedLeaderEpoch ?? -1) : -1,
        metadata: p.committedMetadata,
      }));
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
        // Before v3 clients know INVALID_PRODUCER_EPOCH, not PRODUCER_FENCED.
        settle(errors.map((code) => (code === ErrorCode.PRODUCER_FENCED && v < 3 ? ErrorCode.INVALID_PRODUCER_EPOCH : code)));
      }
      return { throttleTimeMs: 0, topics: answer };
    },
    errorResponse: (req, err: KafkaError) => ({ throttleTimeMs: 0, topics: commitAnswers(req.topics, err.errorCode) }),
  });
}
