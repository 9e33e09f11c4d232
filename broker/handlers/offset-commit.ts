// OffsetCommit (key 8), v0-v9, served by the classic group coordinator. v0 commits outside group
// management (generation -1, no member); v1 carries a commit timestamp per partition; v2-v4 a
// retention time (-1: offsets.retention.minutes); v6+ the leader epoch; v7+ group.instance.id.
// Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION; the others are answered once their
// records are in `__consumer_offsets`.
import type { MetadataImage } from '../../controller/metadata/image.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { OffsetCommitResponseTopic } from '../../protocol/generated/message/offset-commit-response.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import type { OffsetCommitEntry } from '../group/group-coordinator.ts';
import { defineHandler } from './api-handler.ts';

export function partitionExists(image: MetadataImage, topic: string, partition: number): boolean {
  const t = image.topicsByName.get(topic);
  return t !== undefined && partition >= 0 && partition < t.partitions.length;
}

export function offsetCommitHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.OffsetCommit,
    async handle(req, rc) {
      const v = rc.apiVersion;
      const coordinator = await readyGroupCoordinator(ctx);
      const image = ctx.metadata.image;
      const out: OffsetCommitResponseTopic[] = req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE })) }));
      const entries: OffsetCommitEntry[] = [];
      const slots: { t: number; p: number }[] = [];
      req.topics.forEach((t, ti) =>
        t.partitions.forEach((p, pi) => {
          if (!partitionExists(image, t.name, p.partitionIndex)) {
            out[ti]!.partitions[pi]!.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
            return;
          }
          entries.push({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: v >= 6 ? (p.committedLeaderEpoch ?? -1) : -1,
            metadata: p.committedMetadata,
            commitTimestamp: v === 1 ? Number(p.commitTimestamp ?? -1n) : undefined,
          });
          slots.push({ t: ti, p: pi });
        }),
      );
      if (entries.length > 0) {
        const errors = await coordinator.commitOffsets({
          groupId: req.groupId,
          memberId: v >= 1 ? (req.memberId ?? '') : '',
          groupInstanceId: v >= 7 ? (req.groupInstanceId ?? null) : null,
          generationId: v >= 1 ? (req.generationIdOrMemberEpoch ?? -1) : -1,
          retentionTimeMs: v >= 2 && v <= 4 ? Number(req.retentionTimeMs ?? -1n) : -1,
          offsets: entries,
        });
        errors.forEach((code, i) => (out[slots[i]!.t]!.partitions[slots[i]!.p]!.errorCode = code));
      }
      return { throttleTimeMs: 0, topics: out };
    },
    errorResponse: (req, err) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: err.errorCode })) })),
    }),
  });
}
