// OffsetCommit (key 8), v0-v9, served by the classic group coordinator. v0 commits outside group
// management (generation -1, no member); v1 carries a commit timestamp per partition; v2-v4 a
// retention time (-1: offsets.retention.minutes); v6+ the leader epoch; v7+ group.instance.id.
// Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION; the others are answered once their
// records are in `__consumer_offsets`.
import type { MetadataImage } from '../../controller/metadata/image.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnTopic, requireGroup } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import type { OffsetCommitEntry } from '../group/group-coordinator.ts';
import { defineHandler } from './api-handler.ts';

export function partitionExists(image: MetadataImage, topic: string, partition: number): boolean {
  const t = image.topicsByName.get(topic);
  return t !== undefined && partition >= 0 && partition < t.partitions.length;
}

interface CommitAnswerTopic {
  name: string;
  partitions: { partitionIndex: number; errorCode: number }[];
}

/** Every partition of `topics` answered with `errorCode` (OffsetCommit and TxnOffsetCommit alike). */
export function commitAnswers(topics: readonly { name: string; partitions: readonly { partitionIndex: number }[] }[], errorCode: number): CommitAnswerTopic[] {
  return topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) }));
}

/**
 * The walk OffsetCommit and TxnOffsetCommit share: the answer with UNKNOWN_TOPIC_OR_PARTITION
 * for partitions the image lacks, the entries of the others, and `settle` putting the
 * coordinator's code for each entry (in entry order) back in its place.
 */
export function commitRequest<P extends { partitionIndex: number }>(
  image: MetadataImage,
  topics: readonly { name: string; partitions: readonly P[] }[],
  topicAllowed: (topic: string) => boolean,
  entryOf: (topic: string, p: P) => OffsetCommitEntry,
): { answer: CommitAnswerTopic[]; entries: OffsetCommitEntry[]; settle(codes: readonly number[]): void } {
  const answer = commitAnswers(topics, ErrorCode.NONE);
  const entries: OffsetCommitEntry[] = [];
  const places: { partition: { errorCode: number } }[] = [];
  topics.forEach((t, ti) =>
    t.partitions.forEach((p, pi) => {
      const place = answer[ti]!.partitions[pi]!;
      if (!topicAllowed(t.name)) {
        place.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        return;
      }
      if (!partitionExists(image, t.name, p.partitionIndex)) {
        place.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        return;
      }
      entries.push(entryOf(t.name, p));
      places.push({ partition: place });
    }),
  );
  return { answer, entries, settle: (codes) => codes.forEach((code, i) => (places[i]!.partition.errorCode = code)) };
}

export function offsetCommitHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.OffsetCommit,
    async handle(req, rc) {
      const v = rc.apiVersion;
      requireGroup(ctx, rc, AclOperation.READ, req.groupId);
      const coordinator = await readyGroupCoordinator(ctx);
      const { answer, entries, settle } = commitRequest(ctx.metadata.image, req.topics, (topic) => allowedOnTopic(ctx, rc, AclOperation.READ, topic), (topic, p) => ({
        topic,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        leaderEpoch: v >= 6 ? (p.committedLeaderEpoch ?? -1) : -1,
        metadata: p.committedMetadata,
        commitTimestamp: v === 1 ? Number(p.commitTimestamp ?? -1n) : undefined,
      }));
      if (entries.length > 0) {
        const errors = await coordinator.commitOffsets({
          groupId: req.groupId,
          memberId: v >= 1 ? (req.memberId ?? '') : '',
          groupInstanceId: v >= 7 ? (req.groupInstanceId ?? null) : null,
          generationId: v >= 1 ? (req.generationIdOrMemberEpoch ?? -1) : -1,
          retentionTimeMs: v >= 2 && v <= 4 ? Number(req.retentionTimeMs ?? -1n) : -1,
          offsets: entries,
        });
        settle(errors);
      }
      return { throttleTimeMs: 0, topics: answer };
    },
    errorResponse: (req, err) => ({ throttleTimeMs: 0, topics: commitAnswers(req.topics, err.errorCode) }),
  });
}
